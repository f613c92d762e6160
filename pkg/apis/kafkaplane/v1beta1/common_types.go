package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
)

// Condition types and reasons shared by every Kafkaplane resource. Conditions are
// metav1.Condition, each with the observedGeneration it was computed for.
const (
	// ConditionReady is True when the resource's desired state is in effect.
	ConditionReady = "Ready"
	// ConditionWarning is True while part of the spec is ignored (reason says which kind); the
	// rest is in effect and Ready can be True.
	ConditionWarning = "Warning"
	// ReasonIgnoredConfig: spec.kafka.config sets keys the operator owns; they are left out.
	ReasonIgnoredConfig = "IgnoredConfig"
	// ReasonCertificateNames: a listener's own certificate does not cover a host name the
	// brokers advertise on it; clients that verify host names refuse those brokers.
	ReasonCertificateNames = "CertificateNames"

	ReasonReady                = "Ready"
	ReasonReconciling          = "Reconciling"
	ReasonReconciliationPaused = "ReconciliationPaused"
	ReasonInvalidSpec          = "InvalidSpec"
	ReasonNotSupported         = "NotSupported"
	ReasonResourceConflict     = "ResourceConflict"
	ReasonKafkaError           = "KafkaError"
	ReasonInternalError        = "InternalError"
	ReasonUnmanaged            = "Unmanaged"
	// ReasonSecretNotFound: a Secret the spec names (e.g. a SCRAM password source) is missing.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonCAUnavailable: the CA that signs the resource's certificates cannot be read or used.
	ReasonCAUnavailable = "CAUnavailable"
)

// MetadataTemplate adds labels and annotations to an object the operator creates.
type MetadataTemplate struct {
	// Labels added to the object.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations added to the object.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ResourceTemplate customises the metadata of an object the operator creates.
type ResourceTemplate struct {
	// Metadata applied to the object.
	// +optional
	Metadata *MetadataTemplate `json:"metadata,omitempty"`
}

// PodTemplate customises the pods the operator creates.
type PodTemplate struct {
	// Metadata applied to the pods.
	// +optional
	Metadata *MetadataTemplate `json:"metadata,omitempty"`
	// ImagePullSecrets for pulling the pods' images.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	// SecurityContext of the pods. The default meets the restricted Pod Security Standard.
	// +optional
	SecurityContext *corev1.PodSecurityContext `json:"securityContext,omitempty"`
	// TerminationGracePeriodSeconds gives the process time to shut down cleanly.
	// +kubebuilder:validation:Minimum=0
	// +optional
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// Affinity of the pods (node affinity, pod affinity and anti-affinity).
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// Tolerations of the pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// NodeSelector of the pods.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// TopologySpreadConstraints of the pods.
	// +optional
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// PriorityClassName of the pods.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`
	// SchedulerName of the pods; the default scheduler when empty.
	// +optional
	SchedulerName string `json:"schedulerName,omitempty"`
	// HostAliases added to the pods' /etc/hosts.
	// +optional
	HostAliases []corev1.HostAlias `json:"hostAliases,omitempty"`
	// EnableServiceLinks injects service environment variables; off unless set.
	// +optional
	EnableServiceLinks *bool `json:"enableServiceLinks,omitempty"`
}

// ContainerTemplate customises a container the operator creates.
type ContainerTemplate struct {
	// Env adds environment variables to the container.
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`
	// SecurityContext of the container. The default meets the restricted Pod Security Standard.
	// +optional
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
}

// ServiceTemplate customises a Service the operator creates.
type ServiceTemplate struct {
	// Metadata applied to the Service.
	// +optional
	Metadata *MetadataTemplate `json:"metadata,omitempty"`
	// IPFamilyPolicy of the Service.
	// +kubebuilder:validation:Enum=SingleStack;PreferDualStack;RequireDualStack
	// +optional
	IPFamilyPolicy *corev1.IPFamilyPolicy `json:"ipFamilyPolicy,omitempty"`
	// IPFamilies of the Service.
	// +optional
	IPFamilies []corev1.IPFamily `json:"ipFamilies,omitempty"`
}

// PodDisruptionBudgetTemplate customises the PodDisruptionBudget of a component.
type PodDisruptionBudgetTemplate struct {
	// Metadata applied to the PodDisruptionBudget.
	// +optional
	Metadata *MetadataTemplate `json:"metadata,omitempty"`
	// MaxUnavailable pods allowed by the budget; 1 when omitted. The operator's own roller does not
	// go through the eviction API: it has stricter, Kafka-aware rules.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxUnavailable *int32 `json:"maxUnavailable,omitempty"`
}

// DeploymentTemplate customises a Deployment the operator creates.
type DeploymentTemplate struct {
	// Metadata applied to the Deployment.
	// +optional
	Metadata *MetadataTemplate `json:"metadata,omitempty"`
}

// SecretKeySelector names one key of a Secret in the resource's namespace.
type SecretKeySelector struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key in the Secret.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// ConfigMapKeySelector names one key of a ConfigMap in the resource's namespace.
type ConfigMapKeySelector struct {
	// Name of the ConfigMap.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key in the ConfigMap.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}
