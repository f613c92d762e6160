// Package v1beta1 is the kafkaplane.io/v1beta1 API: Kafka, KafkaNodePool, KafkaTopic and
// KafkaUser. The shapes follow Strimzi's kafka.strimzi.io resources field for field, so that its
// users recognise them; where a Strimzi field is awkward, the type comment says what changed and
// why. names.go fixes the names, labels, annotations, finalizers and ports that every operator,
// example and user relies on.
//
// +k8s:deepcopy-gen=package
// +groupName=kafkaplane.io
// +kubebuilder:object:generate=true
package v1beta1
