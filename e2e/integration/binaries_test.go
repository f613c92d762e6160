package integration

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
)

// TestBinariesServeAndStopOnSIGTERM starts each of the three binaries against the API server
// (as a developer would, with a kubeconfig), checks /healthz, /readyz and /metrics, then sends
// SIGTERM and expects a clean exit with status 0 that released its Lease.
func TestBinariesServeAndStopOnSIGTERM(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	_, bins, kc := localOperators(t, f)

	for _, name := range []string{"cluster-operator", "topic-operator", "user-operator"} {
		t.Run(name, func(t *testing.T) {
			port, err := localcluster.FreePort("127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			args := []string{"--kubeconfig=" + kc, "--watch-namespaces=" + ns, "--leader-election-namespace=" + ns, "--http-address=" + addr}
			if name != "cluster-operator" {
				args = append(args, "--bootstrap-servers=127.0.0.1:9") // no KafkaTopic or KafkaUser here: never dialled
			}
			cmd := exec.Command(bins[name], args...)
			cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent") // the flag, not the environment, decides
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() {
				if cmd.ProcessState == nil {
					_ = cmd.Process.Kill()
				}
				if t.Failed() {
					t.Logf("%s output:\n%s", name, out.String())
				}
			}()

			get := func(path string) (int, string, error) {
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					return 0, "", err
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b), nil
			}
			framework.Eventually(t, 30*time.Second, name+" to be ready", func() (bool, error) {
				code, body, err := get("/readyz")
				return code == http.StatusOK, fmt.Errorf("%d %s %v", code, body, err)
			})
			if code, _, err := get("/healthz"); code != http.StatusOK {
				t.Errorf("/healthz = %d, %v", code, err)
			}
			_, metrics, err := get("/metrics")
			if err != nil || !strings.Contains(metrics, "process_resident_memory_bytes") || !strings.Contains(metrics, "go_goroutines") {
				t.Errorf("/metrics lacks the process metrics: %v", err)
			}
			framework.Eventually(t, 30*time.Second, name+" to lead", func() (bool, error) {
				return strings.Contains(out.String(), "Became leader"), nil
			})

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("exit after SIGTERM: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("no exit within 15s of SIGTERM")
			}
			lease, err := f.Kube.CoordinationV1().Leases(ns).Get(t.Context(), "kafkaplane-"+name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if h := lease.Spec.HolderIdentity; h != nil && *h != "" {
				t.Errorf("lease still held by %q after a clean shutdown", *h)
			}
		})
	}
}

// TestBinaryExitsOnSetupError: a binary whose setup fails (here the user operator without
// --bootstrap-servers) exits with an error instead of serving "not ready" forever.
func TestBinaryExitsOnSetupError(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	_, bins, kc := localOperators(t, f)
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bins["user-operator"], "--kubeconfig="+kc, "--watch-namespaces="+ns, "--leader-elect=false",
		fmt.Sprintf("--http-address=127.0.0.1:%d", port))
	out, err := runWithTimeout(cmd, 20*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(out, "--bootstrap-servers is required") {
		t.Errorf("want a non-zero exit naming --bootstrap-servers, got %v:\n%s", err, out)
	}
}

func runWithTimeout(cmd *exec.Cmd, d time.Duration) (string, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("still running after %s", d)
	}
}
