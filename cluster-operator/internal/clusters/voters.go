package clusters

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/apply"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkacheck"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/events"
)

// QuorumChanger changes the KRaft controller quorum's voters (KIP-853).
type QuorumChanger interface {
	QuorumMembers(ctx context.Context, k *v1beta1.Kafka) (voters, observers []kafkacheck.Replica, err error)
	AddVoter(ctx context.Context, k *v1beta1.Kafka, r kafkacheck.Replica, listener, host string, port int) error
	RemoveVoter(ctx context.Context, k *v1beta1.Kafka, r kafkacheck.Replica) error
}

// AnnotationQuorumVoter on a controller pod that joined a running cluster records that it was
// made a voter, so the quorum is not asked again until the pod is replaced.
const AnnotationQuorumVoter = "kafkaplane.io/quorum-voter"

// reconcileVoters makes the controllers the pools ask for the quorum's voters: a controller that
// joined a running cluster (formatted without the initial voters) is added once it runs as an
// observer; one that a pool no longer has is removed before its pod goes. One change per
// reconcile. Kafka is asked only when such a change may be pending.
func (r *Reconciler) reconcileVoters(ctx context.Context, k *v1beta1.Kafka, p *plan) {
	p.removableControllers = map[int32]bool{}
	if len(p.pending) > 0 {
		return
	}
	pods := r.nodePods(k)
	var joining, initial []nodePlan
	for _, np := range p.nodes {
		if !np.node.Controller {
			continue
		}
		pod, ok := pods[np.name]
		if !ok || !podReady(pod) {
			return // the quorum changes only with every controller up
		}
		args := np.configMap.Data[nodes.FormatArgsKey]
		if strings.Contains(args, "--initial-controllers") {
			initial = append(initial, np)
		}
		if strings.Contains(args, "--no-initial-controllers") && pod.Annotations[AnnotationQuorumVoter] != "true" {
			joining = append(joining, np)
		}
	}
	wanted := map[string]bool{}
	for _, n := range p.all {
		wanted[n.Name(k.Name)] = true
	}
	var leaving []int32
	for name, pod := range pods {
		if !wanted[name] && pod.Labels[v1beta1.LabelControllerRole] == "true" {
			if id, ok := podNodeID(k.Name, pod.Labels[v1beta1.LabelPool], name); ok {
				leaving = append(leaving, id)
			}
		}
	}
	if len(joining) == 0 && len(leaving) == 0 && len(initial) == 0 {
		return
	}
	// Only the initial controllers' switch is due: nothing waits on it, so a quorum that cannot
	// be read (yet) is asked again later, without a warning.
	onlyInitial := len(joining) == 0 && len(leaving) == 0
	if onlyInitial && r.Quorum == nil {
		return
	}
	if r.Quorum == nil {
		p.warnings = append(p.warnings, "the controller quorum must change, and this operator cannot change it")
		return
	}
	voters, observers, err := r.Quorum.QuorumMembers(ctx, k)
	if err != nil && onlyInitial {
		return
	}
	if err != nil {
		p.warnings = append(p.warnings, "the controller quorum must change and cannot be read: "+err.Error())
		return
	}
	find := func(rs []kafkacheck.Replica, id int32) (kafkacheck.Replica, bool) {
		i := slices.IndexFunc(rs, func(r kafkacheck.Replica) bool { return r.ID == id })
		if i < 0 {
			return kafkacheck.Replica{}, false
		}
		return rs[i], true
	}
	if len(voters) > 0 {
		r.formedQuorum(ctx, k, initial)
	}
	changed := false
	heard := quorumClock(voters, observers)
	for _, np := range joining {
		v, isVoter := find(voters, np.node.ID)
		// The directory this node runs with now is the one the leader hears from: a fresh
		// observer entry of its ID. Entries linger for minutes after a replica stops or
		// becomes a voter; only fresh ones count.
		obs, isObserver := latest(observers, np.node.ID)
		isObserver = isObserver && heard.fresh(obs)
		switch {
		case isVoter && isObserver && obs.DirectoryID != v.DirectoryID:
			// The controller came back with another metadata directory (an emptied or new
			// disk). Its old (ID, directory) voter leaves once the leader no longer hears from
			// it (the old process may have stopped a moment ago); the new directory is added on
			// a later reconcile.
			if heard.fresh(v) || changed || len(voters) <= 1 {
				p.recheck = true
				p.warnings = append(p.warnings, fmt.Sprintf("controller %s waits to replace its old metadata directory in the quorum", np.name))
				continue
			}
			if err := r.Quorum.RemoveVoter(ctx, k, v); err != nil {
				p.warnings = append(p.warnings, err.Error())
				continue
			}
			changed = true
			p.recheck = true
			p.warnings = append(p.warnings, fmt.Sprintf("controller %s is replacing its old metadata directory in the quorum", np.name))
			r.Recorder.Eventf(k, events.Pod(k.Namespace, np.name), corev1.EventTypeNormal, "VoterReplaced", "Scale",
				"controller %s (node %d) came back with a new metadata directory: its old directory left the quorum's voters", np.name, np.node.ID)
		case isVoter:
			// The voter is this pod only if the leader hears from it now and this pod has run
			// long enough that an old process of the same ID can no longer be what the leader
			// heard: a pod that started a moment after the old one stopped sees the old
			// directory's voter still fresh.
			if heard.fresh(v) && r.now().Sub(podStarted(pods[np.name])) > 2*quorumFreshness {
				r.markVoter(ctx, k, np.name)
				continue
			}
			p.recheck = true
			p.warnings = append(p.warnings, fmt.Sprintf("controller %s waits to be seen by the quorum", np.name))
		case !isObserver || changed:
			p.recheck = true
			p.warnings = append(p.warnings, fmt.Sprintf("controller %s waits to join the quorum as a voter", np.name))
		default:
			host := kafkaconfig.NodeHost(k.Name, k.Namespace, np.node.Node, false)
			if err := r.Quorum.AddVoter(ctx, k, obs, kafkaconfig.ControlPlaneListener, host, v1beta1.PortControlPlane); err != nil {
				p.warnings = append(p.warnings, err.Error())
				continue
			}
			changed = true
			p.recheck = true
			p.warnings = append(p.warnings, fmt.Sprintf("controller %s is joining the quorum as a voter", np.name))
			r.Recorder.Eventf(k, events.Pod(k.Namespace, np.name), corev1.EventTypeNormal, "VoterAdded", "Scale", "controller %s (node %d) added to the quorum's voters", np.name, np.node.ID)
		}
	}
	for _, id := range leaving {
		v, ok := find(voters, id)
		if !ok {
			p.removableControllers[id] = true
			continue
		}
		if changed {
			continue
		}
		if len(voters) <= 1 {
			p.warnings = append(p.warnings, fmt.Sprintf("controller %d is the last voter of the quorum; it cannot leave", id))
			continue
		}
		if err := r.Quorum.RemoveVoter(ctx, k, v); err != nil {
			p.warnings = append(p.warnings, err.Error())
			continue
		}
		changed = true
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "VoterRemoved", events.ForNode("Scale", id), "node %d removed from the quorum's voters", id)
	}
}

// formedQuorum switches the format arguments of controllers formatted with the initial quorum
// to --no-initial-controllers once the quorum exists: a controller whose disk is emptied later
// (ephemeral storage, a lost volume) must not format itself as an initial voter again, claiming
// a voter's place with an empty log, but join as an observer and be added.
func (r *Reconciler) formedQuorum(ctx context.Context, k *v1beta1.Kafka, initial []nodePlan) {
	for _, np := range initial {
		cm := np.configMap.DeepCopy()
		cm.Data[nodes.FormatArgsKey] = nodes.WithoutInitialControllers(cm.Data[nodes.FormatArgsKey])
		current := get[corev1.ConfigMap](r.Caches.ConfigMaps, k.Namespace, np.name)
		if _, err := apply.Apply(ctx, r.Kube.CoreV1().ConfigMaps(k.Namespace), cm, current, r.Opts.FieldManager); err != nil {
			continue // asked again next time
		}
		// The node keeps its place: its pod stays a voter.
		r.markVoter(ctx, k, np.name)
	}
}

// latest is the entry of id that the leader heard from last (observers may be listed more
// than once: a stale entry lingers after a replica changes).
func latest(rs []kafkacheck.Replica, id int32) (kafkacheck.Replica, bool) {
	var out kafkacheck.Replica
	found := false
	for _, r := range rs {
		if r.ID == id && (!found || r.LastFetch.After(out.LastFetch)) {
			out, found = r, true
		}
	}
	return out, found
}

// quorumFreshness is how long after its last fetch the leader still counts a replica as
// heard from. Voters and observers fetch every half second or so (fetch.max.wait.ms).
const quorumFreshness = 5 * time.Second

// leaderClock is the quorum leader's clock as DescribeQuorum shows it: its latest fetch
// timestamp of any replica (brokers and followers fetch continuously). Fetch timestamps are the
// leader's: compared with each other, never with this operator's clock.
type leaderClock time.Time

func quorumClock(sets ...[]kafkacheck.Replica) leaderClock {
	var now time.Time
	for _, rs := range sets {
		for _, r := range rs {
			if r.LastFetch.After(now) {
				now = r.LastFetch
			}
		}
	}
	return leaderClock(now)
}

// fresh reports whether the leader heard from r lately (the leader itself always is).
func (c leaderClock) fresh(r kafkacheck.Replica) bool {
	if r.Leader {
		return true
	}
	return !r.LastFetch.IsZero() && time.Time(c).Sub(r.LastFetch) < quorumFreshness
}

// podStarted is when the pod's Kafka container last started, else when the pod was created
// (zero when neither is known).
func podStarted(pod *corev1.Pod) time.Time {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running != nil {
			return cs.State.Running.StartedAt.Time
		}
	}
	if pod.Status.StartTime != nil {
		return pod.Status.StartTime.Time
	}
	return pod.CreationTimestamp.Time
}

func (r *Reconciler) markVoter(ctx context.Context, k *v1beta1.Kafka, pod string) {
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"true"}}}`, AnnotationQuorumVoter)
	_, err := r.Kube.CoreV1().Pods(k.Namespace).Patch(ctx, pod, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: r.Opts.FieldManager})
	if err != nil && !apierrors.IsNotFound(err) {
		return // asked again next time
	}
}
