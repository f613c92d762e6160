package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KafkaTopic is a topic of the Kafka named by its kafkaplane.io/cluster label. The topic's name
// is spec.topicName, or the resource's name when that is omitted; it cannot change.
//
// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kt,categories=kafkaplane
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.metadata.labels.kafkaplane\.io/cluster`
// +kubebuilder:printcolumn:name="Topic",type=string,JSONPath=`.status.topicName`,priority=1
// +kubebuilder:printcolumn:name="Partitions",type=integer,JSONPath=`.spec.partitions`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="has(self.spec.topicName) || size(self.metadata.name) <= 249",message="a topic name has at most 249 characters: set spec.topicName"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.spec.topicName) ? (has(self.spec.topicName) && self.spec.topicName == oldSelf.spec.topicName) : (!has(self.spec.topicName) || self.spec.topicName == self.metadata.name)",message="spec.topicName cannot change"
type KafkaTopic struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired topic.
	Spec KafkaTopicSpec `json:"spec"`
	// Status is the topic as the operator last saw it.
	// +optional
	Status KafkaTopicStatus `json:"status,omitempty"`
}

// KafkaTopicList is a list of topics.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type KafkaTopicList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KafkaTopic `json:"items"`
}

// KafkaTopicSpec is the desired state of a topic.
type KafkaTopicSpec struct {
	// TopicName is the topic's name in Kafka when it differs from the resource's name (which
	// must then not be a valid topic name, or the two would be confused). It cannot change.
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9._-]+$`
	// +kubebuilder:validation:MaxLength=249
	// +kubebuilder:validation:XValidation:rule="self != '.' && self != '..'",message="'.' and '..' are not topic names"
	// +optional
	TopicName string `json:"topicName,omitempty"`
	// Partitions of the topic; the broker's num.partitions when omitted. It can grow, never shrink.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:XValidation:rule="self >= oldSelf",message="partitions cannot be decreased"
	// +optional
	Partitions *int32 `json:"partitions,omitempty"`
	// Replicas of each partition; the broker's default.replication.factor when omitted.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=32767
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// Config is the topic's configuration (e.g. retention.ms). It is authoritative: keys set in
	// Kafka but absent here are reset to the broker default.
	// +kubebuilder:validation:MaxProperties=200
	// +optional
	Config map[string]ConfigValue `json:"config,omitempty"`
}

// KafkaTopicStatus is the observed state of a topic.
type KafkaTopicStatus struct {
	// Conditions: Ready, with reasons such as NotSupported, ResourceConflict, KafkaError,
	// Unmanaged and ReconciliationPaused.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// TopicName is the topic's name in Kafka.
	// +optional
	TopicName string `json:"topicName,omitempty"`
	// TopicID is the topic's ID in Kafka.
	// +optional
	TopicID string `json:"topicId,omitempty"`
	// ReplicasChange reports a replication-factor change under way.
	// +optional
	ReplicasChange *ReplicasChangeStatus `json:"replicasChange,omitempty"`
}

// ReplicasChangeStatus reports the progress of a replication-factor change.
type ReplicasChangeStatus struct {
	// TargetReplicas is the replication factor being moved to.
	TargetReplicas int32 `json:"targetReplicas"`
	// State is pending (not yet sent to Kafka) or ongoing (reassignments in progress).
	// +kubebuilder:validation:Enum=pending;ongoing
	State string `json:"state"`
	// Message gives details, such as an error.
	// +optional
	Message string `json:"message,omitempty"`
}
