// Package users reconciles KafkaUsers: the user's Secret (certificate or password), its SCRAM
// credential, ACLs and quotas in Kafka, and its status.
package users

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/events"
	"github.com/kafkaplane/kafkaplane/pkg/finalizers"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/ownwrites"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/credentials"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/kafka"
)

// Admin is the Kafka side the reconciler needs (kafka.Admin batches and caches it).
type Admin interface {
	EnsureLoaded(ctx context.Context) error
	Refresh(ctx context.Context) error
	RefreshedAt() time.Time
	RefreshAfter(ctx context.Context, t time.Time) error
	// Unsure reports whether a write for the user got no answer, and from when a describe
	// shows what Kafka made of it.
	Unsure(user string) (time.Time, bool)
	ACLs(principal string) ([]kafka.ACL, error)
	Quotas(user string) (map[string]float64, error)
	HasSCRAM(user string) (bool, error)
	CreateACLs(ctx context.Context, acls []kafka.ACL) error
	DeleteACLs(ctx context.Context, acls []kafka.ACL) error
	AlterQuotas(ctx context.Context, c kafka.QuotaChange) error
	AlterSCRAM(ctx context.Context, c kafka.SCRAMChange) error
}

// CA gives the clients CA that signs tls users' certificates, or why there is none.
type CA interface {
	// HasSynced reports whether the CA Secrets have been read.
	HasSynced() bool
	Current() (*credentials.ClientsCA, error)
}

// Options tune the reconciler.
type Options struct {
	// ValidityDays and RenewalDays of user certificates unless a user sets its own.
	ValidityDays, RenewalDays int32
	// FieldManager names the operator's writes.
	FieldManager string
	// SuperUsers are the Kafka's super users (e.g. User:CN=admin): no KafkaUser may be one.
	SuperUsers []string
	// SecretPrefix is prepended to the users' Secret names.
	SecretPrefix string
}

// Reconciler reconciles one KafkaUser at a time; run many in parallel, Admin batches their
// Kafka calls.
type Reconciler struct {
	Kube   kubernetes.Interface
	Client versioned.Interface
	// Users caches KafkaUsers, with IndexersFor(SingleNamespace).
	Users *informers.Multi
	// SingleNamespace: the operator watches one namespace, where a name is one user.
	SingleNamespace bool
	// Secrets caches the user Secrets this operator made as *credentials.Cached (never their
	// data).
	Secrets *informers.Multi
	// SecretsMetadata caches every Secret's metadata, for password sources.
	SecretsMetadata *informers.Multi
	CA              CA
	Admin           Admin
	Recorder        events.Recorder
	Opts            Options
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	memo ownwrites.Memo[v1beta1.KafkaUserStatus]
	// scram remembers, per user UID, the digest of the Secret whose password was last set in
	// Kafka. A SCRAM credential cannot be read back, so after a restart each is set once more.
	scram ownwrites.Memo[string]
	// written holds, per user UID, the Secret we last wrote until the cache shows it.
	written sync.Map // types.UID → writtenSecret
}

// Event reasons. A reconcile that changed something emits one EventUpdated listing the changes
// (not one event per change: at 20,000 users events are a large share of the API writes);
// warnings are emitted when the condition they explain is first written.
const (
	EventUpdated         = "UserUpdated"
	EventCleanedUp       = "CleanedUp"
	EventInvalid         = "Invalid"
	EventConflict        = "Conflict"
	EventKafkaError      = "KafkaError"
	EventCredentialError = "CredentialError"
)

// Reconcile implements controller.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, key controller.Key) (controller.Result, error) {
	obj, ok, err := r.Users.GetByKey(key.Namespace, key.Name)
	if err != nil || !ok {
		return controller.Result{}, err
	}
	ku := obj.(*v1beta1.KafkaUser)
	if r.memo.Stale(ku.UID, ku.ResourceVersion) {
		return controller.Result{}, nil
	}
	username := Username(ku)
	ctx = klog.NewContext(ctx, klog.FromContext(ctx).WithValues("user", username))

	if ku.DeletionTimestamp != nil {
		return r.finalize(ctx, ku)
	}
	if ku.Annotations[v1beta1.AnnotationPauseReconciliation] == "true" {
		return controller.Result{}, r.status(ctx, ku, statusOf(ku, metav1.ConditionFalse, v1beta1.ReasonReconciliationPaused,
			"reconciliation is paused by the kafkaplane.io/pause-reconciliation annotation"))
	}
	if winner := r.owner(ku); winner != nil {
		msg := fmt.Sprintf("the principal %s is managed by %s/%s, which is older", username, winner.Namespace, winner.Name)
		return controller.Result{}, r.warn(ctx, ku, EventConflict, statusOf(ku, metav1.ConditionFalse, v1beta1.ReasonResourceConflict, msg))
	}
	if msg := r.reserved(username); msg != "" {
		return controller.Result{}, r.warn(ctx, ku, EventConflict, statusOf(ku, metav1.ConditionFalse, v1beta1.ReasonResourceConflict, msg))
	}
	if err := r.Admin.EnsureLoaded(ctx); err != nil {
		return controller.Result{}, r.kafkaError(ctx, ku, err)
	}
	if !finalizers.Has(ku, v1beta1.FinalizerUserOperator) {
		// Nothing of this user was written to Kafka yet (that starts after the finalizer): what
		// Kafka holds for its principal belongs to someone else.
		msg, err := r.foreign(ctx, ku, username)
		if err != nil {
			return controller.Result{}, r.kafkaError(ctx, ku, err)
		}
		if msg != "" {
			return controller.Result{}, r.warn(ctx, ku, EventConflict, statusOf(ku, metav1.ConditionFalse, v1beta1.ReasonResourceConflict, msg))
		}
	}
	if ku, err = r.patchFinalizer(ctx, ku, true); err != nil {
		return controller.Result{}, err
	}
	// A write of an earlier attempt that got no answer may yet have been carried out: the diffs
	// below are made from a view that knows what it did (else an ACL it made, no longer in the
	// spec, would stay).
	if wait, err := r.settle(ctx, username, otherUsername(ku)); err != nil {
		return controller.Result{}, r.kafkaError(ctx, ku, err)
	} else if wait > 0 {
		return controller.Result{RequeueAfter: wait}, nil
	}

	// The principal the user had before its authentication type changed is cleaned up first.
	// Only the other principal of its own name qualifies: the status says which one the user had,
	// and can never aim the cleanup at an unrelated principal.
	if old := ku.Status.Username; old != "" && old != username && old == otherUsername(ku) {
		if err := r.cleanUp(ctx, old); err != nil {
			return controller.Result{}, r.kafkaError(ctx, ku, err)
		}
	}

	if msg := validate(ku); msg != "" {
		return controller.Result{}, r.warn(ctx, ku, EventInvalid, statusOf(ku, metav1.ConditionFalse, v1beta1.ReasonInvalidSpec, msg))
	}
	cred, err := r.credentials(ctx, ku)
	var invalid *invalidError
	var wait *waitError
	switch {
	case errors.Is(err, errCANotSynced):
		return controller.Result{RequeueAfter: time.Second}, nil
	case errors.As(err, &wait):
		// The CA Secret's change (its trusted generation) requeues the user; the poll is a floor.
		return controller.Result{RequeueAfter: trustPoll}, r.status(ctx, ku, statusOf(ku, metav1.ConditionFalse, v1beta1.ReasonCAUnavailable, wait.msg))
	case errors.As(err, &invalid):
		return controller.Result{}, r.warn(ctx, ku, EventInvalid, statusOf(ku, metav1.ConditionFalse, invalid.reason, invalid.msg))
	case err != nil:
		_ = r.warn(ctx, ku, EventCredentialError, statusOf(ku, metav1.ConditionFalse, v1beta1.ReasonInternalError, err.Error()))
		return controller.Result{}, err
	}
	changes, err := r.kafka(ctx, ku, username, cred)
	if cred.change != "" {
		changes = append([]string{cred.change}, changes...)
	}
	// A new user's first provisioning is recorded by its status, not an event: at 20,000 users
	// those events would be as many API writes again, and the event recorder keeps each one in
	// memory for minutes. Changes to existing users and repairs are events.
	if len(changes) > 0 && ku.Status.ObservedGeneration > 0 {
		r.Recorder.Eventf(ku, nil, corev1.EventTypeNormal, EventUpdated, "Reconcile", "%s", strings.Join(changes, "; "))
	}
	if err != nil {
		return controller.Result{}, r.kafkaError(ctx, ku, err)
	}
	if old := ku.Status.Secret; old != "" && cred.secret != "" && old != cred.secret {
		if err := r.deleteRenamedSecret(ctx, ku, old); err != nil {
			return controller.Result{}, err
		}
	}

	st := statusOf(ku, metav1.ConditionTrue, v1beta1.ReasonReady, "credentials, ACLs and quotas are in effect")
	st.Username = username
	st.Secret = cred.secret
	if err := r.status(ctx, ku, st); err != nil {
		return controller.Result{}, err
	}
	var res controller.Result
	if !cred.renewAt.IsZero() {
		res.RequeueAfter = max(cred.renewAt.Sub(r.now()), time.Second)
	}
	return res, nil
}

// finalize removes what the user had in Kafka, then the finalizer. The Secret goes with its
// owner.
func (r *Reconciler) finalize(ctx context.Context, ku *v1beta1.KafkaUser) (controller.Result, error) {
	if !finalizers.Has(ku, v1beta1.FinalizerUserOperator) {
		return controller.Result{}, nil
	}
	if winner := r.owner(ku); winner == nil && r.reserved(Username(ku)) == "" { // a conflict's loser never managed the principal
		// The principal comes from the spec and the name, never from the status alone.
		username := Username(ku)
		if err := r.Admin.EnsureLoaded(ctx); err != nil {
			return controller.Result{}, r.kafkaError(ctx, ku, err)
		}
		// A write for the user that got no answer (a create whose reconcile then failed) may
		// have been carried out: cleaning up from a view without it left a deleted user's ACLs,
		// quota and credential behind. Wait until it has settled and read Kafka again.
		if wait, err := r.settle(ctx, username, otherUsername(ku)); err != nil {
			return controller.Result{}, r.kafkaError(ctx, ku, err)
		} else if wait > 0 {
			return controller.Result{RequeueAfter: wait}, nil
		}
		// The view keeps only users managed when it was read: a user younger than the view may
		// have had ACLs before; read Kafka again so that cleaning up misses none.
		if !ku.CreationTimestamp.Time.Before(r.Admin.RefreshedAt().Add(-clockSkew)) {
			if err := r.Admin.Refresh(ctx); err != nil {
				return controller.Result{}, r.kafkaError(ctx, ku, err)
			}
		}
		if err := r.cleanUp(ctx, username); err != nil {
			return controller.Result{}, r.kafkaError(ctx, ku, err)
		}
		if old := ku.Status.Username; old != "" && old != username && old == otherUsername(ku) {
			if err := r.cleanUp(ctx, old); err != nil {
				return controller.Result{}, r.kafkaError(ctx, ku, err)
			}
		}
		klog.FromContext(ctx).Info("Removed the user's ACLs, quotas and SCRAM credential")
		msg := fmt.Sprintf("removed the ACLs, quotas and SCRAM credential of %s", username)
		if c := r.cachedSecret(ku); c != nil && !c.NotAfter.IsZero() {
			// Kafka checks no revocation list: the certificate itself stays valid.
			msg += fmt.Sprintf("; its certificate stays valid until %s (Kafka has no revocation): with no ACLs it is refused, "+
				"but a super-user entry or a later ACL for User:%s would let it in again", c.NotAfter.UTC().Format(time.RFC3339), username)
		}
		r.Recorder.Eventf(ku, nil, corev1.EventTypeNormal, EventCleanedUp, "Delete", "%s", msg)
	}
	_, err := r.patchFinalizer(ctx, ku, false)
	if err == nil {
		r.memo.Forget(ku.UID)
		r.scram.Forget(ku.UID)
		r.written.Delete(ku.UID)
	}
	return controller.Result{}, err
}

// settle says how long to wait before the view can be trusted for these users: while a write
// for one of them that got no answer may still be carried out, the time left; once it has
// settled, the view is read from Kafka again (shared with concurrent callers) and 0.
func (r *Reconciler) settle(ctx context.Context, users ...string) (time.Duration, error) {
	var latest time.Time
	for _, u := range users {
		if until, ok := r.Admin.Unsure(u); ok && until.After(latest) {
			latest = until
		}
	}
	if latest.IsZero() {
		return 0, nil
	}
	if d := time.Until(latest); d > 0 {
		return d, nil
	}
	return 0, r.Admin.RefreshAfter(ctx, latest)
}

// otherUsername is the principal the user's name has under the other kind of authentication
// (CN=<name> for certificates, <name> otherwise): the one it may have had before.
func otherUsername(ku *v1beta1.KafkaUser) string {
	if u := Username(ku); u != ku.Name {
		return ku.Name
	}
	return "CN=" + ku.Name
}

// AnnotationAdopted set to "true" on a KafkaUser lets it take over a principal that already has
// ACLs, quotas or a SCRAM credential in Kafka which no KafkaUser made.
const AnnotationAdopted = "kafkaplane.io/adopted"

// reserved says why no KafkaUser may manage the principal: a super user of the Kafka, or one of
// the operators' own principals (certificates of organisation kafkaplane.io); "" when it may.
func (r *Reconciler) reserved(username string) string {
	if strings.Contains(username, "O=kafkaplane.io") {
		return fmt.Sprintf("the principal User:%s is one of the operators' own; it is never managed by a KafkaUser", username)
	}
	for _, su := range r.Opts.SuperUsers {
		if strings.TrimPrefix(strings.TrimSpace(su), "User:") == username {
			return fmt.Sprintf("the principal User:%s is a super user of the Kafka cluster; a KafkaUser may not manage it "+
				"(it would hand out its credentials and reset its ACLs and quotas); nothing was changed", username)
		}
	}
	return ""
}

// foreign says, for a user none of whose state was written yet, whether Kafka already holds
// ACLs, quotas or a SCRAM credential for its principal (made with Kafka tools, or another
// operator's): "" when it holds none, or when the user asks to adopt them. The view is read again
// when it is older than the user, so that state made just before is not missed.
func (r *Reconciler) foreign(ctx context.Context, ku *v1beta1.KafkaUser, username string) (string, error) {
	if ku.Annotations[AnnotationAdopted] == "true" {
		return "", nil
	}
	// (Creation timestamps are whole seconds.)
	if err := r.Admin.RefreshAfter(ctx, ku.CreationTimestamp.Time.Add(time.Second)); err != nil {
		return "", err
	}
	acls, err := r.Admin.ACLs("User:" + username)
	if err != nil {
		return "", err
	}
	quotas, err := r.Admin.Quotas(username)
	if err != nil {
		return "", err
	}
	scram, err := r.Admin.HasSCRAM(username)
	if err != nil {
		return "", err
	}
	if len(acls) == 0 && len(quotas) == 0 && !scram {
		return "", nil
	}
	return fmt.Sprintf("the principal User:%s already has %d ACLs, %d quotas and %s in Kafka that no KafkaUser made; "+
		"nothing was changed (annotate %s: \"true\" to manage the principal: its ACLs and quotas then follow this spec and its password is replaced)",
		username, len(acls), len(quotas), map[bool]string{true: "a SCRAM credential", false: "no SCRAM credential"}[scram], AnnotationAdopted), nil
}

// owner returns the older KafkaUser of the same name in another namespace that owns the
// principal, or nil when ku does.
func (r *Reconciler) owner(ku *v1beta1.KafkaUser) *v1beta1.KafkaUser {
	if r.SingleNamespace {
		return nil
	}
	objs, err := r.Users.ByIndex(IndexName, ku.Name)
	if err != nil {
		return nil
	}
	var winner *v1beta1.KafkaUser
	for _, o := range objs {
		other := o.(*v1beta1.KafkaUser)
		if other.DeletionTimestamp != nil && other.UID != ku.UID {
			continue
		}
		if winner == nil || older(other, winner) {
			winner = other
		}
	}
	if winner == nil || winner.UID == ku.UID {
		return nil
	}
	return winner
}

func older(a, b *v1beta1.KafkaUser) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Namespace < b.Namespace
}

func (r *Reconciler) kafkaError(ctx context.Context, ku *v1beta1.KafkaUser, err error) error {
	if serr := r.warn(ctx, ku, EventKafkaError, statusOf(ku, metav1.ConditionFalse, v1beta1.ReasonKafkaError, err.Error())); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// warn writes a not-Ready status and, when that status is new, a Warning event with its
// message: a user stuck on the same problem does not add an event per retry or resync.
func (r *Reconciler) warn(ctx context.Context, ku *v1beta1.KafkaUser, reason string, next v1beta1.KafkaUserStatus) error {
	written, err := r.writeStatus(ctx, ku, next)
	if written {
		c := conditions.Find(next.Conditions, v1beta1.ConditionReady)
		r.Recorder.Eventf(ku, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", c.Message)
	}
	return err
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// validate checks what admission cannot: a rate's form and sign. Nothing changes for an invalid
// user.
func validate(ku *v1beta1.KafkaUser) string {
	if q := ku.Spec.Quotas; q != nil && q.ControllerMutationRate != nil {
		if _, err := q.ControllerMutationRate.Quantity(); err != nil {
			return fmt.Sprintf("spec.quotas.controllerMutationRate: %v; nothing was changed", err)
		}
	}
	return ""
}

// clockSkew allowed between the API server's timestamps and ours.
const clockSkew = 10 * time.Second

// errCANotSynced: the clients CA Secrets have not been read yet; the user is tried again soon.
var errCANotSynced = errors.New("the clients CA has not been read yet")

// waitError: the credential waits on something outside the user (brokers rolling onto a new
// clients CA key); the user keeps what it has meanwhile.
type waitError struct{ msg string }

func (e *waitError) Error() string { return e.msg }

// invalidError is a problem of the user's spec or its references: a condition, not a retry.
type invalidError struct{ reason, msg string }

func (e *invalidError) Error() string { return e.msg }
