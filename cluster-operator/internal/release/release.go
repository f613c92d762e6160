// Package release frees KafkaTopics and KafkaUsers that are being deleted from the finalizer of
// an entity operator that will provably never act on it. Without this, deleting a namespace hangs
// on its topics and users once their Kafka and its operators are gone.
//
// An object is served by the Kafkas of its cluster label whose entity operator watches the
// object's namespace (the Kafka's own, or the operator's watchedNamespace). The finalizer is
// released only when
//   - a Kafka serves it and every Kafka that serves it is being deleted (its operators go with it,
//     and so does the Kafka cluster that held the topic or the user's ACLs); or
//   - no Kafka serves it now, and this process saw the Kafka that served it deleted (confirmed by
//     reading it from the API server: a Kafka that merely stopped matching the label selector is
//     not deleted) or saw it stop running that operator.
//
// Everything else keeps its finalizer: objects of standalone operators, of Kafkas outside the
// watched namespaces or label selector, or whose Kafka went while this process was not running.
// Their operator removes the finalizer itself; a user who uninstalled it removes it by hand.
// The objects are watched metadata-only: names, labels, finalizers and deletion timestamps.
package release

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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
	// Operator returns a Kafka's entity operator of this kind, nil when it runs none.
	Operator func(k *v1beta1.Kafka) *v1beta1.EntityOperatorCommon
}

// Topics and Users are the two kinds.
var (
	Topics = Kind{Resource: v1beta1.SchemeGroupVersion.WithResource("kafkatopics"), Finalizer: v1beta1.FinalizerTopicOperator,
		Operator: func(k *v1beta1.Kafka) *v1beta1.EntityOperatorCommon {
			if k.Spec.EntityOperator == nil || k.Spec.EntityOperator.TopicOperator == nil {
				return nil
			}
			return &k.Spec.EntityOperator.TopicOperator.EntityOperatorCommon
		}}
	Users = Kind{Resource: v1beta1.SchemeGroupVersion.WithResource("kafkausers"), Finalizer: v1beta1.FinalizerUserOperator,
		Operator: func(k *v1beta1.Kafka) *v1beta1.EntityOperatorCommon {
			if k.Spec.EntityOperator == nil || k.Spec.EntityOperator.UserOperator == nil {
				return nil
			}
			return &k.Spec.EntityOperator.UserOperator.EntityOperatorCommon
		}}
)

// Runs reports whether a Kafka runs the operator of this kind.
func (k Kind) Runs(kafka *v1beta1.Kafka) bool { return k.Operator(kafka) != nil }

// Watched is the namespace whose objects a Kafka's operator of this kind serves (or would serve).
func (k Kind) Watched(kafka *v1beta1.Kafka) string {
	if o := k.Operator(kafka); o != nil && o.WatchedNamespace != "" {
		return o.WatchedNamespace
	}
	return kafka.Namespace
}

// Serves reports whether a Kafka's operator of this kind serves objects labelled for cluster in
// namespace.
func (k Kind) Serves(kafka *v1beta1.Kafka, namespace, cluster string) bool {
	return kafka.Name == cluster && k.Watched(kafka) == namespace
}

// Gone remembers the entity operators this process saw go: "namespace/cluster" of the objects
// they served, with the Kafka that ran them. It is only ever learnt from events, never guessed.
type Gone struct {
	mu   sync.Mutex
	byNS map[string]types.NamespacedName // served namespace/cluster → the Kafka
}

func servedKey(namespace, cluster string) string { return namespace + "/" + cluster }

// Record notes that the operator serving cluster's objects in namespace, run by kafka, is gone.
func (g *Gone) Record(namespace, cluster string, kafka types.NamespacedName) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byNS == nil {
		g.byNS = map[string]types.NamespacedName{}
	}
	g.byNS[servedKey(namespace, cluster)] = kafka
}

// Clear forgets it: a Kafka serves those objects again.
func (g *Gone) Clear(namespace, cluster string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.byNS, servedKey(namespace, cluster))
}

// Lookup returns the Kafka whose operator serving cluster's objects in namespace went.
func (g *Gone) Lookup(namespace, cluster string) (types.NamespacedName, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k, ok := g.byNS[servedKey(namespace, cluster)]
	return k, ok
}

// Reconciler releases the finalizer of one kind.
type Reconciler struct {
	Kind     Kind
	Objects  *informers.Multi // metadata-only
	Kafkas   *informers.Multi
	Gone     *Gone
	Metadata metadata.Interface
	// GetKafka reads a Kafka from the API server (not the cache): nil, nil when it does not exist.
	GetKafka func(ctx context.Context, namespace, name string) (*v1beta1.Kafka, error)
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
	why, err := r.gone(ctx, m.Namespace, cluster)
	if err != nil || why == "" {
		return controller.Result{}, err
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
		"object", klog.KObj(m), "finalizer", r.Kind.Finalizer, "cluster", cluster, "why", why)
	return controller.Result{}, nil
}

// gone says why the operator serving cluster's objects in namespace will never act again, or ""
// when that is not proven.
func (r *Reconciler) gone(ctx context.Context, namespace, cluster string) (string, error) {
	if cluster == "" {
		return "", nil
	}
	objs, err := r.Kafkas.List(labels.Everything())
	if err != nil {
		return "", err
	}
	serving := 0
	for _, o := range objs {
		k, ok := o.(*v1beta1.Kafka)
		if !ok || !r.Kind.Serves(k, namespace, cluster) {
			continue
		}
		serving++
		if k.DeletionTimestamp == nil && r.Kind.Runs(k) {
			return "", nil // its operator will act
		}
		if k.DeletionTimestamp == nil {
			// It no longer runs the operator: release only if we saw it stop.
			serving--
		}
	}
	if serving > 0 {
		return "its Kafka is being deleted", nil
	}
	kafka, ok := r.Gone.Lookup(namespace, cluster)
	if !ok {
		return "", nil
	}
	// The record is from an event; read the Kafka once more, in case it is back.
	k, err := r.GetKafka(ctx, kafka.Namespace, kafka.Name)
	if err != nil {
		return "", err
	}
	if k != nil && k.DeletionTimestamp == nil && r.Kind.Runs(k) && r.Kind.Serves(k, namespace, cluster) {
		r.Gone.Clear(namespace, cluster)
		return "", nil
	}
	return fmt.Sprintf("the operator of Kafka %s was seen to go", kafka), nil
}
