// Package framework runs Kafkaplane's integration tests against a real control plane: one
// environment shared by the tests of a run (started by the test wrapper, or by TestMain when a
// package runs alone), a fresh namespace per test, YAML apply, waits with timeouts, and failure
// output with Events, pod and operator logs. With KAFKAPLANE_E2E_EXISTING_CLUSTER=1 the same
// tests run against the cluster of $KUBECONFIG, with the simulator off; a developer's KUBECONFIG
// alone never redirects them.
package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

// Environment variables.
const (
	// EnvExistingCluster=1 runs the tests against $KUBECONFIG's cluster.
	EnvExistingCluster = "KAFKAPLANE_E2E_EXISTING_CLUSTER"
	// EnvKubeconfig and EnvDir are set by the test wrapper for the environment it shares.
	EnvKubeconfig = "KAFKAPLANE_E2E_KUBECONFIG"
	EnvDir        = "KAFKAPLANE_E2E_DIR"
)

// Framework gives tests clients of the environment.
type Framework struct {
	Config     *rest.Config
	Kube       kubernetes.Interface
	Dynamic    dynamic.Interface
	Kafkaplane versioned.Interface
	*Applier
	// Simulated is true when the tests run on our control plane and simulated nodes (not an
	// existing cluster): process pods and fault injection are available.
	Simulated bool
	// Dir is the environment's directory (process pods' files under Dir/pods), when simulated.
	Dir string
}

var current *Framework

// Main is the TestMain of an integration test package. It reuses the wrapper's environment,
// or an existing cluster, or starts its own environment for the package.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	var cfg *rest.Config
	var err error
	f := &Framework{}
	switch {
	case os.Getenv(EnvExistingCluster) == "1":
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
	case os.Getenv(EnvKubeconfig) != "":
		cfg, err = clientcmd.BuildConfigFromFlags("", os.Getenv(EnvKubeconfig))
		f.Simulated, f.Dir = true, os.Getenv(EnvDir)
	default:
		dir, derr := os.MkdirTemp("", "kafkaplane-e2e-")
		if derr != nil {
			fmt.Fprintln(os.Stderr, derr)
			return 1
		}
		defer os.RemoveAll(dir)
		e, serr := env.Start(ctx, env.Options{Dir: dir, Log: os.Stderr})
		if serr != nil {
			fmt.Fprintf(os.Stderr, "starting the test environment: %v\n", serr)
			return 1
		}
		defer e.Stop()
		cfg, f.Simulated, f.Dir = e.Config, true, dir
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loading the cluster configuration: %v\n", err)
		return 1
	}
	cfg.QPS, cfg.Burst = 500, 1000
	if err := f.init(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	root, err := build.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := f.InstallCRDs(ctx, filepath.Join(root, "deploy", "crds")); err != nil {
		fmt.Fprintf(os.Stderr, "installing CRDs: %v\n", err)
		return 1
	}
	current = f
	return m.Run()
}

func (f *Framework) init(cfg *rest.Config) error {
	var err error
	f.Config = cfg
	if f.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	if f.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return fmt.Errorf("creating dynamic client: %w", err)
	}
	if f.Kafkaplane, err = versioned.NewForConfig(cfg); err != nil {
		return fmt.Errorf("creating kafkaplane client: %w", err)
	}
	f.Applier = NewApplier(f.Dynamic, f.Kube.Discovery())
	return nil
}

// Get returns the framework of the running test binary.
func Get(t testing.TB) *Framework {
	t.Helper()
	if current == nil {
		t.Fatal("framework not initialised: call framework.Main from TestMain")
	}
	return current
}

// RequireSimulated skips a test that needs process pods or fault injection on a real cluster.
func (f *Framework) RequireSimulated(t testing.TB) {
	t.Helper()
	if !f.Simulated {
		t.Skip("needs the simulated environment")
	}
}

var nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// Namespace creates a namespace for the test, deleted when the test ends. When the test fails,
// the namespace's Events, pods and process logs are printed first.
func (f *Framework) Namespace(t testing.TB) string {
	t.Helper()
	base := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = base[:40]
	}
	name := strings.Trim(base, "-") + "-" + rand.String(5)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kafkaplane.io/e2e": "true"}}}
	if _, err := f.Kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			f.Dump(t, name)
		}
		err := f.Kube.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Logf("deleting namespace %s: %v", name, err)
		}
	})
	return name
}

// Dump prints a namespace's Events, pods and the logs of its process pods.
func (f *Framework) Dump(t testing.TB, ns string) {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	fmt.Fprintf(&b, "---- namespace %s at failure ----\n", ns)
	if evs, err := f.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, e := range evs.Items {
			fmt.Fprintf(&b, "event %s %s/%s %s: %s\n", e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
		}
	}
	if pods, err := f.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			fmt.Fprintf(&b, "pod %s phase=%s node=%s ip=%s conditions=%v\n", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP, p.Status.Conditions)
			if f.Dir != "" {
				log := filepath.Join(f.Dir, "logs", ns+"_"+p.Name+".log")
				if data, err := os.ReadFile(log); err == nil {
					fmt.Fprintf(&b, "---- log of %s (%s), last 4 KiB ----\n%s\n", p.Name, log, tail(data, 4096))
				}
			}
		}
	}
	t.Log(b.String())
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Eventually polls cond every 100ms until it returns true, failing the test with what and the
// last error after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
