package env_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestStopLeavesNoProcesses starts a whole environment with a process pod of ours, stops it, and
// checks that no process it started is left: control plane and pods alike.
func TestStopLeavesNoProcesses(t *testing.T) {
	if os.Getenv("KAFKAPLANE_E2E_EXISTING_CLUSTER") == "1" {
		t.Skip("starts its own environment")
	}
	e, err := env.Start(t.Context(), env.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			e.Stop()
		}
	}()
	labels := map[string]string{"app": "uo"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "uo"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "uo", Image: v1beta1.Image(v1beta1.BinaryUserOperator, "test"),
					// No RBAC for the default service account: the process runs, never gets ready.
					Args: []string{"--leader-elect=false", "--http-address=:8080"},
				}}},
			},
		},
	}
	if _, err := e.Kube.AppsV1().Deployments("default").Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var podPid int
	deadline := time.Now().Add(60 * time.Second)
	for podPid == 0 {
		pods, err := e.Kube.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=uo"})
		if err == nil && len(pods.Items) == 1 {
			if p, ok := e.Runner.Pod("default", pods.Items[0].Name); ok {
				podPid = p.Pid()
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the process pod never started")
		}
		time.Sleep(100 * time.Millisecond)
	}
	pids := []int{podPid}
	for _, p := range e.Cluster.Processes() {
		pids = append(pids, p.Pid())
	}
	e.Stop()
	stopped = true
	var alive []string
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			alive = append(alive, fmt.Sprint(pid))
		}
	}
	if len(alive) > 0 {
		t.Fatalf("processes still alive after Stop: %v", alive)
	}
}

// TestFailedStartReturnsItsError: when a part fails after the control plane is up (here the
// kubelet, whose node name the API server refuses), Start returns that error, not a panic, and
// stops what it had started. A failed start used to call Stop on its nil result.
func TestFailedStartReturnsItsError(t *testing.T) {
	if os.Getenv("KAFKAPLANE_E2E_EXISTING_CLUSTER") == "1" {
		t.Skip("starts its own environment")
	}
	before := controlPlanePids(t)
	e, err := env.Start(t.Context(), env.Options{Dir: t.TempDir(), NoRealKafka: true,
		Nodes: []kubelet.NodeSpec{{Name: "Not_A_Node_Name", Zone: "zone-a", Region: "region-1", Address: "127.0.100.1"}}})
	if err == nil {
		e.Stop()
		t.Fatal("Start succeeded with a node name the API server refuses")
	}
	if !strings.Contains(err.Error(), "Not_A_Node_Name") {
		t.Fatalf("the error does not name the node: %v", err)
	}
	if left := slices.DeleteFunc(controlPlanePids(t), func(pid int) bool { return slices.Contains(before, pid) }); len(left) > 0 {
		t.Fatalf("processes left running after the failed start: %v", left)
	}
}

// controlPlanePids are the running etcd and kube-* processes of this machine.
func controlPlanePids(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", en.Name(), "comm"))
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(comm))
		if name == "etcd" || strings.HasPrefix(name, "kube-") {
			out = append(out, pid)
		}
	}
	return out
}
