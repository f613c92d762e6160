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

// securityPrefixes are the owned keys that set who may connect and what they may do. The
// operator never applies an owned key (its own value would be overridden, or the cluster would
// break: a second listeners list, another node.id); for most it is enough to ignore the key with
// a warning, as Strimzi does. Ignoring one of these, though, would leave access wider than the
// spec asks (ssl.client.auth: required, sasl.enabled.mechanisms, authorizer.*, super.users), so
// such a key refuses the whole Kafka instead, until it is removed or expressed through the
// resource's fields (listeners' authentication, authorization).
var securityPrefixes = []string{"ssl.", "sasl.", "security.", "password.", "principal.builder.class", "authorizer.", "super.users"}

// Refused reports whether an owned key refuses the Kafka, rather than being ignored.
func Refused(key string) bool {
	if !Owned(key) {
		return false
	}
	// listener.name.<listener>.<key> is a per-listener setting: its key decides.
	if rest, ok := strings.CutPrefix(key, "listener.name."); ok {
		if _, k, ok := strings.Cut(rest, "."); ok {
			key = k
			// A mechanism's own settings: listener.name.<l>.<mechanism>.sasl.jaas.config.
			if i := strings.Index(k, ".sasl."); i >= 0 {
				key = k[i+1:]
			}
		}
	}
	for _, p := range securityPrefixes {
		if key == p || strings.HasPrefix(key, p) && (strings.HasSuffix(p, ".") || strings.HasPrefix(key, p+".")) {
			return true
		}
	}
	return false
}

// Ignored lists, sorted, the keys of spec.kafka.config that are owned but not refused: they are
// left out of the nodes' configuration, and the Kafka reports them in a Warning condition.
func Ignored(cfg map[string]v1beta1.ConfigValue) []string {
	var out []string
	for k := range cfg {
		if Owned(k) && !Refused(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// usable is cfg without its ignored keys.
func usable(cfg map[string]v1beta1.ConfigValue) map[string]v1beta1.ConfigValue {
	out := make(map[string]v1beta1.ConfigValue, len(cfg))
	for k, v := range cfg {
		if !Owned(k) || Refused(k) {
			out[k] = v
		}
	}
	return out
}

// ValidateUserConfig returns one message per problem in spec.kafka.config: refused keys (see
// securityPrefixes), and values that are not Kafka config values. The messages are sorted, for a
// stable condition message.
func ValidateUserConfig(cfg map[string]v1beta1.ConfigValue) []string {
	var problems []string
	for k, v := range cfg {
		if Refused(k) {
			problems = append(problems, fmt.Sprintf("spec.kafka.config.%s is set by the operator, and ignoring it could leave access wider than asked; configure it through the Kafka resource's fields (listener authentication, authorization)", k))
		}
		if err := v.Validate(); err != nil {
			problems = append(problems, fmt.Sprintf("spec.kafka.config.%s: %v", k, err))
		}
	}
	sort.Strings(problems)
	return problems
}
