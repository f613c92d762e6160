// Command cluster-operator runs KRaft Kafka clusters from Kafka and KafkaNodePool resources and
// launches each cluster's topic and user operators.
package main

import (
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/app"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
)

func main() {
	var c app.Config
	operator.Main(v1beta1.BinaryClusterOperator, c.AddFlags, c.Setup)
}
