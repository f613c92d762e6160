package kafkaconfig

import "github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"

// clusterWideDynamic are broker configs Kafka can change at runtime for the whole cluster
// (update mode "cluster-wide" in Kafka's broker config reference): a change to one of them is
// applied with IncrementalAlterConfigs, without a roll. The list is deliberately conservative;
// a key missing here only costs a roll.
var clusterWideDynamic = map[string]bool{
	"background.threads": true, "compression.type": true,
	"log.cleaner.backoff.ms": true, "log.cleaner.dedupe.buffer.size": true, "log.cleaner.delete.retention.ms": true,
	"log.cleaner.io.buffer.load.factor": true, "log.cleaner.io.buffer.size": true, "log.cleaner.io.max.bytes.per.second": true,
	"log.cleaner.max.compaction.lag.ms": true, "log.cleaner.min.cleanable.ratio": true, "log.cleaner.min.compaction.lag.ms": true,
	"log.cleaner.threads": true, "log.cleanup.policy": true,
	"log.flush.interval.messages": true, "log.flush.interval.ms": true,
	"log.index.interval.bytes": true, "log.index.size.max.bytes": true,
	"log.message.timestamp.after.max.ms": true, "log.message.timestamp.before.max.ms": true, "log.message.timestamp.type": true,
	"log.preallocate": true, "log.retention.bytes": true, "log.retention.ms": true,
	"log.roll.jitter.ms": true, "log.roll.ms": true, "log.segment.bytes": true, "log.segment.delete.delay.ms": true,
	"max.connection.creation.rate": true, "max.connections": true, "max.connections.per.ip": true, "max.connections.per.ip.overrides": true,
	"message.max.bytes": true, "min.insync.replicas": true,
	"num.io.threads": true, "num.network.threads": true, "num.recovery.threads.per.data.dir": true, "num.replica.fetchers": true,
	"unclean.leader.election.enable": true, "producer.id.expiration.ms": true,
}

// Dynamic reports whether a config key can change at runtime cluster-wide.
func Dynamic(key string) bool { return clusterWideDynamic[key] }

// SplitDynamic separates the user config into the keys that need a restart to change and
// those applied at runtime.
func SplitDynamic(cfg map[string]v1beta1.ConfigValue) (static, dynamic map[string]v1beta1.ConfigValue) {
	static, dynamic = map[string]v1beta1.ConfigValue{}, map[string]v1beta1.ConfigValue{}
	for k, v := range usable(cfg) {
		if Dynamic(k) {
			dynamic[k] = v
		} else {
			static[k] = v
		}
	}
	return static, dynamic
}
