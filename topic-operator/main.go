// Command topic-operator turns KafkaTopic resources into Kafka topics.
package main

import (
	"context"

	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
)

func main() {
	operator.Main(v1beta1.BinaryTopicOperator, nil, setup)
}

// setup watches KafkaTopics. The reconciler comes with the topic operator itself; until then
// the binary syncs its cache and serves metrics and health.
func setup(_ context.Context, m *operator.Manager) error {
	topics := informers.ForResource(m.KafkaplaneInformers, func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().KafkaTopics().Informer()
	})
	m.WaitFor(topics)
	return nil
}
