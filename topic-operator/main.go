// Command topic-operator turns KafkaTopic resources into Kafka topics.
package main

import (
	"context"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
)

func main() {
	operator.Main(v1beta1.BinaryTopicOperator, nil, setup)
}

// setup watches KafkaTopics. The reconciler comes with the topic operator itself; until then
// the binary syncs its cache and serves metrics and health.
func setup(_ context.Context, m *operator.Manager) error {
	m.WaitFor(m.KafkaTopics())
	return nil
}
