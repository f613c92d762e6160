// Package kubelet is a simulated kubelet for tests and the sandbox: it registers nodes with
// zone and region labels and keeps them Ready, moves the pods the real scheduler bound to them to
// Running with a Pod IP and Ready conditions, provisions, binds and resizes PVCs, gives
// LoadBalancer services an ingress address, and injects faults on demand. Pods whose image a
// Runner handles (our operators) really run, as local processes.
package kubelet

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/controller"
)

// FaultAnnotation on a pod injects a fault: "fail" (phase Failed), "crashloop" (the container
// restarts and waits in CrashLoopBackOff), "notready" (running but not Ready) or "netcut" (a
// real-Kafka pod's link down: the process runs, cut off from every peer). Removing it heals the
// pod. It is the simulator's, not a product annotation.
const FaultAnnotation = "sim.kafkaplane.io/fault"

// StorageClassName is the default StorageClass the simulator provisions volumes for.
const StorageClassName = "standard"

// Provisioner is the provisioner name of StorageClassName.
const Provisioner = "sim.kafkaplane.io/volumes"

// Runner runs the pods it handles as real processes.
type Runner interface {
	// Handles reports whether the pod is one the runner runs (by image).
	Handles(pod *corev1.Pod) bool
	// Start starts the pod's main container as a process bound to ip.
	Start(ctx context.Context, pod *corev1.Pod, ip string) (Running, error)
}

// Running is a pod process.
type Running interface {
	// Done is closed when the process exits.
	Done() <-chan struct{}
	// Ready reports the pod's readiness (its readiness probe, or running when it has none).
	Ready(ctx context.Context) bool
	// Stop ends the process.
	Stop()
}

// PodNetwork is a Runner that gives the pods it handles their own IP (a network namespace):
// the kubelet reports it as the pod's IP.
type PodNetwork interface {
	PodIP(ctx context.Context, pod *corev1.Pod) (string, error)
}

// Sandboxes is a Runner that keeps state per pod across container restarts (its network
// namespace, emptyDirs): Release ends it once the pod is gone.
type Sandboxes interface {
	Release(uid types.UID)
}

// Exited is a Running that reports how its process ended, once Done is closed.
type Exited interface {
	Exit() ExitStatus
}

// ExitStatus is how a container ended, as the pod status reports it.
type ExitStatus struct {
	Code                  int32
	Reason, Message       string
	StartedAt, FinishedAt time.Time
}

// StartError is a container that could not be created from its spec (e.g. runAsNonRoot that
// cannot be verified): the pod waits with Reason, as a kubelet reports it, and is retried.
type StartError struct {
	Reason, Message string
}

func (e *StartError) Error() string { return e.Reason + ": " + e.Message }

// Options configure the kubelet.
type Options struct {
	Client kubernetes.Interface
	Nodes  []NodeSpec
	// Runners run the pods they handle as processes, the first that handles a pod; every
	// other pod is simulated.
	Runners []Runner
	// AnyStorageClass provisions volumes for a claim of any StorageClass, creating a missing
	// class with the simulator's provisioner (the sandbox: manifests written for a cloud name
	// classes such as managed-premium). Otherwise a claim of a missing class stays Pending.
	AnyStorageClass bool
}

// Kubelet simulates the nodes' kubelets.
type Kubelet struct {
	opts   Options
	client kubernetes.Interface
	logger klog.Logger
	nodes  map[string]bool

	podQueue *controller.Controller
	pods     corelisters.PodLister
	pvcs     corelisters.PersistentVolumeClaimLister
	services corelisters.ServiceLister

	stopped chan struct{} // closed once every pod process has stopped

	mu     sync.Mutex
	procs  map[string]*proc // by namespace/name
	nextIP int
	ips    map[string]string // by pod UID
	// sandboxes are the pods a runner keeps state for, by namespace/name.
	sandboxes map[string]types.UID
	nextLBIP  int
}

type proc struct {
	uid      string
	runner   Runner
	run      Running
	restarts int32
	ready    bool
	started  metav1.Time
	// last is how the previous container of this pod ended.
	last *ExitStatus
	// cut: the pod's link is down (the netcut fault).
	cut bool
}

// New returns a kubelet; Run starts it.
func New(o Options) *Kubelet {
	k := &Kubelet{opts: o, client: o.Client, nodes: map[string]bool{}, stopped: make(chan struct{}), procs: map[string]*proc{}, ips: map[string]string{},
		sandboxes: map[string]types.UID{}}
	for _, n := range o.Nodes {
		k.nodes[n.Name] = true
	}
	return k
}

// Run registers the nodes and simulates them until ctx ends. It returns once the nodes are
// registered and the caches synced; the work goes on in the background.
func (k *Kubelet) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			close(k.stopped) // no pod process was started: Wait has nothing to wait for
		}
	}()
	k.logger = klog.FromContext(ctx).WithName("kubelet")
	ctx = klog.NewContext(ctx, k.logger)
	if err := k.registerNodes(ctx); err != nil {
		return err
	}
	if err := retryStartup(ctx, k.ensureStorageClass); err != nil {
		return err
	}
	go k.heartbeat(ctx)

	factory := kubeinformers.NewSharedInformerFactory(k.client, 0)
	podInf := factory.Core().V1().Pods()
	pvcInf := factory.Core().V1().PersistentVolumeClaims()
	svcInf := factory.Core().V1().Services()
	k.pods, k.pvcs, k.services = podInf.Lister(), pvcInf.Lister(), svcInf.Lister()

	pods, err := controller.New(controller.Options{Name: "sim-pods", Workers: 4, Reconciler: controller.ReconcilerFunc(k.syncPod),
		BaseDelay: 50 * time.Millisecond, MaxDelay: 5 * time.Second})
	if err != nil {
		return err
	}
	volumes, err := controller.New(controller.Options{Name: "sim-volumes", Workers: 2, Reconciler: controller.ReconcilerFunc(k.syncPVC),
		BaseDelay: 50 * time.Millisecond, MaxDelay: 5 * time.Second})
	if err != nil {
		return err
	}
	lbs, err := controller.New(controller.Options{Name: "sim-loadbalancers", Reconciler: controller.ReconcilerFunc(k.syncService),
		BaseDelay: 50 * time.Millisecond, MaxDelay: 5 * time.Second})
	if err != nil {
		return err
	}
	for _, reg := range []struct {
		inf cache.SharedIndexInformer
		c   *controller.Controller
	}{{podInf.Informer(), pods}, {pvcInf.Informer(), volumes}, {svcInf.Informer(), lbs}} {
		if _, err := reg.inf.AddEventHandler(reg.c.EventHandler()); err != nil {
			return fmt.Errorf("kubelet: %w", err)
		}
	}
	k.podQueue = pods
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("kubelet: cache of %v did not sync", typ)
		}
	}
	for _, c := range []*controller.Controller{pods, volumes, lbs} {
		go c.Run(ctx)
	}
	go k.probe(ctx)
	go func() {
		<-ctx.Done()
		factory.Shutdown()
		k.stopAll()
		close(k.stopped)
	}()
	return nil
}

func (k *Kubelet) ensureStorageClass(ctx context.Context) error {
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: StorageClassName, Annotations: map[string]string{
			"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner:          Provisioner,
		AllowVolumeExpansion: ptr.To(true),
		VolumeBindingMode:    ptr.To(storagev1.VolumeBindingImmediate),
	}
	_, err := k.client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating StorageClass %s: %w", StorageClassName, err)
	}
	return nil
}

// Wait waits, up to timeout, until the kubelet stopped every pod process after its context ended.
func (k *Kubelet) Wait(timeout time.Duration) {
	select {
	case <-k.stopped:
	case <-time.After(timeout):
	}
}

// stopAll stops every pod process.
func (k *Kubelet) stopAll() {
	k.mu.Lock()
	procs := k.procs
	k.procs = map[string]*proc{}
	k.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(p.run.Stop)
	}
	wg.Wait()
}
