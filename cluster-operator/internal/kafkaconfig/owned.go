// Package kafkaconfig renders each Kafka node's server.properties from the Kafka and
// KafkaNodePool resources: KRaft roles and quorum, the operator's controller (9090) and
// replication (9091) listeners, the user's listeners with their security, authorization, storage
// directories and the user's own config — where keys the operator owns are rejected, never
// silently dropped.
package kafkaconfig

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// ownedPrefixes are keys (or key prefixes) the operator sets itself; users configure them
// through the resource's fields instead.
var ownedPrefixes = []string{
	"listeners", "advertised.", "listener.", "inter.broker.listener.name", "controller.listener.names",
	"controller.quorum.voters", "controller.quorum.bootstrap.servers", "process.roles", "node.id",
	"broker.id", "broker.rack", "log.dir", "metadata.log.dir", "host.name", "port",
	"ssl.", "sasl.", "security.", "password.", "principal.builder.class",
	"authorizer.", "super.users", "zookeeper.", "cluster.id",
}

// allowedOwnedPrefixes are exceptions: tuning keys under an owned prefix that users may set.
var allowedOwnedPrefixes = []string{
	"ssl.cipher.suites", "ssl.protocol", "ssl.enabled.protocols", "ssl.secure.random.implementation",
	"ssl.endpoint.identification.algorithm",
	"controller.quorum.election.backoff.max.ms", "controller.quorum.election.timeout.ms",
	"controller.quorum.fetch.timeout.ms", "controller.quorum.request.timeout.ms",
	"controller.quorum.retry.backoff.ms",
	"log.dir.failure.timeout.ms",
}

// Owned reports whether the operator owns a config key.
func Owned(key string) bool {
	for _, p := range allowedOwnedPrefixes {
		if strings.HasPrefix(key, p) {
			return false
		}
	}
	for _, p := range ownedPrefixes {
		if key == p || strings.HasPrefix(key, p) && (strings.HasSuffix(p, ".") || strings.HasPrefix(key, p+".")) {
			return true
		}
	}
	// log.dirs is owned; log.retention.* and the like are not.
	return key == "log.dirs"
}

// ValidateUserConfig returns one message per problem in spec.kafka.config: keys the operator
// owns, and values that are not Kafka config values. The messages are sorted, for a stable
// condition message.
func ValidateUserConfig(cfg map[string]v1beta1.ConfigValue) []string {
	var problems []string
	for k, v := range cfg {
		if Owned(k) {
			problems = append(problems, fmt.Sprintf("spec.kafka.config.%s is set by the operator; configure it through the Kafka resource's fields", k))
		}
		if err := v.Validate(); err != nil {
			problems = append(problems, fmt.Sprintf("spec.kafka.config.%s: %v", k, err))
		}
	}
	sort.Strings(problems)
	return problems
}
