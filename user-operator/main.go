// Command user-operator turns KafkaUser resources into credentials, ACLs and quotas.
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
	operator.Main(v1beta1.BinaryUserOperator, nil, setup)
}

// setup watches KafkaUsers. The reconciler comes with the user operator itself; until then
// the binary syncs its cache and serves metrics and health.
func setup(_ context.Context, m *operator.Manager) error {
	users := informers.ForResource(m.KafkaplaneInformers, func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().KafkaUsers().Informer()
	})
	m.WaitFor(users)
	return nil
}
