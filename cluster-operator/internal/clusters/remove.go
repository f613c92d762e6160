package clusters

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/events"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
)

// removeNodes deletes the nodes no pool asks for any more — pod, ConfigMap, certificate Secret
// and the claims whose deleteClaim is set — once Kafka confirms the brokers among them host no
// partition replicas and the controllers among them have left the quorum's voters.
func (r *Reconciler) removeNodes(ctx context.Context, k *v1beta1.Kafka, p *plan) error {
	wanted := map[string]bool{}
	for _, n := range p.all {
		wanted[n.Name(k.Name)] = true
	}
	var brokers []int32
	var gone []*corev1.Pod
	for name, pod := range r.nodePods(k) {
		if wanted[name] || !ownership.IsControlledBy(pod, k) {
			continue
		}
		id, ok := podNodeID(k.Name, pod.Labels[v1beta1.LabelPool], name)
		if !ok {
			continue
		}
		if pod.Labels[v1beta1.LabelControllerRole] == "true" && !p.removableControllers[id] {
			p.warnings = append(p.warnings, fmt.Sprintf("controller %s leaves the quorum's voters before it is removed", name))
			continue
		}
		if pod.Labels[v1beta1.LabelBrokerRole] == "true" {
			brokers = append(brokers, id)
		}
		gone = append(gone, pod)
	}
	if len(gone) == 0 {
		return nil
	}
	sort.Slice(brokers, func(i, j int) bool { return brokers[i] < brokers[j] })
	if len(brokers) > 0 {
		if ok, why := r.Checker.CanRemove(ctx, k, brokers); !ok {
			p.warnings = append(p.warnings, fmt.Sprintf("scale-down of nodes %v waits: %s", brokers, why))
			return nil
		}
	}
	for _, pod := range gone {
		if err := r.deleteNode(ctx, k, pod); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reconciler) deleteNode(ctx context.Context, k *v1beta1.Kafka, pod *corev1.Pod) error {
	ns, name := k.Namespace, pod.Name
	del := func(kind string, fn func() error) error {
		if err := fn(); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %s %s/%s: %w", kind, ns, name, err)
		}
		return nil
	}
	opts := metav1.DeleteOptions{}
	if err := del("pod", func() error { return r.Kube.CoreV1().Pods(ns).Delete(ctx, name, opts) }); err != nil {
		return err
	}
	if err := del("ConfigMap", func() error { return r.Kube.CoreV1().ConfigMaps(ns).Delete(ctx, name, opts) }); err != nil {
		return err
	}
	if err := del("Secret", func() error { return r.Kube.CoreV1().Secrets(ns).Delete(ctx, name, opts) }); err != nil {
		return err
	}
	// Claims owned by the Kafka are those with deleteClaim; the others keep the data.
	sel := labels.SelectorFromSet(labels.Set{v1beta1.LabelPodName: name})
	var deleted []string
	for _, c := range list[corev1.PersistentVolumeClaim](r.Caches.Claims, ns, sel) {
		if !ownership.IsControlledBy(c, k) {
			continue
		}
		if err := r.Kube.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, c.Name, opts); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting PVC %s/%s: %w", ns, c.Name, err)
		}
		deleted = append(deleted, c.Name)
	}
	klog.FromContext(ctx).Info("Removed node", "pod", name, "claims", deleted)
	r.Recorder.Eventf(k, events.Pod(ns, name), corev1.EventTypeNormal, "NodeRemoved", "ScaleDown", "removed node %s (claims deleted: %s)", name, strings.Join(deleted, ", "))
	return nil
}
