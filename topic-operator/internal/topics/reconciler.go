package topics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/events"
	"github.com/kafkaplane/kafkaplane/pkg/finalizers"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/ownwrites"
	"github.com/kafkaplane/kafkaplane/pkg/statuspatch"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/kafka"
)

// Admin is the Kafka side the reconciler needs (kafka.Admin batches it).
type Admin interface {
	Describe(ctx context.Context, name string) (kafka.Topic, error)
	Create(ctx context.Context, t kafka.NewTopic) (string, error)
	AlterConfigs(ctx context.Context, c kafka.ConfigChange) error
	CreatePartitions(ctx context.Context, c kafka.PartitionsChange) error
	Delete(ctx context.Context, t kafka.TopicRef) error
	Reassign(ctx context.Context, topic string, plan map[int32][]int32) error
	Reassigning(ctx context.Context, topic string, partitions int32) (bool, error)
	// Unsure reports a create of the topic that is in flight or got no answer lately, and until
	// when Kafka may still carry it out.
	Unsure(name string) (time.Time, bool)
}

// Options tune the reconciler.
type Options struct {
	// DeleteTopics deletes a topic in Kafka when its resource is deleted; when false the topic
	// stays and only the finalizer goes.
	DeleteTopics bool
	// LeaveAlone are config keys never reset, e.g. replication throttles set by rebalancers.
	LeaveAlone []string
	// FieldManager names the operator's writes.
	FieldManager string
}

// Reconciler reconciles one KafkaTopic at a time; run many in parallel, Admin batches their
// Kafka calls.
type Reconciler struct {
	Client versioned.Interface
	// Topics caches KafkaTopics, with IndexersFor(SingleNamespace).
	Topics *informers.Multi
	// SingleNamespace: the operator watches one namespace, where a resource named like a topic
	// is found by key rather than by index.
	SingleNamespace bool
	Admin           Admin
	Recorder        events.Recorder
	Opts            Options

	// memo remembers our own writes: the cache can lag behind them, and a reconcile must
	// neither write the same status again nor patch from a version our write replaced.
	memo ownwrites.Memo[v1beta1.KafkaTopicStatus]
}

// Event reasons. A new topic has no event of its own: its Ready condition and status.topicId say
// it was created, and at 10,000 topics an event each would be 10,000 more writes to the API
// server (which limits how fast topics become Ready), for the events nobody reads.
const (
	EventUpdated  = "TopicUpdated"
	EventDeleted  = "TopicDeleted"
	EventRepaired = "DriftRepaired"
)

// Reconcile implements controller.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, key controller.Key) (controller.Result, error) {
	obj, ok, err := r.Topics.GetByKey(key.Namespace, key.Name)
	if err != nil || !ok {
		return controller.Result{}, err
	}
	kt := obj.(*v1beta1.KafkaTopic)
	// Skip versions our writes replaced, and the version our last reconcile left (the watch
	// event of its finalizer patch asks for a reconcile that would find nothing to do). Both
	// are asked: Settled answers once, and must not linger to skip a later resync's reconcile.
	stale := r.memo.Stale(kt.UID, kt.ResourceVersion)
	if settled := r.memo.Settled(kt.UID, kt.ResourceVersion); stale || settled {
		return controller.Result{}, nil
	}
	res, err := r.reconcile(ctx, kt)
	r.memo.Finish(kt.UID, err == nil && res == (controller.Result{}))
	return res, err
}

func (r *Reconciler) reconcile(ctx context.Context, kt *v1beta1.KafkaTopic) (controller.Result, error) {
	var err error
	name := TopicName(kt)
	logger := klog.FromContext(ctx).WithValues("topic", name)
	ctx = klog.NewContext(ctx, logger)

	if kt.DeletionTimestamp != nil {
		return r.finalize(ctx, kt, name)
	}
	if kt.Annotations[v1beta1.AnnotationPauseReconciliation] == "true" {
		return controller.Result{}, r.status(ctx, kt, name, "", metav1.ConditionFalse, v1beta1.ReasonReconciliationPaused, "reconciliation is paused by the kafkaplane.io/pause-reconciliation annotation")
	}
	if kt.Annotations[v1beta1.AnnotationManaged] == "false" {
		if kt, err = r.patchFinalizer(ctx, kt, false); err != nil {
			return controller.Result{}, err
		}
		return controller.Result{}, r.status(ctx, kt, name, kt.Status.TopicID, metav1.ConditionTrue, v1beta1.ReasonUnmanaged, "not managed (kafkaplane.io/managed: \"false\"); the topic is left as it is")
	}
	if Internal(name) {
		msg := fmt.Sprintf("%s is an internal Kafka topic; it is never managed", name)
		r.warnOnce(kt, v1beta1.ReasonNotSupported, msg)
		return controller.Result{}, r.status(ctx, kt, name, "", metav1.ConditionFalse, v1beta1.ReasonNotSupported, msg)
	}
	if winner := r.owner(kt, name); winner != nil {
		return controller.Result{}, r.conflict(ctx, kt, name, fmt.Sprintf("topic %s is managed by %s/%s", name, winner.Namespace, winner.Name))
	}
	var problems []string
	for k, v := range kt.Spec.Config {
		if err := v.Validate(); err != nil {
			problems = append(problems, fmt.Sprintf("spec.config.%s: %v", k, err))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		r.Recorder.Eventf(kt, nil, corev1.EventTypeWarning, v1beta1.ReasonInvalidSpec, "Validate", strings.Join(problems, "; "))
		return controller.Result{}, r.status(ctx, kt, name, kt.Status.TopicID, metav1.ConditionFalse, v1beta1.ReasonInvalidSpec, strings.Join(problems, "; "))
	}
	// A topic that exists already is taken over only by a resource that may have created it (it
	// had our finalizer before, from a reconcile interrupted before the topic ID was recorded) or
	// that asks for it (kafkaplane.io/adopted: "true"); see mayTakeOver.
	takeOver := mayTakeOver(kt)
	// The status write below starts from the patched object, whose resourceVersion is current:
	// the cache may not have seen the patch yet, and a stale one would only earn a conflict.
	if kt, err = r.patchFinalizer(ctx, kt, true); err != nil {
		return controller.Result{}, err
	}

	// A resource that never had a topic most likely names a new one: create it straight away,
	// without describing it first (a Kafka round trip per new topic). If the topic exists after
	// all (made with Kafka tools, or our status write was lost), describing it decides below.
	ours := OwnID(kt, name)
	if ours == "" {
		id, err := r.create(ctx, kt, name)
		switch {
		case err == nil:
			return controller.Result{}, r.status(ctx, kt, name, id, metav1.ConditionTrue, v1beta1.ReasonReady, "")
		case !kafka.AlreadyExists(err):
			return controller.Result{}, r.kafkaError(ctx, kt, name, err)
		}
	}
	topic, err := r.Admin.Describe(ctx, name)
	if err != nil {
		return controller.Result{}, r.kafkaError(ctx, kt, name, err)
	}
	id := topic.ID
	if !topic.Exists {
		if id, err = r.create(ctx, kt, name); err != nil {
			return controller.Result{}, r.kafkaError(ctx, kt, name, err)
		}
		return controller.Result{}, r.status(ctx, kt, name, id, metav1.ConditionTrue, v1beta1.ReasonReady, "")
	}
	adopt := kt.Annotations[AnnotationAdopted] == "true"
	switch {
	case ours != "" && ours != topic.ID && !adopt:
		return controller.Result{}, r.conflict(ctx, kt, name, fmt.Sprintf("topic %s in Kafka has ID %s, not %s which this resource created: "+
			"it was deleted and made again outside the operator; nothing was changed (annotate %s: \"true\" to manage the new topic)",
			name, topic.ID, ours, AnnotationAdopted))
	case ours == "" && !takeOver && !adopt:
		return controller.Result{}, r.conflict(ctx, kt, name, fmt.Sprintf("topic %s exists in Kafka and this resource did not create it; nothing was changed "+
			"(annotate %s: \"true\" to manage it: its partitions, replicas and configs then follow this spec, and configs the spec does not list are reset)",
			name, AnnotationAdopted))
	case ours != topic.ID:
		logger.Info("Taking over an existing topic", "topicId", topic.ID, "adopted", adopt)
	}

	if p := kt.Spec.Partitions; p != nil && *p < topic.Partitions {
		msg := fmt.Sprintf("topic %s has %d partitions; decreasing partitions to %d is not supported", name, topic.Partitions, *p)
		r.warnOnce(kt, v1beta1.ReasonNotSupported, msg)
		return controller.Result{}, r.status(ctx, kt, name, id, metav1.ConditionFalse, v1beta1.ReasonNotSupported, msg)
	}
	var changed []string
	var res controller.Result
	var rc *v1beta1.ReplicasChangeStatus
	if rf := kt.Spec.Replicas; rf != nil && !topic.ReplicationFactorIs(*rf) {
		var err error
		if rc, err = r.changeReplicas(ctx, kt, topic, *rf); err != nil {
			var invalid *invalidReplicas
			if errors.As(err, &invalid) {
				r.warnOnce(kt, v1beta1.ReasonInvalidSpec, invalid.Error())
				return controller.Result{}, r.status(ctx, kt, name, id, metav1.ConditionFalse, v1beta1.ReasonInvalidSpec, invalid.Error())
			}
			return controller.Result{}, r.kafkaError(ctx, kt, name, err)
		}
		// Kafka moves replicas in the background: look again until it is done.
		res.RequeueAfter = reassignmentPoll
	}
	if p := kt.Spec.Partitions; p != nil && *p > topic.Partitions {
		if err := r.Admin.CreatePartitions(ctx, kafka.PartitionsChange{Name: name, Total: *p}); err != nil {
			return controller.Result{}, r.kafkaError(ctx, kt, name, err)
		}
		changed = append(changed, fmt.Sprintf("partitions %d→%d", topic.Partitions, *p))
	}
	if diff := ConfigDiff(name, kt.Spec.Config, topic.Configs, r.Opts.LeaveAlone); !Empty(diff) {
		if err := r.Admin.AlterConfigs(ctx, diff); err != nil {
			return controller.Result{}, r.kafkaError(ctx, kt, name, err)
		}
		changed = append(changed, fmt.Sprintf("config set %v, reset %v", sortedKeys(diff.Set), diff.Delete))
	}
	if len(changed) > 0 {
		reason := EventUpdated
		if kt.Status.ObservedGeneration == kt.Generation && conditions.IsReady(kt.Status.Conditions, kt.Generation) {
			reason = EventRepaired // the spec did not change: someone changed the topic in Kafka
		}
		logger.Info("Updated topic", "changes", changed)
		r.Recorder.Eventf(kt, nil, corev1.EventTypeNormal, reason, "Update", "topic %s: %s", name, strings.Join(changed, "; "))
	}
	return res, r.statusWith(ctx, kt, name, id, metav1.ConditionTrue, v1beta1.ReasonReady, "", rc)
}

// create creates the resource's topic and returns its ID.
func (r *Reconciler) create(ctx context.Context, kt *v1beta1.KafkaTopic, name string) (string, error) {
	cfg := make(map[string]string, len(kt.Spec.Config))
	for k, v := range kt.Spec.Config {
		cfg[k] = v.String()
	}
	id, err := r.Admin.Create(ctx, kafka.NewTopic{Name: name, Partitions: orDefault(kt.Spec.Partitions), Replicas: orDefault(kt.Spec.Replicas), Configs: cfg})
	if err == nil {
		klog.FromContext(ctx).Info("Created topic")
	}
	return id, err
}

// reassignmentPoll is how often a replication-factor change in progress is looked at.
const reassignmentPoll = 10 * time.Second

// invalidReplicas: the replication factor cannot be reached (e.g. too few brokers).
type invalidReplicas struct{ error }

// changeReplicas moves the topic to rf replicas by partition reassignment, unless Kafka is
// already moving them, and returns the status to show meanwhile.
func (r *Reconciler) changeReplicas(ctx context.Context, kt *v1beta1.KafkaTopic, topic kafka.Topic, rf int32) (*v1beta1.ReplicasChangeStatus, error) {
	ongoing, err := r.Admin.Reassigning(ctx, topic.Name, topic.Partitions)
	if err != nil {
		return nil, err
	}
	if ongoing {
		return &v1beta1.ReplicasChangeStatus{TargetReplicas: rf, State: "ongoing", Message: "Kafka is moving replicas"}, nil
	}
	plan, err := kafka.ReassignmentPlan(topic.Assignment, topic.Leaders, topic.Brokers, rf)
	if err != nil {
		return nil, &invalidReplicas{fmt.Errorf("topic %s: %w", topic.Name, err)}
	}
	if err := r.Admin.Reassign(ctx, topic.Name, plan); err != nil {
		return nil, err
	}
	klog.FromContext(ctx).Info("Reassigning partitions to change the replication factor", "replicationFactor", rf, "partitions", len(plan))
	r.Recorder.Eventf(kt, nil, corev1.EventTypeNormal, EventUpdated, "Reassign", "topic %s: moving %d partitions to replication factor %d", topic.Name, len(plan), rf)
	return &v1beta1.ReplicasChangeStatus{TargetReplicas: rf, State: "ongoing",
		Message: fmt.Sprintf("reassigning %d partitions to %d replicas", len(plan), rf)}, nil
}

// finalize deletes the topic (when deletion is on and the resource managed it) and removes the
// finalizer. A topic is deleted only by the resource that created or adopted it, by its topic ID
// (a topic of that name made again outside the operator is another topic), and never while
// another resource declares it.
//
// A deletion by name (the resource's create was never answered with an ID) waits while a create
// of the topic is in flight or unanswered: deleting before Kafka carries it out would leave a
// topic that no resource declares.
func (r *Reconciler) finalize(ctx context.Context, kt *v1beta1.KafkaTopic, name string) (controller.Result, error) {
	if !finalizers.Has(kt, v1beta1.FinalizerTopicOperator) {
		return controller.Result{}, nil
	}
	if r.Opts.DeleteTopics && kt.Annotations[v1beta1.AnnotationManaged] != "false" && !Internal(name) {
		if ref, why := r.deletable(kt, name); why != "" {
			klog.FromContext(ctx).Info("Leaving the topic in Kafka", "why", why)
		} else {
			if until, unsure := r.Admin.Unsure(name); unsure && ref.ID == "" {
				wait := min(time.Until(until), kafka.SettleMargin) + 100*time.Millisecond
				klog.FromContext(ctx).Info("Waiting for an unanswered create of the topic to settle before deleting it", "wait", wait)
				return controller.Result{RequeueAfter: wait}, nil
			}
			if err := r.Admin.Delete(ctx, ref); err != nil {
				return controller.Result{}, r.kafkaError(ctx, kt, name, err)
			}
			klog.FromContext(ctx).Info("Deleted topic", "topicId", ref.ID)
			r.Recorder.Eventf(kt, nil, corev1.EventTypeNormal, EventDeleted, "Delete", "deleted topic %s", name)
		}
	}
	_, err := r.patchFinalizer(ctx, kt, false)
	if err == nil {
		r.memo.Forget(kt.UID)
	}
	return controller.Result{}, err
}

// deletable is the topic a deleted resource may delete, or why it deletes none.
func (r *Reconciler) deletable(kt *v1beta1.KafkaTopic, name string) (kafka.TopicRef, string) {
	for _, other := range r.claimants(kt, name) {
		if other.UID != kt.UID {
			return kafka.TopicRef{}, fmt.Sprintf("%s/%s declares it too", other.Namespace, other.Name)
		}
	}
	if id := OwnID(kt, name); id != "" {
		return kafka.TopicRef{Name: name, ID: id}, ""
	}
	if refused(kt) {
		return kafka.TopicRef{}, "this resource never managed it (its status reports a conflict)"
	}
	// A create whose topic ID was never recorded (the operator stopped in between): by name.
	return kafka.TopicRef{Name: name}, ""
}

// OwnID is the ID of the topic the resource created or adopted, as its status records it: ""
// when it has none, or when it recorded it for another topic name.
func OwnID(kt *v1beta1.KafkaTopic, name string) string {
	if kt.Status.TopicName != "" && kt.Status.TopicName != name {
		return ""
	}
	return kt.Status.TopicID
}

// mayTakeOver reports whether a resource without a topic ID may have created the topic of its
// name: it carried our finalizer before this reconcile (so an earlier one got as far as creating)
// and was not refused the topic.
func mayTakeOver(kt *v1beta1.KafkaTopic) bool {
	return finalizers.Has(kt, FinalizerName) && !refused(kt)
}

// refused reports whether the resource's status says it was refused its topic.
func refused(kt *v1beta1.KafkaTopic) bool {
	c := conditions.Find(kt.Status.Conditions, v1beta1.ConditionReady)
	return c != nil && c.Reason == v1beta1.ReasonResourceConflict
}

// AnnotationAdopted set to "true" on a KafkaTopic lets it take over a topic that exists in Kafka
// already (the adopt mode sets it on the resources it creates).
const AnnotationAdopted = "kafkaplane.io/adopted"

// conflict reports that the resource may not manage its topic; nothing changes in Kafka.
func (r *Reconciler) conflict(ctx context.Context, kt *v1beta1.KafkaTopic, name, msg string) error {
	if !refused(kt) {
		r.Recorder.Eventf(kt, nil, corev1.EventTypeWarning, v1beta1.ReasonResourceConflict, "Reconcile", "%s", msg)
	}
	return r.status(ctx, kt, name, "", metav1.ConditionFalse, v1beta1.ReasonResourceConflict, msg)
}

// owner returns the resource that manages the same topic when it is not kt. Ownership is per
// Kafka cluster (every resource this operator watches, in any namespace): the resource that
// recorded the topic's ID first, else the oldest (then by namespace and name).
func (r *Reconciler) owner(kt *v1beta1.KafkaTopic, name string) *v1beta1.KafkaTopic {
	var winner *v1beta1.KafkaTopic
	for _, other := range r.claimants(kt, name) {
		if winner == nil || before(other, winner, name) {
			winner = other
		}
	}
	if winner == nil || winner.UID == kt.UID {
		return nil
	}
	return winner
}

// claimants are the resources, not being deleted, that stand for topic name (kt among them
// unless it is being deleted).
func (r *Reconciler) claimants(kt *v1beta1.KafkaTopic, name string) []*v1beta1.KafkaTopic {
	objs, _ := r.Topics.ByIndex(IndexTopicName, name)
	// In one namespace, the resource named like the topic is found by key (see IndexersFor).
	if r.SingleNamespace {
		if o, ok, _ := r.Topics.GetByKey(kt.Namespace, name); ok && o.(*v1beta1.KafkaTopic).Spec.TopicName == "" {
			objs = append(objs, o)
		}
	}
	var out []*v1beta1.KafkaTopic
	for _, o := range objs {
		other := o.(*v1beta1.KafkaTopic)
		if other.DeletionTimestamp == nil && TopicName(other) == name {
			out = append(out, other)
		}
	}
	return out
}

// before orders claimants of a topic: one that recorded an ID for it first, then the oldest.
func before(a, b *v1beta1.KafkaTopic, name string) bool {
	if ia, ib := OwnID(a, name) != "", OwnID(b, name) != ""; ia != ib {
		return ia
	}
	return older(a, b)
}

// IndexTopicName indexes KafkaTopics by the topic they stand for, across namespaces: one topic
// name is one topic of the Kafka cluster. In one namespace only the resources that set
// spec.topicName are indexed (the others are found by key: indexing them too would cost a set
// per resource, 3.6 MB at 10,000 topics, to find what the key finds).
const IndexTopicName = "topicName"

// IndexersFor returns the KafkaTopic cache indexes the reconciler uses for an operator watching
// one namespace (single) or several; add them before the informers start.
func IndexersFor(single bool) cache.Indexers {
	return cache.Indexers{IndexTopicName: func(obj any) ([]string, error) {
		kt, ok := obj.(*v1beta1.KafkaTopic)
		if !ok || (single && kt.Spec.TopicName == "") {
			return nil, nil
		}
		return []string{TopicName(kt)}, nil
	}}
}

func older(a, b *v1beta1.KafkaTopic) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// patchFinalizer adds or removes the finalizer and returns the object as it now is (kt itself
// when nothing had to change).
func (r *Reconciler) patchFinalizer(ctx context.Context, kt *v1beta1.KafkaTopic, add bool) (*v1beta1.KafkaTopic, error) {
	patched, wrote, err := finalizers.Set(ctx, kt, FinalizerName, add, r.Client.KafkaplaneV1beta1().KafkaTopics(kt.Namespace).Patch, r.Opts.FieldManager)
	if wrote {
		r.memo.Supersede(kt.UID, kt.ResourceVersion)
		r.memo.Wrote(kt.UID, patched.ResourceVersion, true)
	}
	return patched, err
}

// FinalizerName is this operator's finalizer.
const FinalizerName = v1beta1.FinalizerTopicOperator

// kafkaError reports a Kafka failure in status and returns it, so the key is retried with
// backoff.
func (r *Reconciler) kafkaError(ctx context.Context, kt *v1beta1.KafkaTopic, name string, err error) error {
	r.warnOnce(kt, v1beta1.ReasonKafkaError, err.Error())
	if serr := r.status(ctx, kt, name, kt.Status.TopicID, metav1.ConditionFalse, v1beta1.ReasonKafkaError, err.Error()); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// warnOnce records a Warning Event for a problem the Ready condition does not show yet, so that a
// retried failure is one Event, not one per attempt.
func (r *Reconciler) warnOnce(kt *v1beta1.KafkaTopic, reason, msg string) {
	if c := meta.FindStatusCondition(kt.Status.Conditions, v1beta1.ConditionReady); c != nil && c.Reason == reason && c.Message == msg {
		return
	}
	r.Recorder.Eventf(kt, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", msg)
}

// status writes the status when it changed, and only then. It patches the status subresource
// without a resourceVersion precondition: the operator is the status's only writer, and a
// cache that lags behind the finalizer patch must not turn every first write into a conflict.
func (r *Reconciler) status(ctx context.Context, kt *v1beta1.KafkaTopic, name, id string, ready metav1.ConditionStatus, reason, msg string) error {
	return r.statusWith(ctx, kt, name, id, ready, reason, msg, kt.Status.ReplicasChange)
}

// statusWith is status with the replicasChange to show (nil: none).
func (r *Reconciler) statusWith(ctx context.Context, kt *v1beta1.KafkaTopic, name, id string, ready metav1.ConditionStatus, reason, msg string, rc *v1beta1.ReplicasChangeStatus) error {
	next := *kt.Status.DeepCopy()
	next.ReplicasChange = rc
	next.ObservedGeneration = kt.Generation
	next.TopicName = name
	if id != "" {
		next.TopicID = id
	}
	conditions.Set(&next.Conditions, conditions.Ready(kt.Generation, ready, reason, msg))
	if sameStatus(next, kt.Status) {
		r.memo.ForgetWritten(kt.UID) // the cache shows it: no need to remember
		return nil
	}
	if prev, ok := r.memo.Written(kt.UID); ok && sameStatus(next, prev) {
		return nil
	}
	body, err := statuspatch.Body(next, "replicasChange")
	if err != nil {
		return fmt.Errorf("status of %s/%s: %w", kt.Namespace, kt.Name, err)
	}
	updated, err := r.Client.KafkaplaneV1beta1().KafkaTopics(kt.Namespace).Patch(ctx, kt.Name, types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: r.Opts.FieldManager}, "status")
	if apierrors.IsNotFound(err) {
		r.memo.Forget(kt.UID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("updating the status of %s/%s: %w", kt.Namespace, kt.Name, err)
	}
	r.memo.StoreWritten(kt.UID, next, updated.ResourceVersion)
	r.memo.Supersede(kt.UID, kt.ResourceVersion)
	r.memo.Wrote(kt.UID, updated.ResourceVersion, false)
	// The watch often delivers our write before its answer arrives; then MemoHandler found
	// nothing to drop, so look at the cache now.
	if obj, ok, _ := r.Topics.GetByKey(kt.Namespace, kt.Name); ok {
		r.memo.Seen(kt.UID, obj.(*v1beta1.KafkaTopic).ResourceVersion)
	}
	return nil
}

// sameStatus compares statuses ignoring the conditions' transition times, which a recomputation
// from a lagging cache sets anew.
func sameStatus(a, b v1beta1.KafkaTopicStatus) bool {
	a, b = *a.DeepCopy(), *b.DeepCopy()
	for _, s := range []*v1beta1.KafkaTopicStatus{&a, &b} {
		for i := range s.Conditions {
			s.Conditions[i].LastTransitionTime = metav1.Time{}
		}
	}
	return apiequality.Semantic.DeepEqual(a, b)
}

func orDefault(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MemoHandler is the KafkaTopic informer's event handler that keeps the memory of our own writes
// small: it drops what the cache has caught up with (ownwrites.Memo.Seen).
func (r *Reconciler) MemoHandler() cache.ResourceEventHandler { return r.memo.Handler() }
