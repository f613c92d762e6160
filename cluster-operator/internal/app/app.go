// Package app wires the cluster operator: its flags, the caches of Kafkas, node pools and the
// objects it creates (label-filtered), the Kafka-aware restart checker and the Kafka controller.
package app

import (
	"context"
	"flag"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/clusters"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkacheck"
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
}

// AddFlags registers the flags.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.TopicOperatorImage, "topic-operator-image", v1beta1.Image(v1beta1.BinaryTopicOperator, version.Version),
		"default image of the topic operators this operator launches")
	fs.StringVar(&c.UserOperatorImage, "user-operator-image", v1beta1.Image(v1beta1.BinaryUserOperator, version.Version),
		"default image of the user operators this operator launches")
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
	rec := &clusters.Reconciler{Kube: m.Kube, Client: m.Kafkaplane, Caches: caches, Recorder: m.Recorder, Checker: checker,
		Opts: clusters.Options{FieldManager: m.FieldManager, TopicOperatorImage: c.TopicOperatorImage, UserOperatorImage: c.UserOperatorImage}}
	ctl, err := controller.New(controller.Options{
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
	if err := caches.Pools.AddEventHandler(ctl.LabelHandler(v1beta1.LabelCluster, true)); err != nil {
		return err
	}
	for _, o := range caches.Owned() {
		if err := o.AddEventHandler(ctl.LabelHandler(v1beta1.LabelCluster, false)); err != nil {
			return err
		}
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
