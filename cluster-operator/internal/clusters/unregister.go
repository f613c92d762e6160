package clusters

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/events"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
)

// NodeUnregisterer removes a node that left the cluster from Kafka's metadata.
type NodeUnregisterer interface {
	Unregister(ctx context.Context, k *v1beta1.Kafka, id int32) (controllerStays bool, err error)
}

// unregisterNodes keeps the status's registered node IDs — every node that ran in the cluster —
// and unregisters from Kafka those that a scale-down removed, once their pods are gone and Kafka
// shows they host no partition replica. Kafka keeps a removed node's registration otherwise,
// and refuses to raise metadata.version past what that node supported.
func (r *Reconciler) unregisterNodes(ctx context.Context, k *v1beta1.Kafka, p *plan) {
	present := map[int32]bool{}
	for name, pod := range r.nodePods(k) {
		if !ownership.IsControlledBy(pod, k) {
			continue
		}
		if id, ok := podNodeID(k.Name, pod.Labels[v1beta1.LabelPool], name); ok {
			present[id] = true
		}
	}
	wanted := map[int32]bool{}
	for _, n := range p.all {
		wanted[n.ID] = true
	}
	ids := slices.Clone(k.Status.RegisteredNodeIDs)
	for id := range present {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	p.registered = ids
	if r.Registrations == nil || len(p.pending) > 0 {
		return
	}
	var keep []int32
	for _, id := range ids {
		if wanted[id] || present[id] {
			keep = append(keep, id)
			continue
		}
		// A node no pool has and no pod runs. A broker that still hosts replicas (a removal
		// this operator did not make, or a stale read) keeps its registration.
		if ok, _ := r.Checker.CanRemove(ctx, k, []int32{id}); !ok {
			keep = append(keep, id)
			continue
		}
		stays, err := r.Registrations.Unregister(ctx, k, id)
		if err != nil {
			klog.FromContext(ctx).V(1).Info("Unregistering a removed node failed; asked again later", "node", id, "err", err)
			keep = append(keep, id)
			continue
		}
		msg := "node %d unregistered from Kafka's metadata"
		if stays {
			msg += " (its controller registration, if any, stays: Kafka removes one only from 4.4, at metadata.version 4.4-IV2)"
		}
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "NodeUnregistered", events.ForNode("Scale", id), msg, id)
	}
	p.registered = keep
}
