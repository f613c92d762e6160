package chaos_test

import (
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/chaos"
	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

// TestAPIServerRestartSlice is the API-server scenarios' fixed-seed slice (kfake, its own control
// plane: the shared one must not go down under other tests): the topics and users operations
// while the kube-apiserver is SIGKILLed and restarted on the same etcd at the points the seed
// picks. The operators' watches end and their writes are refused meanwhile; the final state
// must be exact all the same.
func TestAPIServerRestartSlice(t *testing.T) {
	if os.Getenv(framework.EnvExistingCluster) == "1" {
		t.Skip("restarts its own API server")
	}
	dir := t.TempDir()
	e, err := env.Start(t.Context(), env.Options{Dir: dir, NoRealKafka: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	root, err := build.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if err := framework.NewApplier(e.Dynamic, e.Kube.Discovery()).InstallCRDs(t.Context(), filepath.Join(root, "deploy", "crds")); err != nil {
		t.Fatal(err)
	}
	kp, err := versioned.NewForConfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	cenv := chaos.Env{KP: kp, Kube: e.Kube, Kubeconfig: e.Cluster.Kubeconfig, Binary: e.Binaries["topic-operator"],
		UserBinary: e.Binaries["user-operator"], LogDir: t.TempDir(), RestartAPIServer: e.Cluster.RestartAPIServer}
	for _, sc := range []struct {
		name string
		run  func(ns string) (chaos.Result, error)
	}{
		{"topics", func(ns string) (chaos.Result, error) { return chaos.Topics(t.Context(), cenv, ns, 3, 90) }},
		{"users", func(ns string) (chaos.Result, error) { return chaos.Users(t.Context(), cenv, ns, 3, 30) }},
	} {
		t.Run(sc.name, func(t *testing.T) {
			ns := "chaos-apiserver-" + sc.name
			if _, err := e.Kube.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			r, err := sc.run(ns)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r)
			for _, p := range r.Problems() {
				t.Error(p)
			}
			if len(r.Problems()) > 0 {
				t.Log(chaos.LogReport(cenv.LogDir, chaos.Mentioned(r.Problems())))
			}
		})
	}
}
