// Package app wires the cluster operator: its flags, the caches of Kafkas, node pools and the
// objects it creates (label-filtered), the Kafka-aware restart checker and the Kafka controller.
package app

import (
	"context"
	"flag"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/clusters"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/dynconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/features"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkacheck"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkalane"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/release"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	pkginformers "github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
	"github.com/kafkaplane/kafkaplane/pkg/version"
	corev1 "k8s.io/api/core/v1"
)

// Config holds the cluster operator's own flags.
type Config struct {
	TopicOperatorImage, UserOperatorImage string
	// BootstrapOverrides is a JSON file of "namespace/name" → bootstrap address.
	BootstrapOverrides string
	// JMXExporterImage and JMXExporterJar locate the Prometheus JMX exporter's Java agent.
	JMXExporterImage, JMXExporterJar string
}

// AddFlags registers the flags.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.TopicOperatorImage, "topic-operator-image", v1beta1.Image(v1beta1.BinaryTopicOperator, version.Version),
		"default image of the topic operators this operator launches")
	fs.StringVar(&c.UserOperatorImage, "user-operator-image", v1beta1.Image(v1beta1.BinaryUserOperator, version.Version),
		"default image of the user operators this operator launches")
	fs.StringVar(&c.JMXExporterImage, "jmx-exporter-image", v1beta1.Image(v1beta1.ImageJMXExporter, version.Version),
		"image holding the Prometheus JMX exporter's Java agent, which nodes of a Kafka with metricsConfig run (the apache/kafka image has none): our jmx-exporter image by default; empty refuses metricsConfig")
	fs.StringVar(&c.JMXExporterJar, "jmx-exporter-jar", v1beta1.JMXExporterJar,
		"path of the Java agent jar in --jmx-exporter-image; an init container copies it with cp (the image needs one; ours has a static one)")
	fs.StringVar(&c.BootstrapOverrides, "kafka-bootstrap-overrides", "",
		`JSON file mapping "namespace/name" of a Kafka to the address the operator dials instead of its bootstrap Service (development sandboxes, where Services are not reachable); read at each connection`)
}

// OwnedSelector selects every object the cluster operator creates.
const OwnedSelector = v1beta1.LabelKind + "=" + v1beta1.KindKafka

// Setup registers the Kafka controller.
func (c *Config) Setup(_ context.Context, m *operator.Manager) error {
	owned := m.LabelledKube(OwnedSelector)
	kube := func(get func(informers.SharedInformerFactory) cache.SharedIndexInformer) *pkginformers.Multi {
		return pkginformers.ForResource(owned, get)
	}
	caches := &clusters.Caches{
		Kafkas: m.Kafkas(), Pools: m.KafkaNodePools(),
		Pods: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Pods().Informer()
		}),
		Services: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Services().Informer()
		}),
		ConfigMaps: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().ConfigMaps().Informer()
		}),
		Secrets: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Secrets().Informer()
		}),
		Claims: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().PersistentVolumeClaims().Informer()
		}),
		Budgets: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Policy().V1().PodDisruptionBudgets().Informer()
		}),
		NetworkPolicies: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Networking().V1().NetworkPolicies().Informer()
		}),
		ServiceAccounts: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().ServiceAccounts().Informer()
		}),
		Roles: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Rbac().V1().Roles().Informer()
		}),
		RoleBindings: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Rbac().V1().RoleBindings().Informer()
		}),
		Deployments: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().Deployments().Informer()
		}),
		Ingresses: kube(func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Networking().V1().Ingresses().Informer()
		}),
	}
	checker := &kafkacheck.Checker{
		Address:    kafkacheck.OverridesFrom(c.BootstrapOverrides),
		SecretName: clusters.ClusterOperatorCertsSecretName,
		Secret: func(namespace, name string) *corev1.Secret {
			obj, ok, err := caches.Secrets.GetByKey(namespace, name)
			if err != nil || !ok {
				return nil
			}
			s, _ := obj.(*corev1.Secret)
			return s
		},
	}
	met, err := clusters.NewMetrics(m.Metrics)
	if err != nil {
		return err
	}
	// Every Kafka call goes through the cluster's lane: a reconcile waits for Kafka at most
	// lanes.Wait, so clusters whose Kafka hangs do not hold the workers the others need.
	var ctl *controller.Controller
	lanes := kafkalane.New(func(namespace, name string) {
		if ctl != nil {
			ctl.EnqueueKey(controller.Key{Namespace: namespace, Name: name})
		}
	})
	checks := &kafkalane.Checks{Lanes: lanes, Next: checker}
	// cert-manager's Certificates, through the dynamic client (its types are not linked).
	certManager, err := dynamic.NewForConfig(m.Config)
	if err != nil {
		return fmt.Errorf("creating the dynamic client: %w", err)
	}
	rec := &clusters.Reconciler{CertManager: certManager, Metrics: met, Kube: m.Kube, Client: m.Kafkaplane, Caches: caches, Recorder: m.Recorder, Metadata: m.Metadata,
		Checker: checks, Quorum: checks, Registrations: checks,
		Dynamic:   &kafkalane.Dynamic{Lanes: lanes, Next: &dynconfig.Applier{Client: checker.Client}},
		Loggers:   &kafkalane.Loggers{Lanes: lanes, Next: &dynconfig.Loggers{Client: checker.Client, NodeClient: checker.NodeClient}},
		Keystores: &kafkalane.Keystores{Lanes: lanes, Next: &dynconfig.Keystores{Client: checker.Client}},
		Features:  &kafkalane.Features{Lanes: lanes, Next: &features.Raiser{Client: checker.Client, Report: checker.Report}},
		Opts:      clusters.Options{FieldManager: m.FieldManager, TopicOperatorImage: c.TopicOperatorImage, UserOperatorImage: c.UserOperatorImage}}
	if c.JMXExporterImage != "" {
		rec.Opts.Metrics = &nodes.Metrics{Image: c.JMXExporterImage, JarPath: c.JMXExporterJar}
	}
	ctl, err = controller.New(controller.Options{
		Name: "kafka", Reconciler: rec, Workers: m.Options.Workers, Metrics: m.Metrics,
		ResyncPeriod: m.Options.ResyncPeriod,
		ListKeys:     func() ([]controller.Key, error) { return caches.Kafkas.Keys(), nil },
	})
	if err != nil {
		return err
	}
	if err := caches.Kafkas.AddEventHandler(ctl.SpecEventHandler()); err != nil {
		return err
	}
	// A deleted Kafka's Kafka client goes with it.
	if err := caches.Kafkas.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if k, ok := obj.(*v1beta1.Kafka); ok {
			checker.Forget(k.Namespace, k.Name)
			lanes.Forget(k.Namespace, k.Name)
		}
	}}); err != nil {
		return err
	}
	if err := caches.Pools.AddEventHandler(ctl.LabelHandler(v1beta1.LabelCluster, true)); err != nil {
		return err
	}
	for _, o := range caches.Owned() {
		if err := o.AddEventHandler(ctl.LabelHandler(v1beta1.LabelCluster, false)); err != nil {
			return err
		}
	}
	if err := c.releaseFinalizers(m, caches.Kafkas); err != nil {
		return err
	}
	m.WaitFor(caches.All()...)
	m.AddController(ctl)
	m.ReportManaged("kafka", caches.Kafkas)
	m.AddRunnable(func(ctx context.Context) {
		<-ctx.Done()
		checker.Close()
	})
	return nil
}

// releaseFinalizers runs, per entity operator kind, the controller that frees deleted topics and
// users whose operator is provably gone (see package release).
func (c *Config) releaseFinalizers(m *operator.Manager, kafkas *pkginformers.Multi) error {
	getKafka := func(ctx context.Context, namespace, name string) (*v1beta1.Kafka, error) {
		k, err := m.Kafkaplane.KafkaplaneV1beta1().Kafkas(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading Kafka %s/%s: %w", namespace, name, err)
		}
		return k, nil
	}
	for _, kind := range []release.Kind{release.Topics, release.Users} {
		objs := pkginformers.ForResource(m.MetadataInformers, func(f metadatainformer.SharedInformerFactory) cache.SharedIndexInformer {
			inf := f.ForResource(kind.Resource).Informer()
			_ = inf.SetTransform(pkginformers.StripMetadataOnly) // fails only once started; we are before Start
			return inf
		})
		gone := &release.Gone{}
		rec := &release.Reconciler{Kind: kind, Objects: objs, Kafkas: kafkas, Gone: gone, GetKafka: getKafka,
			Metadata: m.Metadata, FieldManager: m.FieldManager}
		ctl, err := controller.New(controller.Options{Name: "release-" + kind.Resource.Resource, Reconciler: rec, Workers: 2,
			Metrics: m.Metrics, ResyncPeriod: m.Options.ResyncPeriod,
			ListKeys: func() ([]controller.Key, error) { return objs.Keys(), nil }})
		if err != nil {
			return err
		}
		if err := objs.AddEventHandler(ctl.EventHandler()); err != nil {
			return err
		}
		if err := kafkas.AddEventHandler(goneHandler(kind, gone, func(namespace, cluster string) {
			enqueueServed(ctl, objs, namespace, cluster)
		})); err != nil {
			return err
		}
		m.WaitFor(objs)
		m.AddController(ctl)
	}
	return nil
}

// goneHandler learns, from Kafka events, which entity operators of kind went: a Kafka deleted
// (or gone from the cache: the reconciler reads it back before trusting that), one that stops
// running the operator or moves it to another namespace. Each such change enqueues the objects the
// operator served.
func goneHandler(kind release.Kind, gone *release.Gone, enqueue func(namespace, cluster string)) cache.ResourceEventHandler {
	went := func(k *v1beta1.Kafka) {
		ns := kind.Watched(k)
		gone.Record(ns, k.Name, types.NamespacedName{Namespace: k.Namespace, Name: k.Name})
		enqueue(ns, k.Name)
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if k, ok := obj.(*v1beta1.Kafka); ok && kind.Runs(k) {
				gone.Clear(kind.Watched(k), k.Name)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			old, ok1 := oldObj.(*v1beta1.Kafka)
			k, ok2 := newObj.(*v1beta1.Kafka)
			if !ok1 || !ok2 {
				return
			}
			if kind.Runs(old) && (!kind.Runs(k) || kind.Watched(old) != kind.Watched(k)) {
				went(old)
			}
			if kind.Runs(k) && k.DeletionTimestamp == nil {
				gone.Clear(kind.Watched(k), k.Name)
			} else {
				enqueue(kind.Watched(k), k.Name)
			}
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if k, ok := obj.(*v1beta1.Kafka); ok && kind.Runs(k) {
				went(k)
			}
		},
	}
}

// enqueueServed queues the objects being deleted that cluster's operator served in namespace.
func enqueueServed(ctl *controller.Controller, objs *pkginformers.Multi, namespace, cluster string) {
	idx := objs.Indexer(namespace)
	if idx == nil {
		return
	}
	sel := labels.SelectorFromSet(labels.Set{v1beta1.LabelCluster: cluster})
	_ = cache.ListAll(idx, sel, func(item any) {
		if o, ok := item.(metav1.Object); ok && o.GetNamespace() == namespace && o.GetDeletionTimestamp() != nil {
			ctl.EnqueueKey(controller.Key{Namespace: o.GetNamespace(), Name: o.GetName()})
		}
	})
}
