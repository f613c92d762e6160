package clusters

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestNotReadyNodesSayWhy: the Kafka's and the pool's Ready message and an Event name, per node,
// what Kubernetes reports: an unbound claim and its StorageClass, the scheduler's refusal, an
// image that cannot be pulled, a crash loop and its last exit. (They said only the names.)
func TestNotReadyNodesSayWhy(t *testing.T) {
	e := newEnv(t, testKafka(), testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 3, v1beta1.RoleBroker))
	e.reconcile(t)
	ctx := context.Background()
	brokers := e.nodeNames(t, "brokers")
	controller := e.nodeNames(t, "controllers")[0]
	// The controller's claim waits for a StorageClass that does not provision.
	claims, err := e.kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	class := "managed-premium"
	for i := range claims.Items {
		c := &claims.Items[i]
		if c.Labels[v1beta1.LabelPodName] == controller {
			c.Spec.StorageClassName = &class
			if _, err := e.kube.CoreV1().PersistentVolumeClaims(ns).Update(ctx, c, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			c.Status.Phase = corev1.ClaimPending
			if _, err := e.kube.CoreV1().PersistentVolumeClaims(ns).UpdateStatus(ctx, c, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		} else {
			c.Status.Phase = corev1.ClaimBound
			if _, err := e.kube.CoreV1().PersistentVolumeClaims(ns).UpdateStatus(ctx, c, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	set := func(name string, st corev1.PodStatus) {
		t.Helper()
		p, err := e.kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Status = st
		if _, err := e.kube.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	set(brokers[0], corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Message: "0/3 nodes are available: 3 Insufficient memory."}}})
	set(brokers[1], corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "kafka", Image: "apache/kafka:9.9.9",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}})
	set(brokers[2], corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "kafka",
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}})
	// The reconcile reads the informer's cache: wait until it has the last status written.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if p := get[corev1.Pod](e.caches.Pods, ns, brokers[2]); p != nil && p.Status.Phase == corev1.PodRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pods' cache never showed the last status")
		}
	}
	e.reconcile(t)

	msg := findReady(e.kafka(t)).Message
	for _, want := range []string{
		controller + " (claim data-" + controller + " is Pending (StorageClass managed-premium",
		brokers[0] + " (unschedulable: 0/3 nodes are available: 3 Insufficient memory.)",
		brokers[1] + " (container kafka cannot pull image apache/kafka:9.9.9 (ImagePullBackOff))",
		brokers[2] + " (container kafka is crash-looping: last exit code 137 (OOMKilled))",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the Kafka's message lacks %q:\n%s", want, msg)
		}
	}
	pool, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Get(ctx, "brokers", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pool.Status.Conditions {
		if c.Type == v1beta1.ConditionReady && !strings.Contains(c.Message, "crash-looping") {
			t.Errorf("the pool's message: %q", c.Message)
		}
	}
	found := false
	for len(e.rec.Recorder.(*events.FakeRecorder).Events) > 0 {
		if ev := <-e.rec.Recorder.(*events.FakeRecorder).Events; strings.Contains(ev, "NodesNotReady") && strings.Contains(ev, "crash-looping") {
			found = true
		}
	}
	if !found {
		t.Error("no NodesNotReady event naming the causes")
	}
}
