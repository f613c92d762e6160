package integration

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

// built are the operator binaries of this test process.
var built struct {
	once sync.Once
	bins map[string]string
	err  error
}

// localOperators builds the three operators into a test directory and writes an admin
// kubeconfig beside them, for running the binaries as local processes: it returns the
// directory, the binaries by name and the kubeconfig's path.
//
// The binaries are built once per test process (the sources do not change during a run): every
// test used to build them again, a few seconds of linking each, dozens of times per make test.
func localOperators(t *testing.T, f *framework.Framework) (string, map[string]string, string) {
	t.Helper()
	dir := t.TempDir()
	built.once.Do(func() {
		// Beside the environment's files when there are (removed with them).
		bdir := filepath.Join(f.Dir, "test-bin")
		if f.Dir == "" {
			bdir, built.err = os.MkdirTemp("", "kafkaplane-test-bin-")
		}
		if built.err == nil {
			built.bins, built.err = build.Operators(bdir, io.Discard)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	bins := maps.Clone(built.bins)
	kc := filepath.Join(dir, "kubeconfig")
	writeAdminKubeconfig(t, f, kc)
	return dir, bins, kc
}

// writeAdminKubeconfig writes the framework's credentials as a kubeconfig file.
func writeAdminKubeconfig(t *testing.T, f *framework.Framework, path string) {
	t.Helper()
	writeKubeconfig(t, f.Config, path)
}

// writeKubeconfig writes a rest config's server and credentials as a kubeconfig file.
func writeKubeconfig(t *testing.T, rc *rest.Config, path string) {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.CAData, InsecureSkipTLSVerify: rc.Insecure}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: rc.BearerToken, ClientCertificateData: rc.CertData, ClientKeyData: rc.KeyData}
	cfg.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "c"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}
