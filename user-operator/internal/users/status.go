package users

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/finalizers"
	"github.com/kafkaplane/kafkaplane/pkg/statuspatch"
)

// Username is the user's principal name: CN=<name> for certificate users (the subject Kafka
// maps to User:CN=<name>), the name itself for SCRAM users and users without authentication.
func Username(ku *v1beta1.KafkaUser) string {
	if a := ku.Spec.Authentication; a != nil && (a.Type == v1beta1.UserAuthTLS || a.Type == v1beta1.UserAuthTLSExternal) {
		return "CN=" + ku.Name
	}
	return ku.Name
}

// Cache indexes the reconciler uses; add Indexers to the KafkaUser informer before it starts.
const (
	// IndexName indexes users by name: one name is one principal across namespaces.
	IndexName = "name"
	// IndexPasswordSecret indexes SCRAM users by namespace/name of their password Secret.
	IndexPasswordSecret = "passwordSecret"
)

// IndexersFor returns the KafkaUser cache indexes for an operator watching one namespace
// (single) or several: in one namespace a name is unique, and the name index (a set per user,
// megabytes at 20,000 users) is not needed.
func IndexersFor(single bool) cache.Indexers {
	out := cache.Indexers{}
	for k, v := range indexers {
		if k != IndexName || !single {
			out[k] = v
		}
	}
	return out
}

var indexers = cache.Indexers{
	IndexName: func(obj any) ([]string, error) {
		ku, ok := obj.(*v1beta1.KafkaUser)
		if !ok {
			return nil, nil
		}
		return []string{ku.Name}, nil
	},
	IndexPasswordSecret: func(obj any) ([]string, error) {
		ku, ok := obj.(*v1beta1.KafkaUser)
		if !ok || ku.Spec.Authentication == nil || ku.Spec.Authentication.Password == nil {
			return nil, nil
		}
		return []string{ku.Namespace + "/" + ku.Spec.Authentication.Password.ValueFrom.SecretKeyRef.Name}, nil
	},
}

// statusOf is ku's status with the Ready condition set for its generation.
func statusOf(ku *v1beta1.KafkaUser, ready metav1.ConditionStatus, reason, msg string) v1beta1.KafkaUserStatus {
	next := *ku.Status.DeepCopy()
	next.ObservedGeneration = ku.Generation
	conditions.Set(&next.Conditions, conditions.Ready(ku.Generation, ready, reason, msg))
	return next
}

// status writes next unless the object or our last write already has it.
func (r *Reconciler) status(ctx context.Context, ku *v1beta1.KafkaUser, next v1beta1.KafkaUserStatus) error {
	_, err := r.writeStatus(ctx, ku, next)
	return err
}

// writeStatus is status, also reporting whether it wrote.
func (r *Reconciler) writeStatus(ctx context.Context, ku *v1beta1.KafkaUser, next v1beta1.KafkaUserStatus) (bool, error) {
	if apiequality.Semantic.DeepEqual(next, ku.Status) {
		r.memo.ForgetWritten(ku.UID) // the cache shows it: no need to remember
		return false, nil
	}
	if prev, ok := r.memo.Written(ku.UID); ok && apiequality.Semantic.DeepEqual(next, prev) {
		return false, nil
	}
	// A user that no longer has a Secret (or a principal) has those fields cleared.
	body, err := statuspatch.Body(next, "username", "secret")
	if err != nil {
		return false, fmt.Errorf("status of %s/%s: %w", ku.Namespace, ku.Name, err)
	}
	patched, err := r.Client.KafkaplaneV1beta1().KafkaUsers(ku.Namespace).Patch(ctx, ku.Name, types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: r.Opts.FieldManager}, "status")
	if apierrors.IsNotFound(err) {
		r.memo.Forget(ku.UID)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("updating the status of %s/%s: %w", ku.Namespace, ku.Name, err)
	}
	r.memo.StoreWritten(ku.UID, next, patched.ResourceVersion)
	r.memo.Supersede(ku.UID, ku.ResourceVersion)
	// The watch often delivers our write before its answer arrives; then MemoHandler found
	// nothing to drop, so look at the cache now.
	if obj, ok, _ := r.Users.GetByKey(ku.Namespace, ku.Name); ok {
		r.memo.Seen(ku.UID, obj.(*v1beta1.KafkaUser).ResourceVersion)
	}
	return true, nil
}

// patchFinalizer adds or removes our finalizer with a guarded JSON patch.
func (r *Reconciler) patchFinalizer(ctx context.Context, ku *v1beta1.KafkaUser, add bool) (*v1beta1.KafkaUser, error) {
	patched, wrote, err := finalizers.Set(ctx, ku, FinalizerName, add, r.Client.KafkaplaneV1beta1().KafkaUsers(ku.Namespace).Patch, r.Opts.FieldManager)
	if wrote {
		r.memo.Supersede(ku.UID, ku.ResourceVersion)
	}
	return patched, err
}

// FinalizerName is this operator's finalizer.
const FinalizerName = v1beta1.FinalizerUserOperator

// MemoHandler is the KafkaUser informer's event handler that keeps the memory of our own writes
// small: it drops what the cache has caught up with (ownwrites.Memo.Seen).
func (r *Reconciler) MemoHandler() cache.ResourceEventHandler { return r.memo.Handler() }
