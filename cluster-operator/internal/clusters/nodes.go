package clusters

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/apply"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/events"
)

// applyNodes writes each planned node's certificate Secret, ConfigMap and claims, and creates
// its pod when it has none. Existing pods are changed only by the roller.
func (r *Reconciler) applyNodes(ctx context.Context, k *v1beta1.Kafka, p *plan) error {
	ns := k.Namespace
	pods := r.nodePods(k)
	for _, np := range p.nodes {
		if _, err := apply.Apply(ctx, r.Kube.CoreV1().Secrets(ns), np.secret, get[corev1.Secret](r.Caches.Secrets, ns, np.name), r.Opts.FieldManager); err != nil {
			return err
		}
		if _, err := apply.Apply(ctx, r.Kube.CoreV1().ConfigMaps(ns), np.configMap, get[corev1.ConfigMap](r.Caches.ConfigMaps, ns, np.name), r.Opts.FieldManager); err != nil {
			return err
		}
		for _, c := range np.claims {
			if err := r.applyClaim(ctx, k, p, c); err != nil {
				return err
			}
		}
		if _, ok := pods[np.name]; ok {
			continue
		}
		_, err := r.Kube.CoreV1().Pods(ns).Create(ctx, np.pod, metav1.CreateOptions{FieldManager: r.Opts.FieldManager})
		if apierrors.IsAlreadyExists(err) {
			continue // the cache is behind; the pod exists
		}
		if err != nil {
			return fmt.Errorf("creating pod %s/%s: %w", ns, np.name, err)
		}
		klog.FromContext(ctx).Info("Created node pod", "pod", np.name)
		r.Recorder.Eventf(k, events.Pod(ns, np.name), corev1.EventTypeNormal, "NodeCreated", "Reconcile", "created node %s (pool %s, node ID %d)", np.name, np.node.Pool, np.node.ID)
	}
	return nil
}

// applyClaimMetadata adds to an existing claim the labels and annotations its template gained
// (template.persistentVolumeClaim); it removes none, since it cannot tell a key the template
// dropped from one someone else set.
func (r *Reconciler) applyClaimMetadata(ctx context.Context, cur, want *corev1.PersistentVolumeClaim) error {
	missing := func(want, have map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range want {
			if hv, ok := have[k]; !ok || hv != v {
				out[k] = v
			}
		}
		return out
	}
	labels, annotations := missing(want.Labels, cur.Labels), missing(want.Annotations, cur.Annotations)
	if len(labels)+len(annotations) == 0 {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels, "annotations": annotations}})
	if err != nil {
		return fmt.Errorf("PVC %s metadata: %w", cur.Name, err)
	}
	if _, err := r.Kube.CoreV1().PersistentVolumeClaims(cur.Namespace).Patch(ctx, cur.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: r.Opts.FieldManager}); err != nil {
		return fmt.Errorf("updating the labels and annotations of PVC %s/%s: %w", cur.Namespace, cur.Name, err)
	}
	return nil
}

// applyClaim creates a missing claim and grows one whose size went up; a claim is never shrunk
// (Kubernetes cannot), which is reported instead.
func (r *Reconciler) applyClaim(ctx context.Context, k *v1beta1.Kafka, p *plan, want *corev1.PersistentVolumeClaim) error {
	ns := k.Namespace
	cur := get[corev1.PersistentVolumeClaim](r.Caches.Claims, ns, want.Name)
	if cur == nil {
		_, err := r.Kube.CoreV1().PersistentVolumeClaims(ns).Create(ctx, want, metav1.CreateOptions{FieldManager: r.Opts.FieldManager})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating PVC %s/%s: %w", ns, want.Name, err)
		}
		return nil
	}
	if err := r.applyClaimMetadata(ctx, cur, want); err != nil {
		return err
	}
	wantSize := want.Spec.Resources.Requests[corev1.ResourceStorage]
	curSize := cur.Spec.Resources.Requests[corev1.ResourceStorage]
	switch wantSize.Cmp(curSize) {
	case 0:
		return nil
	case -1:
		p.warnings = append(p.warnings, fmt.Sprintf("PVC %s is %s; it cannot shrink to %s", cur.Name, curSize.String(), wantSize.String()))
		return nil
	}
	patch := fmt.Appendf(nil, `{"spec":{"resources":{"requests":{"storage":%q}}}}`, wantSize.String())
	if _, err := r.Kube.CoreV1().PersistentVolumeClaims(ns).Patch(ctx, cur.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: r.Opts.FieldManager}); err != nil {
		// A storage class that cannot expand refuses: say so, change nothing else.
		p.warnings = append(p.warnings, fmt.Sprintf("resizing PVC %s to %s: %v", cur.Name, wantSize.String(), err))
		return nil
	}
	r.Recorder.Eventf(k, events.Claim(ns, cur.Name), corev1.EventTypeNormal, "VolumeResized", "Reconcile", "PVC %s resized from %s to %s", cur.Name, curSize.String(), wantSize.String())
	return nil
}
