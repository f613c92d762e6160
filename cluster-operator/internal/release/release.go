// Package release frees KafkaTopics and KafkaUsers that are being deleted from the finalizer of
// an entity operator that will never act on it: their Kafka is gone or going (a deleted Kafka, a
// namespace being deleted — its Kafka goes first, taking the operators' Deployments with it), or
// no longer runs that operator. Without this, deleting a namespace hangs on its topics and users.
// The objects are watched metadata-only: names, labels, finalizers and deletion timestamps.
package release

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/finalizers"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
)

// Kind is one of the two resources an entity operator puts a finalizer on.
type Kind struct {
	Resource  schema.GroupVersionResource
	Finalizer string
	// Runs reports whether a Kafka runs the operator that owns the finalizer.
	Runs func(k *v1beta1.Kafka) bool
}

// Topics and Users are the two kinds.
var (
	Topics = Kind{Resource: v1beta1.SchemeGroupVersion.WithResource("kafkatopics"), Finalizer: v1beta1.FinalizerTopicOperator,
		Runs: func(k *v1beta1.Kafka) bool {
			return k.Spec.EntityOperator != nil && k.Spec.EntityOperator.TopicOperator != nil
		}}
	Users = Kind{Resource: v1beta1.SchemeGroupVersion.WithResource("kafkausers"), Finalizer: v1beta1.FinalizerUserOperator,
		Runs: func(k *v1beta1.Kafka) bool {
			return k.Spec.EntityOperator != nil && k.Spec.EntityOperator.UserOperator != nil
		}}
)

// Reconciler releases the finalizer of one kind.
type Reconciler struct {
	Kind     Kind
	Objects  *informers.Multi // metadata-only
	Kafkas   *informers.Multi
	Metadata metadata.Interface
	// FieldManager names our writes.
	FieldManager string
}

// Reconcile implements controller.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, key controller.Key) (controller.Result, error) {
	obj, ok, err := r.Objects.GetByKey(key.Namespace, key.Name)
	if err != nil || !ok {
		return controller.Result{}, err
	}
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok || m.DeletionTimestamp == nil || !finalizers.Has(m, r.Kind.Finalizer) {
		return controller.Result{}, nil
	}
	cluster := m.Labels[v1beta1.LabelCluster]
	if kobj, ok, _ := r.Kafkas.GetByKey(m.Namespace, cluster); ok {
		if k, _ := kobj.(*v1beta1.Kafka); k != nil && k.DeletionTimestamp == nil && r.Kind.Runs(k) {
			return controller.Result{}, nil // its operator will act
		}
	}
	patch, err := finalizers.RemovePatch(m, r.Kind.Finalizer)
	if err != nil || patch == nil {
		return controller.Result{}, err
	}
	_, err = r.Metadata.Resource(r.Kind.Resource).Namespace(m.Namespace).Patch(ctx, m.Name, types.JSONPatchType, patch,
		metav1.PatchOptions{FieldManager: r.FieldManager})
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("releasing %s of %s %s/%s: %w", r.Kind.Finalizer, r.Kind.Resource.Resource, m.Namespace, m.Name, err)
	}
	klog.FromContext(ctx).Info("Released the finalizer of an operator that is gone", "resource", r.Kind.Resource.Resource,
		"object", klog.KObj(m), "finalizer", r.Kind.Finalizer, "cluster", cluster)
	return controller.Result{}, nil
}
