package localcluster_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
)

// TestStartStopLeavesNoProcesses starts a whole control plane, checks that it answers and that
// the controller-manager works (the default ServiceAccount appears), then stops it and checks
// that none of its processes is left.
func TestStartStopLeavesNoProcesses(t *testing.T) {
	if os.Getenv("KAFKAPLANE_E2E_EXISTING_CLUSTER") == "1" {
		t.Skip("uses its own control plane")
	}
	bin, err := build.ControlPlane(testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, err := localcluster.Start(t.Context(), localcluster.Options{Binary: bin, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range c.Processes() {
		pids = append(pids, p.Pid())
	}
	if len(pids) != 4 {
		t.Fatalf("%d processes, want etcd, apiserver, controller-manager and scheduler", len(pids))
	}
	client := kubernetes.NewForConfigOrDie(c.Config)
	v, err := client.Discovery().ServerVersion()
	if err != nil || v.GitVersion != build.KubernetesVersion {
		t.Fatalf("server version %v, %v; want %s", v, err, build.KubernetesVersion)
	}
	waitForDefaultServiceAccount(t, client)
	if _, err := os.Stat(filepath.Join(dir, "kubeconfig")); err != nil {
		t.Errorf("no admin kubeconfig: %v", err)
	}

	c.Stop()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after Stop (kill -0: %v)", pid, err)
		}
	}
}

// TestBadBinaryNamesComponent starts a control plane from a binary that exits at once: the error
// names the component and its log file.
func TestBadBinaryNamesComponent(t *testing.T) {
	_, err := localcluster.Start(t.Context(), localcluster.Options{Binary: "/bin/false", Dir: t.TempDir()})
	var ce *localcluster.ComponentError
	if !errors.As(err, &ce) || ce.Component != "etcd" || ce.LogFile == "" {
		t.Fatalf("error %v does not name etcd and its log", err)
	}
}

func waitForDefaultServiceAccount(t *testing.T, client kubernetes.Interface) {
	t.Helper()
	w, err := client.CoreV1().ServiceAccounts("default").Watch(t.Context(), metav1.ListOptions{FieldSelector: "metadata.name=default"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := client.CoreV1().ServiceAccounts("default").Get(t.Context(), "default", metav1.GetOptions{}); err == nil {
		return
	}
	<-w.ResultChan()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
