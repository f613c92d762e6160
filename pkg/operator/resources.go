package operator

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
	kpv1beta1 "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
)

func (m *Manager) kafkaplane(get func(kpinformers.SharedInformerFactory) cache.SharedIndexInformer) *informers.Multi {
	return informers.ForResource(m.KafkaplaneInformers, get)
}

// Kafkas is the Kafka informer across the watched namespaces.
func (m *Manager) Kafkas() *informers.Multi {
	return m.kafkaplane(func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().Kafkas().Informer()
	})
}

// KafkaNodePools is the KafkaNodePool informer across the watched namespaces.
func (m *Manager) KafkaNodePools() *informers.Multi {
	return m.kafkaplane(func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().KafkaNodePools().Informer()
	})
}

// KafkaTopics is the KafkaTopic informer across the watched namespaces (without a namespace
// index where it watches one: informers.IndexersIn).
func (m *Manager) KafkaTopics() *informers.Multi {
	return informers.ForResourceIn(m.KafkaplaneInformers, func(ns string, f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.InformerFor(&v1beta1.KafkaTopic{}, func(c versioned.Interface, resync time.Duration) cache.SharedIndexInformer {
			return kpv1beta1.NewFilteredKafkaTopicInformer(c, ns, resync, informers.IndexersIn(ns), m.tweakResources)
		})
	})
}

// KafkaUsers is the KafkaUser informer across the watched namespaces (without a namespace
// index where it watches one: informers.IndexersIn).
func (m *Manager) KafkaUsers() *informers.Multi {
	return informers.ForResourceIn(m.KafkaplaneInformers, func(ns string, f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.InformerFor(&v1beta1.KafkaUser{}, func(c versioned.Interface, resync time.Duration) cache.SharedIndexInformer {
			return kpv1beta1.NewFilteredKafkaUserInformer(c, ns, resync, informers.IndexersIn(ns), m.tweakResources)
		})
	})
}

// tweakResources selects the Kafkaplane resources the operator manages (--resource-labels).
func (m *Manager) tweakResources(o *metav1.ListOptions) { o.LabelSelector = m.Options.ResourceLabels }
