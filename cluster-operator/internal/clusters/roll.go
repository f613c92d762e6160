package clusters

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/roller"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/events"
)

// RestartChecker asks Kafka whether a node may go away: restarting a ready node, or removing
// one on scale-down. It answers false with a reason when it cannot tell (Kafka unreachable):
// unknown is never safe.
type RestartChecker interface {
	// Quorum reports the controller quorum, for the restart order (the leader last).
	Quorum(ctx context.Context, k *v1beta1.Kafka) (roller.Quorum, error)
	// CanRestart reports whether node may restart now.
	CanRestart(ctx context.Context, k *v1beta1.Kafka, node roller.Node) (bool, string)
	// CanRemove reports whether brokers may be removed (they host no partition replicas).
	CanRemove(ctx context.Context, k *v1beta1.Kafka, brokers []int32) (bool, string)
}

// rollState is what the roller did or waits for.
type rollState struct {
	// waiting: a node is down, restarting, or may not restart yet.
	waiting bool
	// stale lists nodes that still need a restart; blocked says why the next one cannot.
	stale   []string
	blocked string
}

// roll restarts at most one node per reconcile, and only when every other node is up: nodes
// that are not ready first, then controllers, brokers, the quorum leader last; a ready node only
// when Kafka says the restart keeps every partition at min.insync.replicas and the quorum at a
// majority. A restart deletes the pod; the next reconcile creates it from the current plan.
func (r *Reconciler) roll(ctx context.Context, k *v1beta1.Kafka, p *plan) (rollState, error) {
	var st rollState
	pods := r.nodePods(k)
	if err := r.spreadManualRoll(ctx, k, p, pods); err != nil {
		return st, err
	}
	var candidates []roller.Node
	byID := map[int32]*corev1.Pod{}
	for _, np := range p.nodes {
		pod, ok := pods[np.name]
		if !ok || pod.DeletionTimestamp != nil {
			st.waiting = true // a node is being created or going away: nothing else restarts
			continue
		}
		byID[np.node.ID] = pod
		n := roller.Node{ID: np.node.ID, Broker: np.node.Broker, Controller: np.node.Controller, Ready: podReady(pod)}
		if pod.Annotations[nodes.AnnotationRevision] != np.pod.Annotations[nodes.AnnotationRevision] {
			n.Reasons = append(n.Reasons, "its configuration, certificates or pod template changed")
		}
		if pod.Annotations[v1beta1.AnnotationManualRollingUpdate] == "true" {
			n.Reasons = append(n.Reasons, "manual rolling update")
		}
		if len(n.Reasons) > 0 {
			st.stale = append(st.stale, np.name)
		}
		candidates = append(candidates, n)
	}
	if len(st.stale) == 0 || st.waiting {
		return st, nil
	}
	st.waiting = true
	q, err := r.Checker.Quorum(ctx, k)
	if err != nil {
		q = roller.Quorum{Leader: -1}
	}
	var next roller.Node
	found := false
	var waits []string
	controllerPending := false
	for _, n := range roller.Order(candidates, q) {
		if !n.Ready {
			next, found = n, true // restarting a node that is not ready cannot make things worse
			break
		}
		if notReady := notReadyOther(candidates, n.ID); notReady >= 0 {
			st.blocked = fmt.Sprintf("node %d is not ready", notReady)
			return st, nil
		}
		// Controllers all restart before any broker (Order puts them first): a broker does not
		// go while a controller still waits to restart (on real Kafka a broker went while the
		// last controller waited for the quorum to catch up).
		if !n.Controller && controllerPending {
			waits = append(waits, fmt.Sprintf("node %d waits until the controllers have restarted", n.ID))
			continue
		}
		// A node Kafka will not let go now is retried later; the next one of its role may go
		// meanwhile.
		if ok, why := r.Checker.CanRestart(ctx, k, n); !ok {
			waits = append(waits, fmt.Sprintf("node %d may not restart yet: %s", n.ID, why))
			controllerPending = controllerPending || n.Controller
			continue
		}
		next, found = n, true
		break
	}
	if !found {
		st.blocked = strings.Join(waits, "; ")
		return st, nil
	}
	pod := byID[next.ID]
	uid := pod.UID
	err = r.Kube.CoreV1().Pods(k.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return st, fmt.Errorf("restarting node %s: %w", pod.Name, err)
	}
	klog.FromContext(ctx).Info("Restarting node", "pod", pod.Name, "reasons", next.Reasons)
	r.Recorder.Eventf(k, events.Pod(k.Namespace, pod.Name), corev1.EventTypeNormal, "NodeRestarted", "Roll", "restarting node %s: %s", pod.Name, strings.Join(next.Reasons, ", "))
	return st, nil
}

// spreadManualRoll turns a pool's manual-rolling-update annotation into the same annotation on
// each of its pods, then removes it from the pool: every pod then rolls once, in the roller's
// order, and the request survives an operator restart.
func (r *Reconciler) spreadManualRoll(ctx context.Context, k *v1beta1.Kafka, p *plan, pods map[string]*corev1.Pod) error {
	seen := map[string]bool{}
	for _, np := range p.nodes {
		pool := np.node.PoolSpec
		if pool.Annotations[v1beta1.AnnotationManualRollingUpdate] != "true" || seen[pool.Name] {
			continue
		}
		seen[pool.Name] = true
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"true"}}}`, v1beta1.AnnotationManualRollingUpdate)
		for _, other := range p.nodes {
			pod, ok := pods[other.name]
			if other.node.Pool != pool.Name || !ok || pod.Annotations[v1beta1.AnnotationManualRollingUpdate] == "true" {
				continue
			}
			if _, err := r.Kube.CoreV1().Pods(k.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: r.Opts.FieldManager}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("marking pod %s for a manual roll: %w", pod.Name, err)
			}
		}
		remove := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:null}}}`, v1beta1.AnnotationManualRollingUpdate)
		if _, err := r.Client.KafkaplaneV1beta1().KafkaNodePools(k.Namespace).Patch(ctx, pool.Name, types.MergePatchType, remove, metav1.PatchOptions{FieldManager: r.Opts.FieldManager}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("clearing the manual roll of pool %s: %w", pool.Name, err)
		}
	}
	return nil
}

// notReadyOther returns the ID of a node other than id that is not ready, or -1.
func notReadyOther(nodes []roller.Node, id int32) int32 {
	for _, n := range nodes {
		if n.ID != id && !n.Ready {
			return n.ID
		}
	}
	return -1
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	return slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
	})
}
