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

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkacheck"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
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
	var joining []nodePlan
	for _, np := range p.nodes {
		if !np.node.Controller {
			continue
		}
		pod, ok := pods[np.name]
		if !ok || !podReady(pod) {
			return // the quorum changes only with every controller up
		}
		if strings.Contains(np.configMap.Data[nodes.FormatArgsKey], "--no-initial-controllers") && pod.Annotations[AnnotationQuorumVoter] != "true" {
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
	if len(joining) == 0 && len(leaving) == 0 {
		return
	}
	if r.Quorum == nil {
		p.warnings = append(p.warnings, "the controller quorum must change, and this operator cannot change it")
		return
	}
	voters, observers, err := r.Quorum.QuorumMembers(ctx, k)
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
	changed := false
	for _, np := range joining {
		if _, ok := find(voters, np.node.ID); ok {
			r.markVoter(ctx, k, np.name)
			continue
		}
		obs, ok := find(observers, np.node.ID)
		if !ok || changed {
			p.warnings = append(p.warnings, fmt.Sprintf("controller %s waits to join the quorum as a voter", np.name))
			continue
		}
		host := kafkaconfig.NodeHost(k.Name, k.Namespace, np.node.Node, false)
		if err := r.Quorum.AddVoter(ctx, k, obs, kafkaconfig.ControlPlaneListener, host, v1beta1.PortControlPlane); err != nil {
			p.warnings = append(p.warnings, err.Error())
			continue
		}
		changed = true
		p.warnings = append(p.warnings, fmt.Sprintf("controller %s is joining the quorum as a voter", np.name))
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "VoterAdded", "Scale", "controller %s (node %d) added to the quorum's voters", np.name, np.node.ID)
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
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "VoterRemoved", "Scale", "node %d removed from the quorum's voters", id)
	}
}

func (r *Reconciler) markVoter(ctx context.Context, k *v1beta1.Kafka, pod string) {
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"true"}}}`, AnnotationQuorumVoter)
	_, err := r.Kube.CoreV1().Pods(k.Namespace).Patch(ctx, pod, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: r.Opts.FieldManager})
	if err != nil && !apierrors.IsNotFound(err) {
		return // asked again next time
	}
}
