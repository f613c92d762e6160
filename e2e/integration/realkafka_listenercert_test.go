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
	"github.com/kafkaplane/kafkaplane/e2e/kafkapods"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// externalListenerSecret is the Secret of the example cluster's "external" listener
// (configuration.brokerCertChainAndKey): a server certificate from a CA of the test's own, not
// the cluster CA, for the names a client of the listener uses (the bootstrap service and each
// broker's name) — what a user brings from their PKI. It returns that CA.
func externalListenerSecret(t *testing.T, f *framework.Framework, ns string) *pki.KeyPair {
	t.Helper()
	ca, err := pki.NewCA("users-own-ca", 24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-external-cert"}, Data: externalListenerCert(t, ca, ns)}
	if _, err := f.Kube.CoreV1().Secrets(ns).Create(t.Context(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return ca
}

// externalListenerCert is a new certificate and key of the "external" listener from ca, always
// with the same subject and names (as a renewal has).
func externalListenerCert(t *testing.T, ca *pki.KeyPair, ns string) map[string][]byte {
	t.Helper()
	leaf, err := ca.Issue(pki.Leaf{CommonName: "kafka-external", Server: true, Validity: 24 * time.Hour,
		DNSNames: []string{"c-kafka-bootstrap." + ns + ".svc", "*.c-kafka-brokers." + ns + ".svc"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.EncodeKey(leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"tls.crt": append(pki.EncodeCerts(leaf.Cert), pki.EncodeCerts(ca.Cert)...), "tls.key": key}
}

// servedOn is the certificate the listener at host:port presents (not verified), to a client
// with cert.
func servedOn(ctx context.Context, f *framework.Framework, host string, port int, cert tls.Certificate) (*x509.Certificate, error) {
	conn, err := (&tls.Dialer{NetDialer: f.Dialer(), Config: &tls.Config{InsecureSkipVerify: true, ServerName: host, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{cert}}}).
		DialContext(ctx, "tcp", fmt.Sprintf("%s:%d", host, port))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
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
		producer, err := tlsClient(f, bootstrap, pool, cert, kgo.DefaultProduceTopic("rolling"), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(time.Minute))
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

// listenerCertRenewed: the external listener's certificate is renewed in its Secret (the same
// subject and names, a new key) while app produces over that listener with acks=all; every
// broker serves the new certificate without restarting (the same pods, no container restart):
// the operator asks each broker to reload its keystores once the kubelet has updated the file.
// Every record sent meanwhile is acknowledged; a new client that trusts only the user's CA
// produces afterwards; the Kafka is Ready again.
func listenerCertRenewed(t *testing.T, f *framework.Framework, ns string, ca *pki.KeyPair) {
	ctx := t.Context()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	cert := userCertOf(t, f, ns, "app")
	brokers := map[string]corev1.Pod{}
	for name, p := range nodePods(t, f, ns) {
		if strings.Contains(name, "-brokers-") {
			brokers[name] = p
		}
	}
	bootstrap := "c-kafka-bootstrap." + ns + ".svc:9094"
	producer, err := tlsClient(f, bootstrap, pool, cert, kgo.DefaultProduceTopic("rolling"), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	tr := startTrafficWith(producer)
	framework.Eventually(t, time.Minute, "the producer's first records", func() (bool, error) { return tr.acked() > 0, nil })

	data := externalListenerCert(t, ca, ns)
	chain, err := pki.DecodeCerts(data["tls.crt"])
	if err != nil {
		t.Fatal(err)
	}
	renewed := chain[0]
	s, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, "c-external-cert", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Data = data
	if _, err := f.Kube.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	framework.Eventually(t, 5*time.Minute, "every broker to serve the renewed certificate on the external listener", func() (bool, error) {
		for name := range brokers {
			c, err := servedOn(ctx, f, name+".c-kafka-brokers."+ns+".svc", 9094, cert)
			if err != nil {
				return false, err
			}
			if !c.Equal(renewed) {
				return false, fmt.Errorf("%s serves serial %x, the renewed certificate is %x", name, c.SerialNumber, renewed.SerialNumber)
			}
		}
		return true, nil
	})
	t.Logf("every broker served the renewed certificate %s after the Secret changed (the harness's kubelet updates Secret volumes every %s)",
		time.Since(changed).Round(100*time.Millisecond), kafkapods.VolumeSyncPeriod)
	time.Sleep(2 * time.Second)
	tr.check(t) // sends over the listener meanwhile: none may fail
	sameBrokers(t, f, ns, brokers, "the renewal")
	// A client that verifies the new certificate against the user's CA.
	fresh, err := tlsClient(f, bootstrap, pool, cert, kgo.DefaultProduceTopic("rolling"), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := fresh.ProduceSync(pctx, kgo.StringRecord("after the renewal")).FirstErr(); err != nil {
		t.Fatalf("a new client after the renewal: %v", err)
	}
	framework.Eventually(t, time.Minute, "the operator's ListenerCertificateReload event", func() (bool, error) {
		evs, err := f.Kube.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Reason == "ListenerCertificateReload" {
				return true, nil
			}
		}
		return false, nil
	})
	waitKafkaReady(t, f, ns, "c", 3*time.Minute)
}

// sameBrokers fails the test if a pod of before was replaced or its container restarted (during
// what).
func sameBrokers(t *testing.T, f *framework.Framework, ns string, before map[string]corev1.Pod, what string) {
	t.Helper()
	now := nodePods(t, f, ns)
	for name, b := range before {
		a, ok := now[name]
		if !ok || a.UID != b.UID {
			t.Fatalf("%s was replaced during %s", name, what)
		}
		if restarts(a) != restarts(b) {
			t.Fatalf("%s: its container restarted during %s (%d → %d)", name, what, restarts(b), restarts(a))
		}
	}
}
