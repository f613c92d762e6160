package clusters

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// notReadyReason says why a node's pod is not ready, from what Kubernetes reports of it and its
// claims — an unbound claim, the scheduler's refusal, an image that cannot be pulled, a
// crash-looping container and its last exit — so that the Kafka's status names the cause and a
// user need not dig through pods. It is stable while the cause is (no times or counters that
// change every reconcile), so that the status is not rewritten for nothing.
func (r *Reconciler) notReadyReason(k *v1beta1.Kafka, name string, pod *corev1.Pod) string {
	var why []string
	sel := labels.SelectorFromSet(labels.Set{v1beta1.LabelPodName: name})
	for _, c := range list[corev1.PersistentVolumeClaim](r.Caches.Claims, k.Namespace, sel) {
		if c.Status.Phase == corev1.ClaimBound {
			continue
		}
		class := "the default StorageClass"
		if c.Spec.StorageClassName != nil && *c.Spec.StorageClassName != "" {
			class = "StorageClass " + *c.Spec.StorageClassName
		}
		why = append(why, fmt.Sprintf("claim %s is %s (%s: is it there, and does it provision volumes?)", c.Name, orUnknown(string(c.Status.Phase)), class))
	}
	if pod == nil {
		return strings.Join(append(why, "pod not created yet"), "; ")
	}
	if pod.DeletionTimestamp != nil {
		return strings.Join(append(why, "pod restarting"), "; ")
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			why = append(why, fmt.Sprintf("unschedulable: %s", orUnknown(c.Message)))
		}
	}
	statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		switch w := cs.State.Waiting; {
		case w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff" || w.Reason == "InvalidImageName"):
			why = append(why, fmt.Sprintf("container %s cannot pull image %s (%s)", cs.Name, cs.Image, w.Reason))
		case w != nil && w.Reason == "CrashLoopBackOff":
			last := ""
			if t := cs.LastTerminationState.Terminated; t != nil {
				last = fmt.Sprintf(": last exit code %d", t.ExitCode)
				if t.Reason != "" {
					last += " (" + t.Reason + ")"
				}
			}
			why = append(why, fmt.Sprintf("container %s is crash-looping%s", cs.Name, last))
		case w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing":
			why = append(why, fmt.Sprintf("container %s waiting: %s", cs.Name, w.Reason))
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
			why = append(why, fmt.Sprintf("container %s exited with code %d", cs.Name, cs.State.Terminated.ExitCode))
		}
	}
	if len(why) == 0 {
		switch {
		case pod.Status.Phase == corev1.PodRunning:
			why = append(why, "running, not ready yet (Kafka starting, or its readiness probe failing)")
		case pod.Status.Phase != "":
			why = append(why, "pod "+strings.ToLower(string(pod.Status.Phase)))
		default:
			why = append(why, "pod pending")
		}
	}
	return strings.Join(why, "; ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
