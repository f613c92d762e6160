package topics

import (
	"cmp"
	"context"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/kafka"
)

// Resync finds the resources whose topic drifted from the spec, from one snapshot of Kafka, so
// that a periodic resync reconciles only those instead of describing every topic again.
type Resync struct {
	Topics *informers.Multi
	Admin  interface {
		Snapshot(ctx context.Context, names []string, fn func(name string, t kafka.Topic, err error))
	}
	LeaveAlone []string
	Timeout    time.Duration
	// Fresh is how long a resource never reconciled (no status at all) is left to the key its
	// informer event queued; 5 minutes when zero.
	Fresh time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Keys returns the keys to reconcile: resources not Ready for their generation, being deleted,
// or whose topic is missing or differs from the spec in Kafka. A topic Kafka could not describe
// is reconciled too, so that its resource reports the error in its own status.
func (r *Resync) Keys() ([]controller.Key, error) {
	objs, err := r.Topics.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var keys, unsettled []controller.Key
	// Resources to compare with Kafka, by topic name (two resources can claim one topic).
	byName := map[string][]*v1beta1.KafkaTopic{}
	var names []string
	for _, o := range objs {
		kt := o.(*v1beta1.KafkaTopic)
		key := controller.Key{Namespace: kt.Namespace, Name: kt.Name}
		name := TopicName(kt)
		switch {
		case kt.DeletionTimestamp != nil, !conditions.IsReady(kt.Status.Conditions, kt.Generation):
			unsettled = append(unsettled, key)
		case kt.Annotations[v1beta1.AnnotationManaged] == "false", kt.Annotations[v1beta1.AnnotationPauseReconciliation] == "true", Internal(name):
		default:
			if byName[name] == nil {
				names = append(names, name)
			}
			byName[name] = append(byName[name], kt)
		}
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	failed := 0
	var firstErr error
	r.Admin.Snapshot(ctx, names, func(name string, t kafka.Topic, err error) {
		if err != nil {
			failed++
			firstErr = cmp.Or(firstErr, err)
		}
		for _, kt := range byName[name] {
			if err != nil || Drifted(kt, t, r.LeaveAlone) {
				keys = append(keys, controller.Key{Namespace: kt.Namespace, Name: kt.Name})
			}
		}
	})
	if failed > 0 {
		klog.Background().Error(firstErr, "Resync could not describe topics; reconciling them one by one", "failed", failed)
	}
	// A resource that was not Ready when listed may have been reconciled while Kafka was asked
	// (a snapshot of thousands of topics takes a while in a creation burst): queued again, it
	// would be described again for nothing. Only those still unsettled in the cache are queued.
	for _, key := range unsettled {
		obj, ok, err := r.Topics.GetByKey(key.Namespace, key.Name)
		if err != nil || !ok {
			continue // gone: nothing to do (a deletion's finalizer ran)
		}
		kt := obj.(*v1beta1.KafkaTopic)
		if kt.DeletionTimestamp == nil && (conditions.IsReady(kt.Status.Conditions, kt.Generation) || r.fresh(kt)) {
			continue
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// fresh reports whether kt was created less than Fresh ago and has no status yet: its informer
// event queued it, and the queue keeps it until a reconcile writes a status (in a creation
// burst of 10,000 it is still waiting there, or its create is in flight). Queued by the resync
// as well, it would be reconciled a second time once Ready, and described for nothing: 0.03
// Metadata and DescribeConfigs requests per topic. One older than that is queued: a resync is
// the safety net for a key lost on the way.
func (r *Resync) fresh(kt *v1beta1.KafkaTopic) bool {
	if kt.Status.ObservedGeneration != 0 || len(kt.Status.Conditions) != 0 || kt.Status.TopicID != "" {
		return false
	}
	now, fresh := time.Now, r.Fresh
	if r.Now != nil {
		now = r.Now
	}
	if fresh == 0 {
		fresh = 5 * time.Minute
	}
	return now().Sub(kt.CreationTimestamp.Time) < fresh
}

// Drifted reports whether a Ready topic no longer matches its resource.
func Drifted(kt *v1beta1.KafkaTopic, t kafka.Topic, leaveAlone []string) bool {
	if !t.Exists || t.ID != kt.Status.TopicID {
		return true
	}
	if p := kt.Spec.Partitions; p != nil && *p != t.Partitions {
		return true
	}
	if rf := kt.Spec.Replicas; rf != nil && !t.ReplicationFactorIs(*rf) {
		return true
	}
	return !Empty(ConfigDiff(t.Name, kt.Spec.Config, t.Configs, leaveAlone))
}
