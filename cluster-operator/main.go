// Command cluster-operator runs KRaft Kafka clusters from Kafka and KafkaNodePool resources and
// launches each cluster's topic and user operators.
package main

import (
	"context"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
)

func main() {
	operator.Main(v1beta1.BinaryClusterOperator, nil, setup)
}

// setup watches the cluster operator's resources. The reconcilers come with the cluster
// operator itself; until then the binary syncs its caches and serves metrics and health.
func setup(_ context.Context, m *operator.Manager) error {
	m.WaitFor(m.Kafkas(), m.KafkaNodePools())
	return nil
}
