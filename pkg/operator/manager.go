package operator

import (
	"context"
	"fmt"
	"sync"
	"time"

	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"

	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/events"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/metrics"
)

// Manager is what an operator's Setup gets: clients, informer factories scoped to the watched
// namespaces, metrics, an event recorder and a place to register controllers.
type Manager struct {
	Options      *Options
	Config       *rest.Config
	Kube         kubernetes.Interface
	Kafkaplane   versioned.Interface
	Metadata     metadata.Interface
	Namespaces   informers.Namespaces
	Metrics      *metrics.Registry
	Recorder     events.Recorder
	FieldManager string

	// Informer factories, one per watched namespace. Informers obtained from them before Setup
	// returns are started by Run. Cached objects have their managedFields stripped; Kafkaplane
	// resources are filtered by --resource-labels.
	KafkaplaneInformers *informers.PerNamespace[kpinformers.SharedInformerFactory]
	KubeInformers       *informers.PerNamespace[kubeinformers.SharedInformerFactory]
	MetadataInformers   *informers.PerNamespace[metadatainformer.SharedInformerFactory]

	mu            sync.Mutex
	stopInformers []context.CancelFunc
	labelled      []*informers.PerNamespace[kubeinformers.SharedInformerFactory] // label-filtered factories
	// label-filtered metadata factories
	secretsMetadata []*informers.PerNamespace[metadatainformer.SharedInformerFactory]
	controllers     []*controller.Controller
	caches          []*informers.Multi
	runnables       []func(ctx context.Context)
}

// NewManager builds a Manager for the options, with clients for cfg. Run does this; tests may too.
func NewManager(o *Options, cfg *rest.Config, reg *metrics.Registry) (*Manager, error) {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, wrap("creating Kubernetes client", err)
	}
	kp, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, wrap("creating Kafkaplane client", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, wrap("creating metadata client", err)
	}
	ns := o.Namespaces()
	m := &Manager{
		Options: o, Config: cfg, Kube: kube, Kafkaplane: kp, Metadata: md,
		Namespaces: ns, Metrics: reg, FieldManager: "kafkaplane-" + o.Binary,
	}
	m.KafkaplaneInformers = informers.NewPerNamespace(ns, func(namespace string) kpinformers.SharedInformerFactory {
		return kpinformers.NewSharedInformerFactoryWithOptions(kp, 0,
			kpinformers.WithNamespace(namespace), kpinformers.WithTransform(informers.StripManagedFields),
			kpinformers.WithTweakListOptions(m.tweakResources))
	})
	m.KubeInformers = informers.NewPerNamespace(ns, func(namespace string) kubeinformers.SharedInformerFactory {
		return kubeinformers.NewSharedInformerFactoryWithOptions(kube, 0,
			kubeinformers.WithNamespace(namespace), kubeinformers.WithTransform(informers.StripManagedFields))
	})
	m.MetadataInformers = informers.NewPerNamespace(ns, func(namespace string) metadatainformer.SharedInformerFactory {
		return metadatainformer.NewFilteredSharedInformerFactory(md, 0, namespace, nil)
	})
	return m, nil
}

// AddController registers a controller; it runs while this replica leads.
func (m *Manager) AddController(c *controller.Controller) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.controllers = append(m.controllers, c)
}

// AddRunnable registers a function that runs while this replica leads, until its context ends.
func (m *Manager) AddRunnable(fn func(ctx context.Context)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runnables = append(m.runnables, fn)
}

// WaitFor registers informers whose caches must sync before the binary is ready and before any
// controller starts.
func (m *Manager) WaitFor(ms ...*informers.Multi) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.caches = append(m.caches, ms...)
}

// StartInformers starts every informer obtained so far. They run until ShutdownInformers.
func (m *Manager) StartInformers(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	m.mu.Lock()
	m.stopInformers = append(m.stopInformers, cancel)
	m.mu.Unlock()
	m.KafkaplaneInformers.Start(ctx)
	m.KubeInformers.Start(ctx)
	m.MetadataInformers.Start(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.labelled {
		p.Start(ctx)
	}
	for _, p := range m.secretsMetadata {
		p.Start(ctx)
	}
}

// ShutdownInformers stops every informer and waits for them.
func (m *Manager) ShutdownInformers() {
	m.mu.Lock()
	for _, cancel := range m.stopInformers {
		cancel()
	}
	m.stopInformers = nil
	m.mu.Unlock()
	m.KafkaplaneInformers.Shutdown()
	m.KubeInformers.Shutdown()
	m.MetadataInformers.Shutdown()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.labelled {
		p.Shutdown()
	}
	for _, p := range m.secretsMetadata {
		p.Shutdown()
	}
}

// healthy is the liveness check: it fails when a controller's reconcile has run longer than
// stall (a wedged worker), or when the lease was lost more than stall ago (lostAt, zero when it
// was not) and the process is still here — it should have exited.
func (m *Manager) healthy(stall time.Duration, lostAt, now time.Time) error {
	if lostAt.UnixNano() > 0 && now.Sub(lostAt) > stall {
		return fmt.Errorf("the leader election lease was lost %s ago and the process has not exited", now.Sub(lostAt).Round(time.Second))
	}
	m.mu.Lock()
	cs := m.controllers
	m.mu.Unlock()
	for _, c := range cs {
		if err := c.Stalled(stall, now); err != nil {
			return err
		}
	}
	return nil
}

// runControllers runs every registered controller and runnable until ctx ends and all have
// stopped.
func (m *Manager) runControllers(ctx context.Context) {
	m.mu.Lock()
	cs, rs := m.controllers, m.runnables
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() { c.Run(ctx) })
	}
	for _, r := range rs {
		wg.Go(func() { r(ctx) })
	}
	wg.Wait()
}

// ReportManaged sets the managed-resources gauge of a controller to the size of its cache every
// 10 seconds while this replica leads.
func (m *Manager) ReportManaged(controller string, cache *informers.Multi) {
	m.AddRunnable(func(ctx context.Context) {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			m.Metrics.Controller.Managed.WithLabelValues(controller).Set(float64(len(cache.Keys())))
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}
