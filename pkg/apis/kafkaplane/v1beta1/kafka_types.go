package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kafka is a KRaft Kafka cluster. Its nodes come from the KafkaNodePools labelled
// kafkaplane.io/cluster=<name>: at least one pool with the broker role and one with the
// controller role.
//
// The name is a DNS-1035 label of at most 35 characters, so that every name derived from it (for
// example <cluster>-kafka-<listener>-bootstrap) is a valid Service name.
//
// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=k,categories=kafkaplane
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.kafkaVersion`
// +kubebuilder:printcolumn:name="Metadata Version",type=string,JSONPath=`.status.kafkaMetadataVersion`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="a Kafka name must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 35",message="a Kafka name has at most 35 characters, so that <cluster>-kafka-<listener>-bootstrap fits in 63"
type Kafka struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired cluster.
	Spec KafkaSpec `json:"spec"`
	// Status is the cluster as the operator last saw it.
	// +optional
	Status KafkaStatus `json:"status,omitempty"`
}

// KafkaList is a list of Kafka clusters.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type KafkaList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Kafka `json:"items"`
}

// KafkaSpec is the desired state of a Kafka cluster.
type KafkaSpec struct {
	// Kafka configures the brokers and controllers: version, listeners, security, config.
	Kafka KafkaClusterSpec `json:"kafka"`
	// EntityOperator asks for a topic operator and/or a user operator for this cluster. Unlike
	// Strimzi, each runs as its own Deployment with its own image, service account and Role.
	// +optional
	EntityOperator *EntityOperatorSpec `json:"entityOperator,omitempty"`
	// ClusterCa configures the CA that signs the nodes' and operators' certificates.
	// +optional
	ClusterCa *CertificateAuthority `json:"clusterCa,omitempty"`
	// ClientsCa configures the CA that signs the KafkaUsers' certificates.
	// +optional
	ClientsCa *CertificateAuthority `json:"clientsCa,omitempty"`
	// KafkaExporter turns on consumer-lag metrics (Strimzi's Kafka Exporter's job): the topic
	// operator, which holds a connection to the cluster already, serves them on its /metrics
	// with Kafka Exporter's metric names. It needs entityOperator.topicOperator.
	// +optional
	KafkaExporter *KafkaExporterSpec `json:"kafkaExporter,omitempty"`
}

// KafkaExporterSpec selects the consumer groups and topics whose lag is exported.
// +kubebuilder:validation:XValidation:rule="!has(self.groupRegex) || size(self.groupRegex) > 0",message="groupRegex must not be empty (omit it for every group)"
type KafkaExporterSpec struct {
	// GroupRegex selects the consumer groups (a whole-name match, RE2 syntax); every group when
	// omitted.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	GroupRegex string `json:"groupRegex,omitempty"`
	// TopicRegex selects the topics (a whole-name match, RE2 syntax); every topic when omitted.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	TopicRegex string `json:"topicRegex,omitempty"`
	// IntervalSeconds is how often the lag is read from Kafka (scrapes serve the last read).
	// +kubebuilder:validation:Minimum=5
	// +kubebuilder:validation:Maximum=3600
	// +optional
	IntervalSeconds *int32 `json:"intervalSeconds,omitempty"`
	// MaxPartitions bounds the partitions exported, group by group; groups past it are skipped
	// and counted in kafkaplane_lag_skipped_groups.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxPartitions *int32 `json:"maxPartitions,omitempty"`
}

// KafkaClusterSpec configures the Kafka nodes of a cluster.
type KafkaClusterSpec struct {
	// Version of Apache Kafka, e.g. 4.1.1. The operator's default version when omitted.
	// +kubebuilder:validation:Pattern=`^[0-9]+\.[0-9]+\.[0-9]+$`
	// +optional
	Version string `json:"version,omitempty"`
	// MetadataVersion is the KRaft metadata.version, e.g. 4.1-IV1 or a release such as 4.1 (its
	// newest level). A new cluster is formatted at it; on a running cluster metadata.version is
	// raised to it once every node runs the spec's version (never lowered: a lower value is
	// refused in the Ready condition). When omitted it follows version: after an upgrade, the
	// highest level every node supports. status.kafkaMetadataVersion is what Kafka finalized.
	// +kubebuilder:validation:Pattern=`^[0-9]+\.[0-9]+(-IV[0-9]+)?$`
	// +optional
	MetadataVersion string `json:"metadataVersion,omitempty"`
	// Image of the Kafka containers. Default: apache/kafka:<version>.
	// +optional
	Image string `json:"image,omitempty"`
	// Listeners on which clients reach the brokers. The operator adds its own controller (9090)
	// and replication (9091) listeners.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(l, self.exists_one(m, m.port == l.port))",message="listener ports must be unique"
	Listeners []GenericKafkaListener `json:"listeners"`
	// Authorization of client requests; none when omitted.
	// +optional
	Authorization *KafkaAuthorization `json:"authorization,omitempty"`
	// Config is broker and controller configuration (server.properties keys). Keys the operator
	// owns (listeners, node identity, quorum, log dirs) are ignored, reported in a Warning
	// condition and an Event; owned security keys (ssl.*, sasl.*, security.*, authorizer.*,
	// super.users, principal.builder.class), which ignoring would leave access wider than asked,
	// refuse the Kafka (Ready=False, InvalidSpec) until removed.
	// +optional
	// +kubebuilder:validation:MaxProperties=1000
	Config map[string]ConfigValue `json:"config,omitempty"`
	// Rack awareness: each broker's broker.rack is the value of this label on its node.
	// +optional
	Rack *Rack `json:"rack,omitempty"`
	// Template customises the objects the operator creates for the cluster.
	// +optional
	Template *KafkaClusterTemplate `json:"template,omitempty"`
	// MetricsConfig exposes Prometheus metrics on port 9404.
	// +optional
	MetricsConfig *MetricsConfig `json:"metricsConfig,omitempty"`
	// Logging of the Kafka nodes.
	// +optional
	Logging *Logging `json:"logging,omitempty"`
	// Resources of the Kafka containers of pools that set none.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// JvmOptions of the nodes of pools that set none (a pool's jvmOptions replace these whole).
	// +optional
	JvmOptions *JvmOptions `json:"jvmOptions,omitempty"`
	// LivenessProbe timings of the Kafka containers; the check stays a connection to the node's
	// operator listener.
	// +kubebuilder:validation:XValidation:rule="!has(self.successThreshold) || self.successThreshold == 1",message="a liveness probe's successThreshold must be 1"
	// +optional
	LivenessProbe *Probe `json:"livenessProbe,omitempty"`
	// ReadinessProbe timings of the Kafka containers.
	// +optional
	ReadinessProbe *Probe `json:"readinessProbe,omitempty"`
}

// Probe sets the timings of a container's probe.
type Probe struct {
	// InitialDelaySeconds before the first check.
	// +kubebuilder:validation:Minimum=0
	// +optional
	InitialDelaySeconds *int32 `json:"initialDelaySeconds,omitempty"`
	// TimeoutSeconds of one check.
	// +kubebuilder:validation:Minimum=1
	// +optional
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
	// PeriodSeconds between checks.
	// +kubebuilder:validation:Minimum=1
	// +optional
	PeriodSeconds *int32 `json:"periodSeconds,omitempty"`
	// SuccessThreshold: consecutive successes that count as success.
	// +kubebuilder:validation:Minimum=1
	// +optional
	SuccessThreshold *int32 `json:"successThreshold,omitempty"`
	// FailureThreshold: consecutive failures that count as failure.
	// +kubebuilder:validation:Minimum=1
	// +optional
	FailureThreshold *int32 `json:"failureThreshold,omitempty"`
}

// ListenerType says how clients reach a listener.
// +kubebuilder:validation:Enum=internal;cluster-ip;nodeport;loadbalancer;ingress
type ListenerType string

// Listener types.
const (
	ListenerInternal     ListenerType = "internal"
	ListenerClusterIP    ListenerType = "cluster-ip"
	ListenerNodePort     ListenerType = "nodeport"
	ListenerLoadBalancer ListenerType = "loadbalancer"
	ListenerIngress      ListenerType = "ingress"
)

// GenericKafkaListener is one client listener.
//
// +kubebuilder:validation:XValidation:rule="!has(self.authentication) || self.authentication.type != 'tls' || self.tls",message="mutual TLS authentication needs tls: true"
// +kubebuilder:validation:XValidation:rule="self.type != 'ingress' || self.tls",message="an ingress listener needs tls: true (TLS passthrough)"
// +kubebuilder:validation:XValidation:rule="!has(self.configuration) || !has(self.configuration.brokerCertChainAndKey) || self.tls",message="configuration.brokerCertChainAndKey needs tls: true"
// +kubebuilder:validation:XValidation:rule="!has(self.configuration) || !has(self.configuration.certManager) || self.tls",message="configuration.certManager needs tls: true"
// +kubebuilder:validation:XValidation:rule="!has(self.configuration) || !has(self.configuration.certManager) || !has(self.configuration.brokerCertChainAndKey)",message="configuration.certManager and configuration.brokerCertChainAndKey are exclusive: the certificate comes from one of them"
type GenericKafkaListener struct {
	// Name of the listener: 1 to 11 lower-case letters and digits; not replication, ctrlplane or
	// prometheus, whose port names (tcp-<name>) the operator's own ports use.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]{1,11}$`
	// +kubebuilder:validation:XValidation:rule="!(self in ['replication', 'ctrlplane', 'prometheus'])",message="listener names replication, ctrlplane and prometheus are reserved: their port names are the operator's"
	Name string `json:"name"`
	// Port of the listener: 9092 or above; 9404 (metrics) and 9999 are reserved.
	// +kubebuilder:validation:Minimum=9092
	// +kubebuilder:validation:Maximum=65535
	// +kubebuilder:validation:XValidation:rule="self != 9404 && self != 9999",message="ports 9404 (metrics) and 9999 are reserved"
	Port int32 `json:"port"`
	// Type says how clients reach the listener.
	Type ListenerType `json:"type"`
	// TLS encrypts the listener with a certificate from the cluster CA.
	// +kubebuilder:default=false
	TLS bool `json:"tls"`
	// Authentication of clients on this listener; none when omitted.
	// +optional
	Authentication *ListenerAuthentication `json:"authentication,omitempty"`
	// Configuration of the listener's services and advertised addresses.
	// +optional
	Configuration *ListenerConfiguration `json:"configuration,omitempty"`
	// NetworkPolicyPeers that may connect to the listener; everyone when empty.
	// +optional
	NetworkPolicyPeers []networkingv1.NetworkPolicyPeer `json:"networkPolicyPeers,omitempty"`
}

// ListenerAuthenticationType is how clients authenticate on a listener.
// +kubebuilder:validation:Enum=tls;scram-sha-512
type ListenerAuthenticationType string

// Listener authentication types.
const (
	ListenerAuthTLS         ListenerAuthenticationType = "tls"
	ListenerAuthScramSha512 ListenerAuthenticationType = "scram-sha-512"
)

// ListenerAuthentication configures client authentication on a listener.
type ListenerAuthentication struct {
	// Type is tls (mutual TLS, principal User:CN=<name>) or scram-sha-512.
	Type ListenerAuthenticationType `json:"type"`
}

// ListenerConfiguration configures a listener's services and advertised addresses.
type ListenerConfiguration struct {
	// Bootstrap configures the listener's bootstrap service.
	// +optional
	Bootstrap *ListenerBootstrap `json:"bootstrap,omitempty"`
	// Brokers overrides per broker (node ID): advertised address, node port, host.
	// +listType=map
	// +listMapKey=broker
	// +optional
	Brokers []ListenerBrokerOverride `json:"brokers,omitempty"`
	// Class is the ingress class or load balancer class.
	// +optional
	Class string `json:"class,omitempty"`
	// ExternalTrafficPolicy of nodeport and loadbalancer services.
	// +kubebuilder:validation:Enum=Local;Cluster
	// +optional
	ExternalTrafficPolicy string `json:"externalTrafficPolicy,omitempty"`
	// LoadBalancerSourceRanges of loadbalancer services.
	// +optional
	LoadBalancerSourceRanges []string `json:"loadBalancerSourceRanges,omitempty"`
	// PreferredNodePortAddressType is the node address a nodeport listener advertises.
	// +kubebuilder:validation:Enum=ExternalIP;ExternalDNS;InternalIP;InternalDNS;Hostname
	// +optional
	PreferredNodePortAddressType string `json:"preferredNodePortAddressType,omitempty"`
	// UseServiceDNSDomain advertises <service>.<namespace>.svc.cluster.local instead of
	// <service>.<namespace>.svc on internal listeners.
	// +optional
	UseServiceDNSDomain bool `json:"useServiceDnsDomain,omitempty"`
	// MaxConnections per broker on this listener.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxConnections *int32 `json:"maxConnections,omitempty"`
	// MaxConnectionCreationRate per second per broker on this listener.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxConnectionCreationRate *int32 `json:"maxConnectionCreationRate,omitempty"`
	// BrokerCertChainAndKey is the listener's server certificate from a Secret in the Kafka's
	// namespace (e.g. from a public CA for an external listener) instead of one the cluster CA
	// issues: the certificate chain, leaf first, and its private key, PEM. Every broker presents
	// it on this listener, so it must cover the names clients use (the bootstrap and each
	// broker's address); the other listeners and the nodes' own traffic keep the cluster CA. A
	// renewal (the same subject and names) is reloaded by the running brokers; a certificate with
	// another identity rolls them.
	// +optional
	BrokerCertChainAndKey *CertAndKeySecretSource `json:"brokerCertChainAndKey,omitempty"`
	// CertManager has cert-manager issue the listener's server certificate: the operator makes a
	// cert-manager Certificate <cluster>-kafka-<listener>-certificate for the listener's
	// bootstrap and every broker's advertised host, and the brokers serve what cert-manager
	// writes in the Secret of that name; a renewal is reloaded without a restart, as with
	// brokerCertChainAndKey.
	// +optional
	CertManager *ListenerCertManager `json:"certManager,omitempty"`
	// PublishNotReadyAddresses on the listener's services.
	// +optional
	PublishNotReadyAddresses bool `json:"publishNotReadyAddresses,omitempty"`
	// HostTemplate for ingress hosts, e.g. broker-{nodeId}.example.com.
	// +optional
	HostTemplate string `json:"hostTemplate,omitempty"`
	// AdvertisedHostTemplate for advertised hosts, e.g. {nodeId}.kafka.example.com.
	// +optional
	AdvertisedHostTemplate string `json:"advertisedHostTemplate,omitempty"`
}

// ListenerBootstrap configures a listener's bootstrap service.
type ListenerBootstrap struct {
	// AlternativeNames added to the brokers' certificates.
	// +optional
	AlternativeNames []string `json:"alternativeNames,omitempty"`
	// Host of the bootstrap ingress.
	// +optional
	Host string `json:"host,omitempty"`
	// NodePort of a nodeport bootstrap service.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	NodePort *int32 `json:"nodePort,omitempty"`
	// LoadBalancerIP requested for a loadbalancer bootstrap service.
	// +optional
	LoadBalancerIP string `json:"loadBalancerIP,omitempty"`
	// Annotations of the bootstrap service or ingress.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Labels of the bootstrap service or ingress.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// ListenerBrokerOverride configures one broker's address on a listener.
type ListenerBrokerOverride struct {
	// Broker is the node ID.
	// +kubebuilder:validation:Minimum=0
	Broker int32 `json:"broker"`
	// AdvertisedHost replaces the host the broker advertises.
	// +optional
	AdvertisedHost string `json:"advertisedHost,omitempty"`
	// AdvertisedPort replaces the port the broker advertises.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	AdvertisedPort *int32 `json:"advertisedPort,omitempty"`
	// Host of the broker's ingress.
	// +optional
	Host string `json:"host,omitempty"`
	// NodePort of the broker's nodeport service.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	NodePort *int32 `json:"nodePort,omitempty"`
	// LoadBalancerIP requested for the broker's loadbalancer service.
	// +optional
	LoadBalancerIP string `json:"loadBalancerIP,omitempty"`
	// Annotations of the broker's service or ingress.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Labels of the broker's service or ingress.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// KafkaAuthorization configures authorization. Only simple (Kafka's StandardAuthorizer with ACLs)
// is supported.
type KafkaAuthorization struct {
	// Type of authorization.
	// +kubebuilder:validation:Enum=simple
	Type string `json:"type"`
	// SuperUsers are principals allowed everything, e.g. User:CN=admin or User:admin; the User:
	// prefix may be left out, as Strimzi's manifests do (CN=admin). The operators' own principals
	// are always added.
	// +listType=set
	// +optional
	SuperUsers []string `json:"superUsers,omitempty"`
}

// Rack configures rack awareness.
type Rack struct {
	// TopologyKey is the node label whose value becomes broker.rack, e.g.
	// topology.kubernetes.io/zone.
	// +kubebuilder:validation:MinLength=1
	TopologyKey string `json:"topologyKey"`
}

// KafkaClusterTemplate customises the objects created for the Kafka nodes. Pools can override the
// pod, container and PVC templates.
type KafkaClusterTemplate struct {
	// Pod template of every node.
	// +optional
	Pod *PodTemplate `json:"pod,omitempty"`
	// BootstrapService template.
	// +optional
	BootstrapService *ServiceTemplate `json:"bootstrapService,omitempty"`
	// BrokersService (headless) template.
	// +optional
	BrokersService *ServiceTemplate `json:"brokersService,omitempty"`
	// ExternalBootstrapService template of external listeners.
	// +optional
	ExternalBootstrapService *ServiceTemplate `json:"externalBootstrapService,omitempty"`
	// PerPodService template of external listeners.
	// +optional
	PerPodService *ServiceTemplate `json:"perPodService,omitempty"`
	// ExternalBootstrapIngress template of ingress listeners.
	// +optional
	ExternalBootstrapIngress *ResourceTemplate `json:"externalBootstrapIngress,omitempty"`
	// PerPodIngress template of ingress listeners.
	// +optional
	PerPodIngress *ResourceTemplate `json:"perPodIngress,omitempty"`
	// PersistentVolumeClaim template.
	// +optional
	PersistentVolumeClaim *ResourceTemplate `json:"persistentVolumeClaim,omitempty"`
	// PodDisruptionBudget template.
	// +optional
	PodDisruptionBudget *PodDisruptionBudgetTemplate `json:"podDisruptionBudget,omitempty"`
	// KafkaContainer template.
	// +optional
	KafkaContainer *ContainerTemplate `json:"kafkaContainer,omitempty"`
	// InitContainer template: the init container that copies the JMX exporter's agent when
	// metricsConfig is set (the nodes have no other; rack labels come through the downward API).
	// +optional
	InitContainer *ContainerTemplate `json:"initContainer,omitempty"`
	// ServiceAccount template.
	// +optional
	ServiceAccount *ResourceTemplate `json:"serviceAccount,omitempty"`
}

// MetricsConfig exposes Prometheus metrics.
type MetricsConfig struct {
	// Type of exporter: jmxPrometheusExporter, configured by a ConfigMap key.
	// +kubebuilder:validation:Enum=jmxPrometheusExporter
	Type string `json:"type"`
	// ValueFrom names the ConfigMap key holding the exporter's configuration.
	ValueFrom MetricsConfigSource `json:"valueFrom"`
}

// MetricsConfigSource names where a metrics configuration is.
type MetricsConfigSource struct {
	// ConfigMapKeyRef names the key of a ConfigMap in the Kafka's namespace.
	ConfigMapKeyRef ConfigMapKeySelector `json:"configMapKeyRef"`
}

// Logging configures log4j loggers.
//
// +kubebuilder:validation:XValidation:rule="self.type == 'inline' ? !has(self.valueFrom) : (has(self.valueFrom) && !has(self.loggers))",message="inline logging takes loggers; external logging takes valueFrom"
type Logging struct {
	// Type is inline (loggers) or external (a ConfigMap key with a log4j2 configuration).
	// +kubebuilder:validation:Enum=inline;external
	Type string `json:"type"`
	// Loggers and their levels, e.g. rootLogger.level: INFO.
	// +optional
	Loggers map[string]string `json:"loggers,omitempty"`
	// ValueFrom names the ConfigMap key of an external configuration.
	// +optional
	ValueFrom *LoggingSource `json:"valueFrom,omitempty"`
}

// LoggingSource names where a logging configuration is.
type LoggingSource struct {
	// ConfigMapKeyRef names the key of a ConfigMap in the resource's namespace.
	ConfigMapKeyRef ConfigMapKeySelector `json:"configMapKeyRef"`
}

// EntityOperatorSpec asks for the topic and user operators of a cluster.
type EntityOperatorSpec struct {
	// TopicOperator runs a topic operator for the cluster.
	// +optional
	TopicOperator *EntityTopicOperatorSpec `json:"topicOperator,omitempty"`
	// UserOperator runs a user operator for the cluster.
	// +optional
	UserOperator *EntityUserOperatorSpec `json:"userOperator,omitempty"`
}

// EntityOperatorCommon holds the settings every entity operator has.
type EntityOperatorCommon struct {
	// WatchedNamespace is where the operator watches resources; the Kafka's namespace when empty.
	// +optional
	WatchedNamespace string `json:"watchedNamespace,omitempty"`
	// Image of the operator; the cluster operator's default (ghcr.io/kafkaplane/<binary> at its
	// own version) when empty.
	// +optional
	Image string `json:"image,omitempty"`
	// Resources of the operator's container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// ReconciliationIntervalMs is the period of full resyncs.
	// +kubebuilder:validation:Minimum=1000
	// +optional
	ReconciliationIntervalMs *int64 `json:"reconciliationIntervalMs,omitempty"`
	// LogLevel of the operator; INFO when empty. DEBUG and TRACE raise the log verbosity.
	// +kubebuilder:validation:Enum=ERROR;WARN;INFO;DEBUG;TRACE
	// +optional
	LogLevel string `json:"logLevel,omitempty"`
	// Template customises the Deployment, pod and container.
	// +optional
	Template *EntityOperatorTemplate `json:"template,omitempty"`
}

// EntityTopicOperatorSpec configures a topic operator.
type EntityTopicOperatorSpec struct {
	EntityOperatorCommon `json:",inline"`
}

// EntityUserOperatorSpec configures a user operator.
type EntityUserOperatorSpec struct {
	EntityOperatorCommon `json:",inline"`
	// SecretPrefix is prepended to the names of the users' Secrets (<prefix><user>). A user's
	// Secret made under an earlier prefix is deleted once the one under the new prefix is written.
	// +kubebuilder:validation:Pattern=`^[a-z0-9][-a-z0-9.]*$`
	// +kubebuilder:validation:MaxLength=100
	// +optional
	SecretPrefix string `json:"secretPrefix,omitempty"`
}

// EntityOperatorTemplate customises an entity operator's objects.
type EntityOperatorTemplate struct {
	// Deployment template.
	// +optional
	Deployment *DeploymentTemplate `json:"deployment,omitempty"`
	// Pod template.
	// +optional
	Pod *PodTemplate `json:"pod,omitempty"`
	// Container template.
	// +optional
	Container *ContainerTemplate `json:"container,omitempty"`
	// ServiceAccount template.
	// +optional
	ServiceAccount *ResourceTemplate `json:"serviceAccount,omitempty"`
}

// CertificateExpirationPolicy says what happens when a CA certificate is due for renewal.
// +kubebuilder:validation:Enum=renew-certificate;replace-key
type CertificateExpirationPolicy string

// Expiration policies.
const (
	RenewCertificate CertificateExpirationPolicy = "renew-certificate"
	ReplaceKey       CertificateExpirationPolicy = "replace-key"
)

// CertificateAuthority configures one of a cluster's CAs.
//
// +kubebuilder:validation:XValidation:rule="self.renewalDays < self.validityDays",message="renewalDays must be less than validityDays"
type CertificateAuthority struct {
	// GenerateCertificateAuthority: true lets the operator create and renew the CA; false means
	// the user provides the CA Secrets.
	// +kubebuilder:default=true
	// +optional
	GenerateCertificateAuthority *bool `json:"generateCertificateAuthority,omitempty"`
	// GenerateSecretOwnerReference makes the Kafka own the CA Secrets, so they go with it.
	// +kubebuilder:default=true
	// +optional
	GenerateSecretOwnerReference *bool `json:"generateSecretOwnerReference,omitempty"`
	// ValidityDays of the CA and of the certificates it issues.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=365
	// +optional
	ValidityDays int32 `json:"validityDays,omitempty"`
	// RenewalDays before expiry at which certificates are renewed.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=30
	// +optional
	RenewalDays int32 `json:"renewalDays,omitempty"`
	// CertificateExpirationPolicy: renew-certificate keeps the key; replace-key makes a new one.
	// +kubebuilder:default=renew-certificate
	// +optional
	CertificateExpirationPolicy CertificateExpirationPolicy `json:"certificateExpirationPolicy,omitempty"`
}

// KafkaStatus is the observed state of a Kafka cluster.
type KafkaStatus struct {
	// Conditions: Ready, with a reason when not.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Listeners and how to reach them.
	// +optional
	Listeners []ListenerStatus `json:"listeners,omitempty"`
	// ClusterID of the KRaft cluster.
	// +optional
	ClusterID string `json:"clusterId,omitempty"`
	// KafkaVersion every node runs.
	// +optional
	KafkaVersion string `json:"kafkaVersion,omitempty"`
	// KafkaMetadataVersion is the metadata.version Kafka has finalized.
	// +optional
	KafkaMetadataVersion string `json:"kafkaMetadataVersion,omitempty"`
	// NodePools that belong to the cluster.
	// +optional
	NodePools []UsedNodePoolStatus `json:"nodePools,omitempty"`
	// OperatorLastSuccessfulVersion is the operator version of the last successful reconcile.
	// +optional
	OperatorLastSuccessfulVersion string `json:"operatorLastSuccessfulVersion,omitempty"`
	// RegisteredNodeIDs are the node IDs that ran in this cluster and may still be registered in
	// its metadata: a node removed by a scale-down is unregistered from Kafka (a removed node's
	// registration otherwise stays and blocks raising metadata.version), then leaves this list.
	// Used by the operator only.
	// +listType=set
	// +optional
	RegisteredNodeIDs []int32 `json:"registeredNodeIds,omitempty"`
}

// ListenerCertManager is how cert-manager issues a listener's certificate.
type ListenerCertManager struct {
	// IssuerRef is the cert-manager issuer: an Issuer in the Kafka's namespace, or a
	// ClusterIssuer.
	IssuerRef CertManagerIssuerRef `json:"issuerRef"`
	// Duration is the certificate's requested lifetime (cert-manager's default, 90 days, when
	// unset), e.g. 2160h.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
	// RenewBefore is how long before expiry cert-manager renews it (a third of the lifetime
	// when unset).
	// +optional
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
}

// CertManagerIssuerRef names a cert-manager issuer.
type CertManagerIssuerRef struct {
	// Name of the issuer.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Kind is Issuer (default) or ClusterIssuer, or an external issuer's kind.
	// +optional
	Kind string `json:"kind,omitempty"`
	// Group is the issuer's API group (default cert-manager.io).
	// +optional
	Group string `json:"group,omitempty"`
}

// CertAndKeySecretSource names a certificate and its private key in a Secret.
type CertAndKeySecretSource struct {
	// SecretName is the Secret, in the Kafka's namespace.
	// +kubebuilder:validation:MinLength=1
	SecretName string `json:"secretName"`
	// Certificate is the key of the certificate chain (PEM, leaf first).
	// +kubebuilder:validation:MinLength=1
	Certificate string `json:"certificate"`
	// Key is the key of the private key (PEM: PKCS#8, SEC 1 or PKCS#1).
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// ListenerStatus tells clients how to reach a listener.
type ListenerStatus struct {
	// Name of the listener.
	Name string `json:"name"`
	// Type of the listener.
	// +optional
	Type ListenerType `json:"type,omitempty"`
	// BootstrapServers as a comma-separated host:port list.
	// +optional
	BootstrapServers string `json:"bootstrapServers,omitempty"`
	// Addresses of the bootstrap service.
	// +optional
	Addresses []ListenerAddress `json:"addresses,omitempty"`
	// Certificates (PEM) clients must trust on a TLS listener: the cluster CA's, or the chain
	// of configuration.brokerCertChainAndKey.
	// +optional
	Certificates []string `json:"certificates,omitempty"`
}

// ListenerAddress is one host and port.
type ListenerAddress struct {
	// Host name or IP.
	Host string `json:"host"`
	// Port number.
	Port int32 `json:"port"`
}

// UsedNodePoolStatus names a pool of the cluster.
type UsedNodePoolStatus struct {
	// Name of the KafkaNodePool.
	Name string `json:"name"`
}
