package metrics

// Names of the metrics the dashboards and alerts (pkg/hack/dashboards) query. The operators'
// collectors are declared with these names (or, for the registry's own, TestNamesAreServed
// checks them), so a renamed metric cannot leave a dashboard or an alert asking for nothing.
const (
	ReconcilesTotal         = Namespace + "_reconciles_total"
	ReconcileDuration       = Namespace + "_reconcile_duration_seconds"
	ManagedResources        = Namespace + "_managed_resources"
	WorkqueueDepth          = Namespace + "_workqueue_depth"
	WorkqueueQueueDuration  = Namespace + "_workqueue_queue_duration_seconds"
	WorkqueueRetries        = Namespace + "_workqueue_retries_total"
	WorkqueueLongestRunning = Namespace + "_workqueue_longest_running_processor_seconds"

	// CertificateExpirySubsystem and CertificateExpiryName make the cluster operator's
	// CertificateExpiry.
	CertificateExpirySubsystem = "cluster_operator"
	CertificateExpiryName      = "certificate_expiry_timestamp_seconds"
	CertificateExpiry          = Namespace + "_" + CertificateExpirySubsystem + "_" + CertificateExpiryName

	// The topic operator's consumer-lag export, with Kafka Exporter's names.
	ConsumerGroupOffset    = "kafka_consumergroup_current_offset"
	ConsumerGroupLag       = "kafka_consumergroup_lag"
	ConsumerGroupLagSecond = "kafka_consumergroup_lag_seconds"
	PartitionEndOffset     = "kafka_topic_partition_current_offset"
	LagSkippedGroups       = Namespace + "_lag_skipped_groups"
	LagReadDuration        = Namespace + "_lag_read_duration_seconds"
	LagReadFailed          = Namespace + "_lag_read_failed"
)
