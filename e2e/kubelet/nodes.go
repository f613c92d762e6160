package kubelet

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// NodeSpec describes one simulated node.
type NodeSpec struct {
	Name, Zone, Region string
	// Address is the node's InternalIP, a loopback address such as 127.0.100.1.
	Address string
	Labels  map[string]string
	Taints  []corev1.Taint
	// CPU and Memory capacity; 16 and 64Gi when empty.
	CPU, Memory string
}

// Zones returns n nodes spread over zones zone-a, zone-b, … of region region-1.
func Zones(n int) []NodeSpec {
	out := make([]NodeSpec, n)
	for i := range out {
		out[i] = NodeSpec{
			Name:    fmt.Sprintf("node-%d", i+1),
			Zone:    fmt.Sprintf("zone-%c", 'a'+i%26),
			Region:  "region-1",
			Address: fmt.Sprintf("127.0.100.%d", i+1),
		}
	}
	return out
}

func (n NodeSpec) object() *corev1.Node {
	cpu, mem := n.CPU, n.Memory
	if cpu == "" {
		cpu = "16"
	}
	if mem == "" {
		mem = "64Gi"
	}
	labels := map[string]string{
		corev1.LabelHostname:           n.Name,
		corev1.LabelTopologyZone:       n.Zone,
		corev1.LabelTopologyRegion:     n.Region,
		corev1.LabelOSStable:           "linux",
		corev1.LabelArchStable:         "amd64",
		"kafkaplane.io/simulated-node": "true",
	}
	for k, v := range n.Labels {
		labels[k] = v
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(cpu),
		corev1.ResourceMemory:           resource.MustParse(mem),
		corev1.ResourcePods:             resource.MustParse("250"),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels},
		Spec:       corev1.NodeSpec{Taints: n.Taints},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Phase:       corev1.NodeRunning,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: n.Address},
				{Type: corev1.NodeHostName, Address: n.Name},
			},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.37.2-kafkaplane-sim", OperatingSystem: "linux", Architecture: "amd64"},
		},
	}
}

// registerNodes creates (or adopts) the nodes and marks them Ready.
func (k *Kubelet) registerNodes(ctx context.Context) error {
	for _, n := range k.opts.Nodes {
		if err := retryStartup(ctx, func(ctx context.Context) error { return k.registerNode(ctx, n) }); err != nil {
			return err
		}
	}
	return nil
}

// retryStartup retries a call of the kubelet's start for up to 30 s: the node lifecycle
// controller may write a node between our create and status update (a conflict), and an API
// server that has just become ready may still refuse a request or not yet serve a resource.
// Only a request the API server calls invalid fails at once.
func retryStartup(ctx context.Context, call func(ctx context.Context) error) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		last = call(ctx)
		switch {
		case last == nil:
			return true, nil
		case apierrors.IsInvalid(last), apierrors.IsBadRequest(last):
			return false, last
		default:
			return false, nil
		}
	})
	if err != nil && last != nil && !errors.Is(err, last) {
		return fmt.Errorf("%w (last error: %w)", err, last)
	}
	return err
}

// registerNode creates the node (or reads it back) and marks it ready.
func (k *Kubelet) registerNode(ctx context.Context, n NodeSpec) error {
	want := n.object()
	node, err := k.client.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		node, err = k.client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("registering node %s: %w", n.Name, err)
	}
	node.Status = want.Status
	node.Status.Conditions = nodeConditions(time.Now())
	if _, err := k.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("marking node %s ready: %w", n.Name, err)
	}
	return nil
}

func nodeConditions(now time.Time) []corev1.NodeCondition {
	t := metav1.NewTime(now)
	cond := func(typ corev1.NodeConditionType, status corev1.ConditionStatus, reason string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: typ, Status: status, Reason: reason, LastHeartbeatTime: t, LastTransitionTime: t}
	}
	return []corev1.NodeCondition{
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"),
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"),
	}
}

// heartbeat renews each node's Lease, as a kubelet does, so the node lifecycle controller keeps
// the nodes Ready; node status is refreshed less often.
func (k *Kubelet) heartbeat(ctx context.Context) {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	beats := 0
	for {
		for _, n := range k.opts.Nodes {
			k.renewLease(ctx, n.Name)
			if beats%4 == 0 {
				k.refreshNodeStatus(ctx, n.Name)
			}
		}
		beats++
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (k *Kubelet) renewLease(ctx context.Context, node string) {
	leases := k.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: node},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &now},
		}, metav1.CreateOptions{})
	} else if err == nil {
		lease.Spec.RenewTime = &now
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	}
	if err != nil && ctx.Err() == nil {
		k.logger.V(2).Info("Renewing node lease failed", "node", node, "err", err)
	}
}

func (k *Kubelet) refreshNodeStatus(ctx context.Context, name string) {
	node, err := k.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return
	}
	node.Status.Conditions = nodeConditions(time.Now())
	_, _ = k.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
}
