package main

// Kafka's own metrics, as the JMX exporter's rules in deploy/examples/tls-cluster.yaml (ConfigMap
// kafka-metrics) name them; the real-Kafka tests check that a real cluster serves every kafka_
// name used here. The chart's PodMonitor adds the node pod's labels kafkaplane.io/cluster, pool,
// broker-role and controller-role as kafkaplane_io_cluster, … to every series.
const (
	underReplicated     = "kafka_server_replicamanager_underreplicatedpartitions"
	underMinISR         = "kafka_server_replicamanager_underminisrpartitioncount"
	partitionCount      = "kafka_server_replicamanager_partitioncount"
	leaderCount         = "kafka_server_replicamanager_leadercount"
	brokerState         = "kafka_server_kafkaserver_brokerstate"
	messagesIn          = "kafka_server_brokertopicmetrics_messagesin_total"
	bytesIn             = "kafka_server_brokertopicmetrics_bytesin_total"
	bytesOut            = "kafka_server_brokertopicmetrics_bytesout_total"
	requests            = "kafka_network_requestmetrics_requests_total"
	requestTotalTime    = "kafka_network_requestmetrics_total_time_ms"
	requestHandlerIdle  = "kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent"
	networkIdle         = "kafka_network_socketserver_networkprocessoravgidlepercent"
	logSize             = "kafka_log_log_size"
	activeController    = "kafka_controller_kafkacontroller_activecontrollercount"
	offlinePartitions   = "kafka_controller_kafkacontroller_offlinepartitionscount"
	globalPartitions    = "kafka_controller_kafkacontroller_globalpartitioncount"
	activeBrokers       = "kafka_controller_kafkacontroller_activebrokercount"
	fencedBrokers       = "kafka_controller_kafkacontroller_fencedbrokercount"
	raftLeader          = "kafka_server_raftmetrics_current_leader"
	raftEpoch           = "kafka_server_raftmetrics_current_epoch"
	raftHighWatermark   = "kafka_server_raftmetrics_high_watermark"
	raftLogEndOffset    = "kafka_server_raftmetrics_log_end_offset"
	raftCommitLatency   = "kafka_server_raftmetrics_commit_latency_avg"
	jvmMemoryUsed       = "jvm_memory_used_bytes"
	jvmGCCount          = "jvm_gc_collection_seconds_count"
	jvmGCSum            = "jvm_gc_collection_seconds_sum"
	processCPU          = "process_cpu_seconds_total"
	clusterLabel        = "kafkaplane_io_cluster"
	brokerSelector      = `kafkaplane_io_broker_role="true"`
	controllerSelector  = `kafkaplane_io_controller_role="true"`
	byCluster           = "namespace, " + clusterLabel
	byNode              = "namespace, " + clusterLabel + ", pod"
	clusterLegend       = "{{namespace}}/{{" + clusterLabel + "}}"
	nodeLegend          = "{{pod}}"
	topicPartitionLabel = "topic, partition"
)

func kafkaBrokers() dashboard {
	return dashboard{UID: "kafkaplane-kafka-brokers", Title: "Kafka brokers", Panels: []panel{
		{Title: "Brokers up", Description: "Brokers answering their scrapes, and brokers the controllers count as active or fenced.", Queries: []query{
			{`sum by (` + byCluster + `) (up{` + brokerSelector + `})`, "scraped " + clusterLegend},
			{`max by (` + byCluster + `) (` + activeBrokers + `)`, "active " + clusterLegend},
			{`max by (` + byCluster + `) (` + fencedBrokers + `)`, "fenced " + clusterLegend}}},
		{Title: "Under-replicated and under-min-ISR partitions", Description: "Partitions with fewer in-sync replicas than replicas, and fewer than min.insync.replicas (producers with acks=all fail).", Queries: []query{
			{`sum by (` + byCluster + `) (` + underReplicated + `)`, "under-replicated " + clusterLegend},
			{`sum by (` + byCluster + `) (` + underMinISR + `)`, "under min ISR " + clusterLegend}}},
		{Title: "Messages in", Unit: "ops", Queries: []query{{`sum by (` + byNode + `) (rate(` + messagesIn + `[5m]))`, nodeLegend}}},
		{Title: "Bytes in and out", Unit: "Bps", Queries: []query{
			{`sum by (` + byNode + `) (rate(` + bytesIn + `[5m]))`, "in " + nodeLegend},
			{`sum by (` + byNode + `) (rate(` + bytesOut + `[5m]))`, "out " + nodeLegend}}},
		{Title: "Requests by type", Unit: "reqps", Queries: []query{{`sum by (request) (rate(` + requests + `{` + brokerSelector + `}[5m]))`, "{{request}}"}}},
		{Title: "Request latency (p99)", Unit: "ms", Description: "Kafka's own 99th percentile of the total time, per request type (Produce, Fetch, …).",
			Queries: []query{{`max by (request) (` + requestTotalTime + `{quantile="0.99", request=~"Produce|Fetch|FetchConsumer|FetchFollower|Metadata|OffsetCommit"})`, "{{request}}"}}},
		{Title: "Request handler and network idle", Unit: "percentunit", Description: "Below 0.3 the broker is short of threads (num.io.threads, num.network.threads) or CPU.", Queries: []query{
			{`min by (` + byNode + `) (` + requestHandlerIdle + `)`, "handlers " + nodeLegend},
			{`min by (` + byNode + `) (` + networkIdle + `)`, "network " + nodeLegend}}},
		{Title: "Partitions and leaders per broker", Queries: []query{
			{`sum by (` + byNode + `) (` + partitionCount + `)`, "partitions " + nodeLegend},
			{`sum by (` + byNode + `) (` + leaderCount + `)`, "leaders " + nodeLegend}}},
		{Title: "Broker state", Description: "3 is RUNNING; 2 RECOVERY, 6 PENDING_CONTROLLED_SHUTDOWN, 7 SHUTTING_DOWN.",
			Queries: []query{{`max by (` + byNode + `) (` + brokerState + `)`, nodeLegend}}},
		{Title: "JVM heap used", Unit: "bytes", Queries: []query{{`sum by (` + byNode + `) (` + jvmMemoryUsed + `{area="heap", ` + brokerSelector + `})`, nodeLegend}}},
		{Title: "GC time", Unit: "percentunit", Description: "Share of wall time spent in garbage collection.",
			Queries: []query{{`sum by (` + byNode + `) (rate(` + jvmGCSum + `{` + brokerSelector + `}[5m]))`, nodeLegend}}},
		{Title: "CPU", Unit: "percentunit", Queries: []query{{`sum by (` + byNode + `) (rate(` + processCPU + `{` + brokerSelector + `}[5m]))`, nodeLegend}}},
	}}
}

func kafkaControllers() dashboard {
	return dashboard{UID: "kafkaplane-kraft-controllers", Title: "KRaft controllers", Panels: []panel{
		{Title: "Active controllers", Description: "Exactly 1 per cluster.",
			Queries: []query{{`sum by (` + byCluster + `) (` + activeController + `)`, clusterLegend}}},
		{Title: "Controllers up", Queries: []query{{`sum by (` + byCluster + `) (up{` + controllerSelector + `})`, clusterLegend}}},
		{Title: "Quorum leader and epoch", Description: "The leader each controller sees (-1: none) and the epoch; a rising epoch is an election.", Queries: []query{
			{`max by (` + byNode + `) (` + raftLeader + `{` + controllerSelector + `})`, "leader seen by " + nodeLegend},
			{`max by (` + byCluster + `) (` + raftEpoch + `{` + controllerSelector + `})`, "epoch " + clusterLegend}}},
		{Title: "Metadata log lag", Description: "Each node's log end offset behind the quorum's high watermark (brokers fetch it too).",
			Queries: []query{{`max by (` + byCluster + `) (` + raftHighWatermark + `) - on (` + byCluster + `) group_right ` + raftLogEndOffset, nodeLegend}}},
		{Title: "Commit latency", Unit: "ms", Queries: []query{{`max by (` + byNode + `) (` + raftCommitLatency + `{` + controllerSelector + `})`, nodeLegend}}},
		{Title: "Offline partitions", Description: "Partitions without a leader: not readable or writable.",
			Queries: []query{{`max by (` + byCluster + `) (` + offlinePartitions + `)`, clusterLegend}}},
		{Title: "Partitions and brokers", Queries: []query{
			{`max by (` + byCluster + `) (` + globalPartitions + `)`, "partitions " + clusterLegend},
			{`max by (` + byCluster + `) (` + activeBrokers + `)`, "active brokers " + clusterLegend},
			{`max by (` + byCluster + `) (` + fencedBrokers + `)`, "fenced brokers " + clusterLegend}}},
		{Title: "JVM heap used", Unit: "bytes", Queries: []query{{`sum by (` + byNode + `) (` + jvmMemoryUsed + `{area="heap", ` + controllerSelector + `})`, nodeLegend}}},
		{Title: "GC collections", Unit: "ops", Queries: []query{{`sum by (` + byNode + `) (rate(` + jvmGCCount + `{` + controllerSelector + `}[5m]))`, nodeLegend}}},
	}}
}

func kafkaTopics() dashboard {
	return dashboard{UID: "kafkaplane-kafka-topics", Title: "Kafka topics", Panels: []panel{
		{Title: "Messages in by topic", Unit: "ops", Queries: []query{{`sum by (namespace, topic) (rate(` + messagesIn + `{topic!=""}[5m]))`, "{{topic}}"}}},
		{Title: "Bytes in by topic", Unit: "Bps", Queries: []query{{`sum by (namespace, topic) (rate(` + bytesIn + `{topic!=""}[5m]))`, "{{topic}}"}}},
		{Title: "Bytes out by topic", Unit: "Bps", Queries: []query{{`sum by (namespace, topic) (rate(` + bytesOut + `{topic!=""}[5m]))`, "{{topic}}"}}},
		{Title: "Log size by topic", Unit: "bytes", Description: "Summed over partitions and replicas.",
			Queries: []query{{`sum by (namespace, topic) (` + logSize + `)`, "{{topic}}"}}},
		{Title: "Largest partitions", Unit: "bytes", Description: "The ten largest partition replicas.",
			Queries: []query{{`topk(10, max by (namespace, ` + topicPartitionLabel + `) (` + logSize + `))`, "{{topic}}-{{partition}}"}}},
	}}
}

// kafkaAlerts are the alerts on Kafka's own metrics.
func kafkaAlerts() []alert {
	return []alert{
		{"KafkaBrokerDown", `(up{` + brokerSelector + `} == 0) or (max by (` + byCluster + `) (` + fencedBrokers + `) > 0)`, "1m", "critical",
			"A Kafka broker is down",
			"A broker of {{ $labels.namespace }}/{{ $labels." + clusterLabel + " }} does not answer its scrapes ({{ $labels.pod }}) or is fenced by the controllers.",
			"kafkabrokerdown"},
		{"KafkaOfflinePartitions", `max by (` + byCluster + `) (` + offlinePartitions + `) > 0`, "1m", "critical",
			"Kafka partitions have no leader",
			"{{ $value }} partitions of {{ $labels.namespace }}/{{ $labels." + clusterLabel + " }} have no leader: they can be neither read nor written.",
			"kafkaofflinepartitions"},
		{"KafkaUnderMinISRPartitions", `sum by (` + byCluster + `) (` + underMinISR + `) > 0`, "1m", "critical",
			"Kafka partitions are under min.insync.replicas",
			"{{ $value }} partitions of {{ $labels.namespace }}/{{ $labels." + clusterLabel + " }} have fewer in-sync replicas than min.insync.replicas: producers with acks=all are refused.",
			"kafkaunderminisrpartitions"},
		{"KafkaUnderReplicatedPartitions", `sum by (` + byCluster + `) (` + underReplicated + `) > 0`, "5m", "warning",
			"Kafka partitions are under-replicated",
			"{{ $value }} partitions of {{ $labels.namespace }}/{{ $labels." + clusterLabel + " }} have replicas out of sync for 5 minutes.",
			"kafkaunderreplicatedpartitions"},
		{"KafkaNoActiveController", `sum by (` + byCluster + `) (` + activeController + `) != 1`, "1m", "critical",
			"A Kafka cluster has no single active controller",
			"{{ $labels.namespace }}/{{ $labels." + clusterLabel + " }} has {{ $value }} active controllers: metadata changes (topics, ACLs, leaders) stall.",
			"kafkanoactivecontroller"},
		{"KafkaQuorumWithoutMajority",
			`(sum by (` + byCluster + `) (up{` + controllerSelector + `}) * 2 <= count by (` + byCluster + `) (up{` + controllerSelector + `}))` +
				` or (max by (` + byCluster + `) (` + raftLeader + `{` + controllerSelector + `}) < 0)`, "1m", "critical",
			"The KRaft controller quorum has lost its majority",
			"Half or more of the controllers of {{ $labels.namespace }}/{{ $labels." + clusterLabel + " }} are down, or none sees a quorum leader.",
			"kafkaquorumwithoutmajority"},
	}
}
