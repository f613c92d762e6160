// Command user-operator turns KafkaUser resources into credentials, ACLs and quotas.
package main

import (
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/app"
)

func main() {
	var cfg app.Config
	operator.Main(v1beta1.BinaryUserOperator, cfg.AddFlags, cfg.Setup, app.Defaults)
}
