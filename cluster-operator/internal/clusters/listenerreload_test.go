package clusters

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// fakeKeystores is a cluster whose brokers serve, per address, the certificate they loaded; a
// reload makes a broker serve what its file holds once the kubelet has "synced" it.
type fakeKeystores struct {
	mu      sync.Mutex
	serving map[string][]byte // addr → DER
	file    []byte            // what the kubelet has written, once synced
	synced  bool
	probes  int
	reloads []string
}

func (f *fakeKeystores) Served(_ context.Context, _ *v1beta1.Kafka, addr string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.probes++
	if f.serving[addr] == nil {
		// A broker that started serves the file it read at start.
		f.serving[addr] = f.file
	}
	return f.serving[addr], nil
}

func (f *fakeKeystores) Reload(_ context.Context, k *v1beta1.Kafka, id int32, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloads = append(f.reloads, fmt.Sprintf("%d %s", id, key))
	if f.synced {
		for addr := range f.serving {
			if strings.HasPrefix(addr, fmt.Sprintf("c-brokers-%d.", id)) {
				f.serving[addr] = f.file
			}
		}
	}
	return nil
}

// TestListenerCertRenewalReloads: a renewed listener certificate (same subject and names) does
// not change the brokers' revision, so nothing rolls; each broker is asked to reload its
// keystores until it serves the new one (the kubelet updates the file late), and the Kafka says
// so meanwhile; once served, nothing is asked again. A certificate with another subject rolls.
func TestListenerCertRenewalReloads(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil
	k.Spec.Kafka.Listeners = append(k.Spec.Kafka.Listeners, v1beta1.GenericKafkaListener{Name: "external", Port: 9094, Type: v1beta1.ListenerInternal, TLS: true,
		Configuration: &v1beta1.ListenerConfiguration{BrokerCertChainAndKey: &v1beta1.CertAndKeySecretSource{SecretName: "ext-cert", Certificate: "tls.crt", Key: "tls.key"}}})
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 2, v1beta1.RoleBroker))
	ks := &fakeKeystores{serving: map[string][]byte{}}
	e.rec.Keystores = ks
	ctx := context.Background()
	ca, err := pki.NewCA("users-own-ca", 365*24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	setCert := func(cn string) *x509.Certificate {
		t.Helper()
		certPEM, keyPEM, leaf := externalCert(t, ca, cn, 30*24*time.Hour)
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ext-cert", Namespace: ns}, Data: map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM}}
		if _, err := e.kube.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			if _, err := e.kube.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		return leaf
	}
	revisions := func() map[string]string {
		out := map[string]string{}
		for name, p := range e.pods(t) {
			if strings.Contains(name, "brokers") {
				out[name] = p.Annotations[nodes.AnnotationRevision]
			}
		}
		return out
	}
	first := setCert("kafka.example.com")
	ks.file, ks.synced = first.Raw, true
	e.reconcile(t)
	e.markReady(t)
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("Ready with the first certificate: %+v", c)
	}
	if len(ks.reloads) != 0 || ks.probes != 2 {
		t.Fatalf("first certificate: %d probes, reloads %v; want 2 probes (one per broker), no reload", ks.probes, ks.reloads)
	}
	before := revisions()
	e.reconcile(t)
	if ks.probes != 2 {
		t.Fatalf("%d probes after a reconcile with nothing changed, want still 2", ks.probes)
	}

	// Renewed; the kubelet has not updated the files yet.
	renewed := setCert("kafka.example.com")
	ks.file, ks.synced = renewed.Raw, false
	e.reconcile(t)
	if after := revisions(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a renewal changed the brokers' revisions (a roll): %v → %v", before, after)
	}
	if len(ks.reloads) != 2 || ks.reloads[0] != "0 listener.name.external-9094.ssl.keystore.location" {
		t.Fatalf("reloads %v, want one per broker of the external listener's keystore", ks.reloads)
	}
	c := findReady(e.kafka(t))
	if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "listener certificates not served yet (node/listener): 0/external, 1/external") {
		t.Fatalf("while the brokers serve the earlier certificate: %+v", c)
	}
	ks.synced = true
	e.reconcile(t) // asks again; now it reloads
	e.reconcile(t) // sees it served
	if c := findReady(e.kafka(t)); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("Ready once the renewed certificate is served: %+v", c)
	}
	for addr, der := range ks.serving {
		if string(der) != string(renewed.Raw) {
			t.Fatalf("%s serves the earlier certificate", addr)
		}
	}
	n, probes := len(ks.reloads), ks.probes
	e.reconcile(t)
	if len(ks.reloads) != n || ks.probes != probes {
		t.Fatalf("asked again once served: reloads %d → %d, probes %d → %d", n, len(ks.reloads), probes, ks.probes)
	}
	if fmt.Sprint(revisions()) != fmt.Sprint(before) {
		t.Fatal("revisions changed after the reload")
	}

	// Another subject: Kafka would refuse it at runtime; the brokers roll.
	setCert("kafka-2.example.com")
	e.reconcile(t)
	// The roll is decided (the fake checker lets no node restart).
	if c := findReady(e.kafka(t)); c == nil || !strings.Contains(c.Message, "nodes to restart: c-brokers-0, c-brokers-1") {
		t.Fatalf("a certificate of another subject does not roll the brokers: %+v", c)
	}
}

// TestServedMemoForgetsOneClusterOnly: forgetting the pods a cluster no longer has keeps what
// was seen of other clusters' brokers (one memo serves every cluster: otherwise each reconcile
// of one cluster would have every other cluster's brokers probed again).
func TestServedMemoForgetsOneClusterOnly(t *testing.T) {
	var m servedMemo
	a := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a-brokers-0", UID: "uid-a"}}
	b := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "b-brokers-0", UID: "uid-b"}}
	sum := [32]byte{1}
	m.record(memoKey("ns/a", a, "f"), sum)
	m.record(memoKey("ns/b", b, "f"), sum)
	m.forget("ns/a", map[string]bool{"uid-a": true})
	if !m.seen(memoKey("ns/a", a, "f"), sum) || !m.seen(memoKey("ns/b", b, "f"), sum) {
		t.Fatal("a live pod's entry was dropped")
	}
	m.forget("ns/a", map[string]bool{})
	if m.seen(memoKey("ns/a", a, "f"), sum) {
		t.Fatal("the entry of a pod cluster a no longer has was kept")
	}
	if !m.seen(memoKey("ns/b", b, "f"), sum) {
		t.Fatal("forgetting cluster a's pods dropped cluster b's")
	}
}
