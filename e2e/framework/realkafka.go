package framework

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// RealKafkaNamespaceLabel is kafkapods.NamespaceLabel (the harness's label that makes a
// namespace's apache/kafka pods run as real Kafka), repeated to keep this package light.
const RealKafkaNamespaceLabel = "sim.kafkaplane.io/real-kafka"

// DNSAddr is the cluster DNS server's address (host:port), or "" when the environment has no
// pod network (Kafka pods are then simulated).
func (f *Framework) DNSAddr() string {
	if f.Dir == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(f.Dir, "dns"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Resolver resolves cluster names through the cluster DNS, for clients in the test process.
func (f *Framework) Resolver() *net.Resolver {
	addr := f.DNSAddr()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// Dialer dials host:port with cluster names resolved by the cluster DNS.
func (f *Framework) Dialer() *net.Dialer {
	return &net.Dialer{Resolver: f.Resolver()}
}

// Podinit is the harness's podinit binary, or "".
func (f *Framework) Podinit() string {
	p := filepath.Join(f.Dir, "bin", "podinit")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// RealKafkaNamespace is Namespace with the label that makes its apache/kafka pods run as real
// Kafka JVMs. It skips the test where the environment cannot run them (an existing cluster
// runs them anyway: there every pod is real).
func (f *Framework) RealKafkaNamespace(t testing.TB) string {
	t.Helper()
	if f.Simulated && (f.DNSAddr() == "" || f.Podinit() == "") {
		t.Skip("the environment has no pod network and cluster DNS (needs root, iproute2 and a JDK)")
	}
	ns := f.Namespace(t)
	patch := []byte(`{"metadata":{"labels":{"` + RealKafkaNamespaceLabel + `":"true"}}}`)
	if _, err := f.Kube.CoreV1().Namespaces().Patch(context.Background(), ns, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	return ns
}
