package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KafkaNodePool is a group of Kafka nodes with the same roles, storage and resources. It belongs
// to the Kafka named by its kafkaplane.io/cluster label. Node IDs are unique across the pools of
// a cluster, stable, and recorded in status.nodeIds; the annotations kafkaplane.io/next-node-ids
// and kafkaplane.io/remove-node-ids choose which IDs are added and removed.
//
// +genclient
// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s.io/api/autoscaling/v1.Scale
// +genclient:method=UpdateScale,verb=update,subresource=scale,input=k8s.io/api/autoscaling/v1.Scale,result=k8s.io/api/autoscaling/v1.Scale
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.labelSelector
// +kubebuilder:resource:shortName=knp,categories=kafkaplane
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.metadata.labels.kafkaplane\.io/cluster`
// +kubebuilder:printcolumn:name="Roles",type=string,JSONPath=`.spec.roles`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Node IDs",type=string,JSONPath=`.status.nodeIds`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 40",message="a pool name is a DNS label of at most 40 characters, so that <cluster>-<pool>-<id> is a valid pod name"
type KafkaNodePool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired pool.
	Spec KafkaNodePoolSpec `json:"spec"`
	// Status is the pool as the operator last saw it.
	// +optional
	Status KafkaNodePoolStatus `json:"status,omitempty"`
}

// KafkaNodePoolList is a list of node pools.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type KafkaNodePoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KafkaNodePool `json:"items"`
}

// ProcessRole is a KRaft process role.
// +kubebuilder:validation:Enum=broker;controller
type ProcessRole string

// Roles.
const (
	RoleBroker     ProcessRole = "broker"
	RoleController ProcessRole = "controller"
)

// KafkaNodePoolSpec is the desired state of a node pool.
type KafkaNodePoolSpec struct {
	// Replicas is the number of nodes in the pool.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`
	// Roles of the pool's nodes: broker, controller, or both (combined mode).
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=2
	Roles []ProcessRole `json:"roles"`
	// Storage of the pool's nodes. Its type cannot change; persistent volumes only grow.
	Storage Storage `json:"storage"`
	// Resources of the Kafka container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// JvmOptions of the Kafka process.
	// +optional
	JvmOptions *JvmOptions `json:"jvmOptions,omitempty"`
	// Template overrides the Kafka's template for this pool's objects.
	// +optional
	Template *KafkaNodePoolTemplate `json:"template,omitempty"`
}

// StorageType is the kind of storage of a node.
// +kubebuilder:validation:Enum=ephemeral;persistent-claim;jbod
type StorageType string

// Storage types.
const (
	StorageEphemeral       StorageType = "ephemeral"
	StoragePersistentClaim StorageType = "persistent-claim"
	StorageJBOD            StorageType = "jbod"
)

// Storage is a node's storage: one ephemeral or persistent volume, or JBOD (several volumes).
//
// +kubebuilder:validation:XValidation:rule="self.type == 'jbod' ? (has(self.volumes) && !has(self.size) && !has(self.sizeLimit)) : !has(self.volumes)",message="jbod storage takes volumes (and no size); ephemeral and persistent-claim storage take no volumes"
// +kubebuilder:validation:XValidation:rule="self.type != 'persistent-claim' || has(self.size)",message="persistent-claim storage needs a size"
// +kubebuilder:validation:XValidation:rule="self.type == 'ephemeral' || !has(self.sizeLimit)",message="sizeLimit is for ephemeral storage"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.size) || !has(self.size) || quantity(self.size).compareTo(quantity(oldSelf.size)) >= 0",message="a persistent volume cannot shrink"
type Storage struct {
	// Type of storage.
	Type StorageType `json:"type"`
	// Size of a persistent-claim volume, e.g. 100Gi.
	// +kubebuilder:validation:XValidation:rule="isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",message="size must be a positive quantity such as 100Gi"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Size string `json:"size,omitempty"`
	// SizeLimit of an ephemeral (emptyDir) volume.
	// +kubebuilder:validation:XValidation:rule="isQuantity(self)",message="sizeLimit must be a quantity such as 10Gi"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	SizeLimit string `json:"sizeLimit,omitempty"`
	// Class is the storage class of a persistent-claim volume.
	// +optional
	Class string `json:"class,omitempty"`
	// DeleteClaim deletes the PVC when the node or the cluster is removed.
	// +optional
	DeleteClaim bool `json:"deleteClaim,omitempty"`
	// Selector of persistent volumes to bind.
	// +optional
	Selector map[string]string `json:"selector,omitempty"`
	// Volumes of jbod storage, each with a unique id.
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Volumes []JBODVolume `json:"volumes,omitempty"`
}

// JBODVolume is one volume of jbod storage.
//
// +kubebuilder:validation:XValidation:rule="self.type != 'persistent-claim' || has(self.size)",message="persistent-claim volumes need a size"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.size) || !has(self.size) || quantity(self.size).compareTo(quantity(oldSelf.size)) >= 0",message="a persistent volume cannot shrink"
// +kubebuilder:validation:XValidation:rule="self.type == oldSelf.type",message="a volume's type cannot change; add a volume with a new id instead"
type JBODVolume struct {
	// ID of the volume, part of its PVC name data-<id>-<cluster>-<pool>-<node>.
	// +kubebuilder:validation:Minimum=0
	ID int32 `json:"id"`
	// Type of the volume.
	// +kubebuilder:validation:Enum=ephemeral;persistent-claim
	Type StorageType `json:"type"`
	// Size of a persistent-claim volume.
	// +kubebuilder:validation:XValidation:rule="isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",message="size must be a positive quantity such as 100Gi"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Size string `json:"size,omitempty"`
	// SizeLimit of an ephemeral volume.
	// +kubebuilder:validation:XValidation:rule="isQuantity(self)",message="sizeLimit must be a quantity such as 10Gi"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	SizeLimit string `json:"sizeLimit,omitempty"`
	// Class is the storage class of a persistent-claim volume.
	// +optional
	Class string `json:"class,omitempty"`
	// DeleteClaim deletes the PVC when the node or the cluster is removed.
	// +optional
	DeleteClaim bool `json:"deleteClaim,omitempty"`
	// KRaftMetadata: shared puts the KRaft metadata log on this volume; at most one volume does.
	// +kubebuilder:validation:Enum=shared
	// +optional
	KRaftMetadata string `json:"kraftMetadata,omitempty"`
}

// JvmOptions configures the Kafka JVM.
type JvmOptions struct {
	// Xms is the initial heap, e.g. 1g.
	// +kubebuilder:validation:Pattern=`^[0-9]+[mMgG]?$`
	// +optional
	Xms string `json:"-Xms,omitempty"`
	// Xmx is the maximum heap, e.g. 2g.
	// +kubebuilder:validation:Pattern=`^[0-9]+[mMgG]?$`
	// +optional
	Xmx string `json:"-Xmx,omitempty"`
	// XX options, e.g. UseG1GC: "true".
	// +optional
	XX map[string]string `json:"-XX,omitempty"`
	// JavaSystemProperties passed with -D.
	// +optional
	JavaSystemProperties []SystemProperty `json:"javaSystemProperties,omitempty"`
}

// SystemProperty is one Java system property.
type SystemProperty struct {
	// Name of the property.
	Name string `json:"name"`
	// Value of the property.
	Value string `json:"value"`
}

// KafkaNodePoolTemplate overrides the cluster template for one pool.
type KafkaNodePoolTemplate struct {
	// Pod template.
	// +optional
	Pod *PodTemplate `json:"pod,omitempty"`
	// PerPodService template.
	// +optional
	PerPodService *ServiceTemplate `json:"perPodService,omitempty"`
	// PersistentVolumeClaim template.
	// +optional
	PersistentVolumeClaim *ResourceTemplate `json:"persistentVolumeClaim,omitempty"`
	// KafkaContainer template.
	// +optional
	KafkaContainer *ContainerTemplate `json:"kafkaContainer,omitempty"`
	// InitContainer template.
	// +optional
	InitContainer *ContainerTemplate `json:"initContainer,omitempty"`
}

// KafkaNodePoolStatus is the observed state of a node pool.
type KafkaNodePoolStatus struct {
	// Conditions: Ready, with a reason when not.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// NodeIDs of the pool's nodes.
	// +optional
	NodeIDs []int32 `json:"nodeIds,omitempty"`
	// ClusterID of the Kafka cluster the pool belongs to.
	// +optional
	ClusterID string `json:"clusterId,omitempty"`
	// Roles of the pool's nodes.
	// +optional
	Roles []ProcessRole `json:"roles,omitempty"`
	// Replicas is the number of nodes (for the scale subresource).
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// LabelSelector of the pool's pods (for the scale subresource).
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
}
