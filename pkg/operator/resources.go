package operator

import (
	"k8s.io/client-go/tools/cache"

	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
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

// KafkaTopics is the KafkaTopic informer across the watched namespaces.
func (m *Manager) KafkaTopics() *informers.Multi {
	return m.kafkaplane(func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().KafkaTopics().Informer()
	})
}

// KafkaUsers is the KafkaUser informer across the watched namespaces.
func (m *Manager) KafkaUsers() *informers.Multi {
	return m.kafkaplane(func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().KafkaUsers().Informer()
	})
}
