// Command user-operator turns KafkaUser resources into credentials, ACLs and quotas.
package main

import (
	"context"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
)

func main() {
	operator.Main(v1beta1.BinaryUserOperator, nil, setup)
}

// setup watches KafkaUsers. The reconciler comes with the user operator itself; until then the
// binary syncs its cache and serves metrics and health.
func setup(_ context.Context, m *operator.Manager) error {
	m.WaitFor(m.KafkaUsers())
	return nil
}
