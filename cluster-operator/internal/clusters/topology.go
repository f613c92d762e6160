package clusters

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodeids"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// assignIDs gives every pool its node IDs: the IDs it has are kept; scaling changes them as the
// annotations say.
func (r *Reconciler) assignIDs(k *v1beta1.Kafka, pools []*v1beta1.KafkaNodePool) (map[string][]int32, error) {
	var in []nodeids.Pool
	for _, p := range pools {
		// The IDs recorded in the status, and those of pods still running (a removal that
		// waits, or a status lost): none of them may go to another pool.
		current := slices.Clone(p.Status.NodeIDs)
		sel := labels.SelectorFromSet(labels.Set{v1beta1.LabelCluster: k.Name, v1beta1.LabelPool: p.Name})
		for _, pod := range list[corev1.Pod](r.Caches.Pods, k.Namespace, sel) {
			if id, ok := podNodeID(k.Name, p.Name, pod.Name); ok && !slices.Contains(current, id) {
				current = append(current, id)
			}
		}
		in = append(in, nodeids.Pool{Name: p.Name, Replicas: p.Spec.Replicas, Current: current,
			Next: p.Annotations[v1beta1.AnnotationNextNodeIDs], Remove: p.Annotations[v1beta1.AnnotationRemoveNodeIDs]})
	}
	return nodeids.Assign(in)
}

// podNodeID reads the node ID from a pod name <cluster>-<pool>-<id>.
func podNodeID(cluster, pool, name string) (int32, bool) {
	prefix := cluster + "-" + pool + "-"
	if len(name) <= len(prefix) || name[:len(prefix)] != prefix {
		return 0, false
	}
	id, err := strconv.ParseInt(name[len(prefix):], 10, 32)
	return int32(id), err == nil
}

// nodesOf lists the cluster's nodes by ID.
func nodesOf(pools []*v1beta1.KafkaNodePool, ids map[string][]int32) []nodes.Node {
	var out []nodes.Node
	for _, p := range pools {
		for _, id := range ids[p.Name] {
			out = append(out, nodes.Node{Node: kafkaconfig.Node{ID: id, Pool: p.Name,
				Broker: slices.Contains(p.Spec.Roles, v1beta1.RoleBroker), Controller: slices.Contains(p.Spec.Roles, v1beta1.RoleController)},
				PoolSpec: p})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func controllersOf(ns []nodes.Node) []kafkaconfig.Node {
	var out []kafkaconfig.Node
	for _, n := range ns {
		if n.Controller {
			out = append(out, n.Node)
		}
	}
	return out
}

// clusterID is the KRaft cluster ID: from the status, else from an existing node's ConfigMap (a
// status lost in a restore must not split the cluster), else new. It reports whether it is new.
func (r *Reconciler) clusterID(k *v1beta1.Kafka) (string, bool, error) {
	if k.Status.ClusterID != "" {
		return k.Status.ClusterID, false, nil
	}
	for _, cm := range list[corev1.ConfigMap](r.Caches.ConfigMaps, k.Namespace, clusterSelector(k.Name)) {
		if id := cm.Data[nodes.ClusterIDKey]; id != "" {
			return id, false, nil
		}
	}
	id, err := newClusterID()
	return id, true, err
}

// newClusterID is a random Kafka Uuid in its text form; like Kafka's own, never starting with
// '-', which command lines would take for a flag.
func newClusterID() (string, error) {
	for {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("generating a cluster ID: %w", err)
		}
		if s := base64.RawURLEncoding.EncodeToString(b); s[0] != '-' {
			return s, nil
		}
	}
}
