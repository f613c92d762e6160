// Command topic-operator turns KafkaTopic resources into Kafka topics.
package main

import (
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/app"
)

func main() {
	var cfg app.Config
	operator.Main(v1beta1.BinaryTopicOperator, cfg.AddFlags, cfg.Setup, app.Defaults)
}
