package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// externalListenerSecret is the Secret of the example cluster's "external" listener
// (configuration.brokerCertChainAndKey): a server certificate from a CA of the test's own, not
// the cluster CA, for the names a client of the listener uses (the bootstrap service and each
// broker's name) — what a user brings from their PKI. It returns that CA.
func externalListenerSecret(t *testing.T, f *framework.Framework, ns string) *x509.Certificate {
	t.Helper()
	ca, err := pki.NewCA("users-own-ca", 24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(pki.Leaf{CommonName: "kafka-external", Server: true, Validity: 24 * time.Hour,
		DNSNames: []string{"c-kafka-bootstrap." + ns + ".svc", "*.c-kafka-brokers." + ns + ".svc"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.EncodeKey(leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-external-cert"},
		Data: map[string][]byte{"tls.crt": append(pki.EncodeCerts(leaf.Cert), pki.EncodeCerts(ca.Cert)...), "tls.key": key}}
	if _, err := f.Kube.CoreV1().Secrets(ns).Create(t.Context(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return ca.Cert
}

// listenerServesOwnCert: every broker presents the user's certificate on the "external" listener
// (and the cluster CA's on the others); a client trusting only the user's CA produces and
// consumes there with app's certificate (my-user lost its Write ACL in the first step); the
// Kafka's status publishes the chain.
func listenerServesOwnCert(t *testing.T, f *framework.Framework, ns string, userCA *x509.Certificate) {
	ctx := t.Context()
	pool := x509.NewCertPool()
	pool.AddCert(userCA)
	clusterPool, _, err := clusterCATrust(ctx, f, ns, "c", false)
	if err != nil {
		t.Fatal(err)
	}
	cert := userCertOf(t, f, ns, "app")
	for name := range nodePods(t, f, ns) {
		if !strings.Contains(name, "-brokers-") {
			continue
		}
		host := name + ".c-kafka-brokers." + ns + ".svc"
		for _, c := range []struct {
			port  int
			trust *x509.CertPool
			want  string
		}{{9094, pool, "kafka-external"}, {9093, clusterPool, "c-kafka"}} {
			conn, err := (&tls.Dialer{NetDialer: f.Dialer(), Config: &tls.Config{RootCAs: c.trust, ServerName: host, MinVersion: tls.VersionTLS12,
				Certificates: []tls.Certificate{cert}}}).DialContext(ctx, "tcp", fmt.Sprintf("%s:%d", host, c.port))
			if err != nil {
				t.Fatalf("%s:%d: %v", host, c.port, err)
			}
			got := conn.(*tls.Conn).ConnectionState().PeerCertificates[0].Subject.CommonName
			conn.Close()
			if got != c.want {
				t.Fatalf("%s:%d presents %q, want %q", host, c.port, got, c.want)
			}
		}
	}
	bootstrap := "c-kafka-bootstrap." + ns + ".svc:9094"
	// A new producer per attempt: one refused at InitProducerId (app's ACLs not in Kafka yet)
	// stays failed.
	framework.Eventually(t, 2*time.Minute, "app to produce to rolling on the external listener", func() (bool, error) {
		producer, err := tlsClient(f, bootstrap, pool, cert, kgo.DefaultProduceTopic("rolling"), kgo.RequiredAcks(kgo.AllISRAcks()))
		if err != nil {
			return false, err
		}
		defer producer.Close()
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		err = producer.ProduceSync(pctx, kgo.StringRecord("over the user's certificate")).FirstErr()
		return err == nil, err
	})
	consumer, err := tlsClient(f, bootstrap, pool, cert, kgo.ConsumeTopics("rolling"), kgo.ConsumerGroup("app-external"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	found := false
	for !found {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		fetches := consumer.PollFetches(cctx)
		cancel()
		if err := fetches.Err0(); err != nil {
			t.Fatalf("consuming on the external listener: %v", err)
		}
		for _, r := range fetches.Records() {
			found = found || string(r.Value) == "over the user's certificate"
		}
	}
	k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range k.Status.Listeners {
		if l.Name == "external" && (len(l.Certificates) != 2 || l.Certificates[1] != string(pki.EncodeCerts(userCA))) {
			t.Fatalf("status of the external listener: %d certificates, want the chain (leaf, user's CA)", len(l.Certificates))
		}
	}
}
