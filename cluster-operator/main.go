// Command cluster-operator runs KRaft Kafka clusters from Kafka and KafkaNodePool resources and
// launches each cluster's topic and user operators.
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
	operator.Main(v1beta1.BinaryClusterOperator, nil, setup)
}

// setup watches the cluster operator's resources. The reconcilers come with the cluster
// operator itself; until then the binary syncs its caches and serves metrics and health.
func setup(_ context.Context, m *operator.Manager) error {
	kafkas := informers.ForResource(m.KafkaplaneInformers, func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().Kafkas().Informer()
	})
	pools := informers.ForResource(m.KafkaplaneInformers, func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().KafkaNodePools().Informer()
	})
	m.WaitFor(kafkas, pools)
	return nil
}
