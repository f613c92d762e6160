package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KafkaUser is a principal of the Kafka named by its kafkaplane.io/cluster label: credentials in a
// Secret named after the user, plus ACLs and quotas in Kafka.
//
// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ku,categories=kafkaplane
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.metadata.labels.kafkaplane\.io/cluster`
// +kubebuilder:printcolumn:name="Authentication",type=string,JSONPath=`.spec.authentication.type`
// +kubebuilder:printcolumn:name="Authorization",type=string,JSONPath=`.spec.authorization.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 64",message="a user name has at most 64 characters (it becomes a certificate common name)"
type KafkaUser struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired user.
	Spec KafkaUserSpec `json:"spec"`
	// Status is the user as the operator last saw it.
	// +optional
	Status KafkaUserStatus `json:"status,omitempty"`
}

// KafkaUserList is a list of users.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type KafkaUserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KafkaUser `json:"items"`
}

// KafkaUserSpec is the desired state of a user.
type KafkaUserSpec struct {
	// Authentication of the user; none (ACLs and quotas only) when omitted.
	// +optional
	Authentication *KafkaUserAuthentication `json:"authentication,omitempty"`
	// Authorization of the user: ACL rules.
	// +optional
	Authorization *KafkaUserAuthorization `json:"authorization,omitempty"`
	// Quotas of the user.
	// +optional
	Quotas *KafkaUserQuotas `json:"quotas,omitempty"`
	// Template customises the user's Secret.
	// +optional
	Template *KafkaUserTemplate `json:"template,omitempty"`
}

// UserAuthenticationType is how a user authenticates.
// +kubebuilder:validation:Enum=tls;tls-external;scram-sha-512
type UserAuthenticationType string

// User authentication types.
const (
	UserAuthTLS         UserAuthenticationType = "tls"
	UserAuthTLSExternal UserAuthenticationType = "tls-external"
	UserAuthScramSha512 UserAuthenticationType = "scram-sha-512"
)

// KafkaUserAuthentication configures a user's credentials.
//
// +kubebuilder:validation:XValidation:rule="self.type == 'scram-sha-512' || !has(self.password)",message="password is only for scram-sha-512 users"
// +kubebuilder:validation:XValidation:rule="self.type == 'tls' || !has(self.certificate)",message="certificate settings are only for tls users"
type KafkaUserAuthentication struct {
	// Type: tls (a certificate from the clients CA), tls-external (a certificate issued
	// elsewhere; principal User:CN=<name>), or scram-sha-512 (a password).
	Type UserAuthenticationType `json:"type"`
	// Password of a scram-sha-512 user, from a Secret; generated (32 characters) when omitted.
	// +optional
	Password *Password `json:"password,omitempty"`
	// Certificate settings of a tls user. Strimzi takes the validity of every user's certificate
	// from the clients CA; here one user can have a shorter-lived certificate.
	// +optional
	Certificate *UserCertificate `json:"certificate,omitempty"`
}

// Password names where a SCRAM password comes from.
type Password struct {
	// ValueFrom names the Secret key holding the password.
	ValueFrom PasswordSource `json:"valueFrom"`
}

// PasswordSource names a Secret key.
type PasswordSource struct {
	// SecretKeyRef names a key of a Secret in the user's namespace.
	SecretKeyRef SecretKeySelector `json:"secretKeyRef"`
}

// UserCertificate sets the validity of a tls user's certificate.
//
// +kubebuilder:validation:XValidation:rule="!has(self.validityDays) || !has(self.renewalDays) || self.renewalDays < self.validityDays",message="renewalDays must be less than validityDays"
type UserCertificate struct {
	// ValidityDays of the certificate; the clients CA's when omitted.
	// +kubebuilder:validation:Minimum=1
	// +optional
	ValidityDays *int32 `json:"validityDays,omitempty"`
	// RenewalDays before expiry at which it is renewed; the clients CA's when omitted.
	// +kubebuilder:validation:Minimum=1
	// +optional
	RenewalDays *int32 `json:"renewalDays,omitempty"`
}

// KafkaUserAuthorization configures a user's ACLs.
type KafkaUserAuthorization struct {
	// Type of authorization.
	// +kubebuilder:validation:Enum=simple
	Type string `json:"type"`
	// ACLs of the user.
	// +kubebuilder:validation:MaxItems=512
	// +optional
	ACLs []ACLRule `json:"acls,omitempty"`
}

// ACLRuleType allows or denies.
// +kubebuilder:validation:Enum=allow;deny
type ACLRuleType string

// ACL rule types.
const (
	ACLAllow ACLRuleType = "allow"
	ACLDeny  ACLRuleType = "deny"
)

// ACLOperation is a Kafka ACL operation.
// +kubebuilder:validation:Enum=Read;Write;Create;Delete;Alter;Describe;ClusterAction;AlterConfigs;DescribeConfigs;IdempotentWrite;All
type ACLOperation string

// ACLRule is one ACL of a user.
//
// +kubebuilder:validation:XValidation:rule="has(self.operations) != has(self.operation)",message="an ACL rule takes operations (a list) or operation (one, Strimzi's older form), not both"
// +kubebuilder:validation:XValidation:rule="self.resource.type != 'topic' || ((!has(self.operations) || self.operations.all(o, o in ['Read','Write','Create','Delete','Alter','Describe','AlterConfigs','DescribeConfigs','All'])) && (!has(self.operation) || self.operation in ['Read','Write','Create','Delete','Alter','Describe','AlterConfigs','DescribeConfigs','All']))",message="topic ACLs take Read, Write, Create, Delete, Alter, Describe, AlterConfigs, DescribeConfigs or All"
// +kubebuilder:validation:XValidation:rule="self.resource.type != 'group' || ((!has(self.operations) || self.operations.all(o, o in ['Read','Delete','Describe','All'])) && (!has(self.operation) || self.operation in ['Read','Delete','Describe','All']))",message="group ACLs take Read, Delete, Describe or All"
// +kubebuilder:validation:XValidation:rule="self.resource.type != 'cluster' || ((!has(self.operations) || self.operations.all(o, o in ['Create','ClusterAction','DescribeConfigs','AlterConfigs','IdempotentWrite','Alter','Describe','All'])) && (!has(self.operation) || self.operation in ['Create','ClusterAction','DescribeConfigs','AlterConfigs','IdempotentWrite','Alter','Describe','All']))",message="cluster ACLs take Create, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, Alter, Describe or All"
// +kubebuilder:validation:XValidation:rule="self.resource.type != 'transactionalId' || ((!has(self.operations) || self.operations.all(o, o in ['Describe','Write','All'])) && (!has(self.operation) || self.operation in ['Describe','Write','All']))",message="transactionalId ACLs take Describe, Write or All"
type ACLRule struct {
	// Type: allow or deny.
	// +kubebuilder:default=allow
	// +optional
	Type ACLRuleType `json:"type,omitempty"`
	// Resource the rule applies to.
	Resource ACLResource `json:"resource"`
	// Operations the rule allows or denies.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=11
	// +optional
	Operations []ACLOperation `json:"operations,omitempty"`
	// Operation is one operation, the form of Strimzi's v1beta1 and v1beta2 KafkaUsers; use
	// operations or operation, not both.
	// +optional
	Operation ACLOperation `json:"operation,omitempty"`
	// Host the rule applies to; every host (*) when omitted.
	// +kubebuilder:default="*"
	// +optional
	Host string `json:"host,omitempty"`
}

// ACLResourceType is the kind of resource of an ACL.
// +kubebuilder:validation:Enum=topic;group;cluster;transactionalId
type ACLResourceType string

// ACL resource types.
const (
	ACLResourceTopic           ACLResourceType = "topic"
	ACLResourceGroup           ACLResourceType = "group"
	ACLResourceCluster         ACLResourceType = "cluster"
	ACLResourceTransactionalID ACLResourceType = "transactionalId"
)

// ACLPatternType says how an ACL's name matches resources.
// +kubebuilder:validation:Enum=literal;prefix
type ACLPatternType string

// ACL pattern types.
const (
	ACLPatternLiteral ACLPatternType = "literal"
	ACLPatternPrefix  ACLPatternType = "prefix"
)

// ACLResource is the resource of an ACL rule.
//
// +kubebuilder:validation:XValidation:rule="self.type == 'cluster' ? !has(self.name) : has(self.name)",message="topic, group and transactionalId resources need a name ('*' for all); the cluster resource takes none"
type ACLResource struct {
	// Type of resource.
	Type ACLResourceType `json:"type"`
	// Name of the resource, or a prefix with patternType prefix; * means all.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Name string `json:"name,omitempty"`
	// PatternType: literal (the default) or prefix.
	// +kubebuilder:default=literal
	// +optional
	PatternType ACLPatternType `json:"patternType,omitempty"`
}

// KafkaUserQuotas are the user's client quotas.
type KafkaUserQuotas struct {
	// ProducerByteRate is the bytes per second the user may produce per broker.
	// +kubebuilder:validation:Minimum=0
	// +optional
	ProducerByteRate *int64 `json:"producerByteRate,omitempty"`
	// ConsumerByteRate is the bytes per second the user may consume per broker.
	// +kubebuilder:validation:Minimum=0
	// +optional
	ConsumerByteRate *int64 `json:"consumerByteRate,omitempty"`
	// RequestPercentage is the share of broker request-handler and network threads the user may
	// take, in percent of one thread.
	// +kubebuilder:validation:Minimum=0
	// +optional
	RequestPercentage *int32 `json:"requestPercentage,omitempty"`
	// ControllerMutationRate is the partition mutations per second allowed (create, delete,
	// create partitions): a number such as 0.5 (Strimzi's form) or a quantity such as 500m.
	// A value that is neither ends as Ready=False, reason InvalidSpec.
	// +optional
	ControllerMutationRate *Rate `json:"controllerMutationRate,omitempty"`
}

// KafkaUserTemplate customises the user's Secret.
type KafkaUserTemplate struct {
	// Secret template.
	// +optional
	Secret *ResourceTemplate `json:"secret,omitempty"`
}

// KafkaUserStatus is the observed state of a user.
type KafkaUserStatus struct {
	// Conditions: Ready, with a reason when not.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Username is the principal's name: CN=<user> for tls users, <user> for SCRAM.
	// +optional
	Username string `json:"username,omitempty"`
	// Secret is the name of the Secret holding the credentials.
	// +optional
	Secret string `json:"secret,omitempty"`
}
