package v1beta1

import (
	"fmt"
	"strconv"
)

// Kinds of this group, as they appear in owner references and the kafkaplane.io/kind label.
const (
	KindKafka         = "Kafka"
	KindKafkaNodePool = "KafkaNodePool"
	KindKafkaTopic    = "KafkaTopic"
	KindKafkaUser     = "KafkaUser"
)

// Labels. Pools, topics and users name their Kafka with LabelCluster; everything the operators
// create carries LabelCluster, LabelKind and LabelName plus the app.kubernetes.io/* labels.
const (
	LabelCluster        = "kafkaplane.io/cluster"
	LabelKind           = "kafkaplane.io/kind"
	LabelName           = "kafkaplane.io/name"
	LabelPool           = "kafkaplane.io/pool"
	LabelBrokerRole     = "kafkaplane.io/broker-role"     // "true" or "false"
	LabelControllerRole = "kafkaplane.io/controller-role" // "true" or "false"
	// LabelPodName on a node pod is its own name, so that a per-broker Service selects it.
	LabelPodName = "kafkaplane.io/pod-name"

	LabelAppName      = "app.kubernetes.io/name"
	LabelAppInstance  = "app.kubernetes.io/instance"
	LabelAppComponent = "app.kubernetes.io/component"
	LabelAppPartOf    = "app.kubernetes.io/part-of"
	LabelAppManagedBy = "app.kubernetes.io/managed-by"
)

// Annotations users set.
const (
	// AnnotationPauseReconciliation set to "true" on any Kafkaplane resource stops its reconciliation.
	AnnotationPauseReconciliation = "kafkaplane.io/pause-reconciliation"
	// AnnotationManualRollingUpdate set to "true" on a KafkaNodePool or a node pod rolls it safely.
	AnnotationManualRollingUpdate = "kafkaplane.io/manual-rolling-update"
	// AnnotationNextNodeIDs on a KafkaNodePool: IDs or ranges to take new node IDs from, e.g. "[100-199]".
	AnnotationNextNodeIDs = "kafkaplane.io/next-node-ids"
	// AnnotationRemoveNodeIDs on a KafkaNodePool: IDs or ranges to remove first on scale-down.
	AnnotationRemoveNodeIDs = "kafkaplane.io/remove-node-ids"
	// AnnotationManaged set to "false" on a KafkaTopic stops managing the topic without touching it.
	AnnotationManaged = "kafkaplane.io/managed"
	// AnnotationForceReplace set to "true" on a generated CA's key Secret (<cluster>-cluster-ca,
	// <cluster>-clients-ca) replaces the CA's private key now, as a renewal under the replace-key
	// policy would (Strimzi's strimzi.io/force-replace); the operator removes it.
	AnnotationForceReplace = "kafkaplane.io/force-replace"
	// AnnotationForceRenew set to "true" on a generated CA's cert Secret renews the CA
	// certificate now, under the spec's certificateExpirationPolicy (Strimzi's
	// strimzi.io/force-renew); the operator removes it.
	AnnotationForceRenew = "kafkaplane.io/force-renew"
)

// Finalizers of the entity operators.
const (
	FinalizerTopicOperator = "kafkaplane.io/topic-operator"
	FinalizerUserOperator  = "kafkaplane.io/user-operator"
)

// Ports. 9090 and 9091 belong to the operator; user listeners take 9092 and above, except the
// metrics port and 9999 (JMX by Strimzi's convention, reserved so migrated manifests keep working).
const (
	PortControlPlane       = 9090 // KRaft controller quorum
	PortReplication        = 9091 // inter-broker replication and the operators' admin traffic (mTLS)
	PortMinUserListener    = 9092
	PortMetrics            = 9404
	PortReservedJMX        = 9999
	ContainerImageRegistry = "ghcr.io/kafkaplane"
)

// Binaries, which are also the image names.
const (
	BinaryClusterOperator = "cluster-operator"
	BinaryTopicOperator   = "topic-operator"
	BinaryUserOperator    = "user-operator"
)

// ImageJMXExporter is the image holding the Prometheus JMX exporter's Java agent at
// JMXExporterJar, the cluster operator's default for nodes of a Kafka with metricsConfig.
const (
	ImageJMXExporter = "jmx-exporter"
	JMXExporterJar   = "/opt/jmx-exporter/jmx_prometheus_javaagent.jar"
)

// Image returns the image reference of one of our binaries at a version, e.g.
// ghcr.io/kafkaplane/topic-operator:0.1.0.
func Image(binary, version string) string {
	return fmt.Sprintf("%s/%s:%s", ContainerImageRegistry, binary, version)
}

// NodeName is the name of a node's pod, its ConfigMap and its certificate Secret.
func NodeName(cluster, pool string, id int32) string {
	return cluster + "-" + pool + "-" + strconv.Itoa(int(id))
}

// DataClaimName is the PVC of a node with single-volume persistent storage.
func DataClaimName(cluster, pool string, id int32) string {
	return "data-" + NodeName(cluster, pool, id)
}

// JBODClaimName is the PVC of one JBOD volume of a node.
func JBODClaimName(volumeID int32, cluster, pool string, id int32) string {
	return "data-" + strconv.Itoa(int(volumeID)) + "-" + NodeName(cluster, pool, id)
}

// BootstrapServiceName is the ClusterIP service with a port per internal listener (and 9091).
func BootstrapServiceName(cluster string) string { return cluster + "-kafka-bootstrap" }

// ListenerCertificateName is the cert-manager Certificate of a listener with
// configuration.certManager, and the Secret cert-manager writes its certificate into.
func ListenerCertificateName(cluster, listener string) string {
	return cluster + "-kafka-" + listener + "-certificate"
}

// BrokersServiceName is the headless service that gives every node a DNS name.
func BrokersServiceName(cluster string) string { return cluster + "-kafka-brokers" }

// ListenerBootstrapServiceName is the bootstrap service of an external listener.
func ListenerBootstrapServiceName(cluster, listener string) string {
	return cluster + "-kafka-" + listener + "-bootstrap"
}

// PerBrokerServiceName is the per-broker service of an external listener.
func PerBrokerServiceName(cluster, pool, listener string, id int32) string {
	return cluster + "-" + pool + "-" + listener + "-" + strconv.Itoa(int(id))
}

// CA secrets: the public certificate (ca.crt, ca.p12, ca.password) and the private key (ca.key).
func ClusterCACertSecretName(cluster string) string { return cluster + "-cluster-ca-cert" }
func ClusterCAKeySecretName(cluster string) string  { return cluster + "-cluster-ca" }
func ClientsCACertSecretName(cluster string) string { return cluster + "-clients-ca-cert" }
func ClientsCAKeySecretName(cluster string) string  { return cluster + "-clients-ca" }

// EntityTopicOperatorName names the topic operator's Deployment, ServiceAccount, Role and Lease.
func EntityTopicOperatorName(cluster string) string { return cluster + "-entity-topic-operator" }

// EntityUserOperatorName names the user operator's Deployment, ServiceAccount, Role and Lease.
func EntityUserOperatorName(cluster string) string { return cluster + "-entity-user-operator" }

// EntityOperatorCertsSecretName is the client-certificate Secret of an entity operator, given
// the name from EntityTopicOperatorName or EntityUserOperatorName.
func EntityOperatorCertsSecretName(entityOperator string) string { return entityOperator + "-certs" }

// Maximum length of a Kafka's name, so that <cluster>-kafka-<listener>-bootstrap (listener names
// have at most 11 characters) stays within the 63 characters of a DNS label.
const MaxKafkaNameLength = 35
