package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestLivenessRestartsAWedgedOperator (kfake, the topic operator as a pod with our kubelet's
// liveness probes): while Kafka takes requests and never answers, the operator's reconciles run
// past its --stall-timeout, its /healthz fails, and the liveness probe restarts it; once Kafka
// answers again, the restarted operator converges and is restarted no more.
func TestLivenessRestartsAWedgedOperator(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	ctx := t.Context()
	kf, _ := startKafka(t, kafkafake.Options{})
	const sa = "topic-operator"
	createRBAC(t, f.Kube, ns, sa)
	if _, err := f.Kube.RbacV1().Roles(ns).Patch(ctx, sa, types.JSONPatchType, []byte(`[{"op":"add","path":"/rules/-","value":`+
		`{"apiGroups":["`+v1beta1.GroupName+`"],"resources":["kafkatopics","kafkatopics/status"],"verbs":["update","patch"]}}]`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	d := topicOperatorDeployment(ns, sa)
	c := &d.Spec.Template.Spec.Containers[0]
	c.Args = []string{"--watch-namespaces=" + ns, "--http-address=:8080", "--bootstrap-servers=" + kf.Bootstrap(), "--stall-timeout=2s"}
	c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
		PeriodSeconds: 1, FailureThreshold: 2}
	if _, err := f.Kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	spec := v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](1), Replicas: ptr.To[int32](1)}
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns).Create(ctx, kafkaTopic("first", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTopicWithin(t, f, ns, "first", v1beta1.ReasonReady, 60*time.Second)
	podRestarts := func() int32 {
		pods, err := f.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=topic-operator"})
		if err != nil || len(pods.Items) != 1 {
			return -1
		}
		return restarts(pods.Items[0])
	}
	if n := podRestarts(); n != 0 {
		t.Fatalf("the operator restarted %d times before any fault", n)
	}

	kf.SetHanging(true)
	hung := time.Now()
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns).Create(ctx, kafkaTopic("during", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 60*time.Second, "the liveness probe to restart the wedged operator", func() (bool, error) {
		return podRestarts() >= 1, nil
	})
	t.Logf("restarted %s after Kafka stopped answering", time.Since(hung).Round(100*time.Millisecond))
	pods, err := f.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=topic-operator"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods: %v", err)
	}
	log, err := os.ReadFile(filepath.Join(f.Dir, "logs", ns+"_"+pods.Items[0].Name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "liveness probe failed") {
		t.Error("the pod's log does not say the liveness probe killed it")
	}

	kf.SetHanging(false)
	back := time.Now()
	waitTopicWithin(t, f, ns, "during", v1beta1.ReasonReady, 60*time.Second)
	t.Logf("during Ready %s after Kafka came back", time.Since(back).Round(100*time.Millisecond))
	settled := podRestarts()
	time.Sleep(5 * time.Second)
	if n := podRestarts(); n != settled {
		t.Errorf("restarted again (%d → %d) with Kafka answering", settled, n)
	}
}
