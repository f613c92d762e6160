package clusters

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// externalCert is a server certificate from a CA of the user's (not the cluster CA), its key
// as SEC 1 PEM ("EC PRIVATE KEY", which Kafka's PEM keystore does not read).
func externalCert(t *testing.T, ca *pki.KeyPair, cn string, notAfter time.Duration, names ...string) (certPEM, keyPEM []byte, leaf *x509.Certificate) {
	t.Helper()
	if len(names) == 0 {
		names = []string{"kafka.example.com", "*.kafka.example.com"}
	}
	kp, err := ca.Issue(pki.Leaf{CommonName: cn, DNSNames: names, Server: true, Validity: notAfter}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(kp.Key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return append(pki.EncodeCerts(kp.Cert), pki.EncodeCerts(ca.Cert)...), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), kp.Cert
}

// TestListenerCertFromSecret: a TLS listener with configuration.brokerCertChainAndKey serves the
// user's certificate: each broker's certificate Secret gets Kafka's PEM keystore of it (the key
// re-encoded as PKCS#8) and the listener's keystore.location names it; the status publishes the
// chain. A missing Secret, garbage, a key of another certificate or an expired certificate is
// Ready=False with the reason, and nothing the brokers have is changed; a new certificate in the
// Secret reaches the brokers' Secrets (and so rolls them).
func TestListenerCertFromSecret(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil
	k.Spec.Kafka.Listeners = append(k.Spec.Kafka.Listeners, v1beta1.GenericKafkaListener{Name: "external", Port: 9094, Type: v1beta1.ListenerInternal, TLS: true,
		Configuration: &v1beta1.ListenerConfiguration{BrokerCertChainAndKey: &v1beta1.CertAndKeySecretSource{SecretName: "ext-cert", Certificate: "tls.crt", Key: "tls.key"}}})
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 2, v1beta1.RoleBroker))
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	e.rec.Metrics = m
	expiry := func() int64 {
		return int64(testutil.ToFloat64(m.CertificateExpiry.WithLabelValues(ns, "c", "ext-cert")))
	}
	ctx := context.Background()
	const file = "listener-external-9094.pem"
	wantInvalid := func(what, msg string) {
		t.Helper()
		e.reconcile(t)
		if c := findReady(e.kafka(t)); c == nil || c.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(c.Message, msg) {
			t.Fatalf("%s: condition %+v, want InvalidSpec with %q", what, c, msg)
		}
	}
	setSecret := func(data map[string][]byte) {
		t.Helper()
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ext-cert", Namespace: ns}, Data: data}
		if _, err := e.kube.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			if _, err := e.kube.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}

	wantInvalid("no Secret", "listener external: configuration.brokerCertChainAndKey: Secret ext-cert not found")
	if n := len(e.pods(t)); n != 0 {
		t.Fatalf("%d pods created without the listener's certificate", n)
	}
	setSecret(map[string][]byte{"tls.crt": []byte("not a certificate"), "tls.key": []byte("nor a key")})
	wantInvalid("garbage", "no certificate in the PEM data")

	ca, err := pki.NewCA("users-own-ca", 365*24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, leaf := externalCert(t, ca, "kafka.example.com", 30*24*time.Hour)
	otherCert, _, _ := externalCert(t, ca, "other", 30*24*time.Hour)
	setSecret(map[string][]byte{"tls.crt": otherCert, "tls.key": keyPEM})
	wantInvalid("another certificate's key", "the private key is not the key of the first certificate")
	setSecret(map[string][]byte{"tls.crt": certPEM})
	wantInvalid("no key", "no private key")

	setSecret(map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM})
	e.reconcile(t)
	brokers := e.nodeNames(t, "brokers")
	if len(brokers) != 2 {
		t.Fatalf("brokers %v", brokers)
	}
	var first []byte
	for _, b := range brokers {
		ks := e.secretData(t, b)[file]
		key, err := pki.DecodeKey(ks)
		if err != nil || !bytes.HasPrefix(ks, []byte("-----BEGIN PRIVATE KEY-----")) {
			t.Fatalf("%s: keystore does not start with a PKCS#8 key (%v): %.60q", b, err, ks)
		}
		chain, err := pki.DecodeCerts(ks)
		if err != nil || len(chain) != 2 || !chain[0].Equal(leaf) || !chain[1].Equal(ca.Cert) {
			t.Fatalf("%s: keystore chain %d certificates (%v)", b, len(chain), err)
		}
		if !key.Public().(*ecdsa.PublicKey).Equal(leaf.PublicKey) {
			t.Fatalf("%s: keystore key is not the certificate's", b)
		}
		cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, b, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		props := cm.Data[nodes.ServerPropertiesKey]
		if !strings.Contains(props, "listener.name.external-9094.ssl.keystore.location=/opt/kafka/certs/"+file+"\n") ||
			!strings.Contains(props, "listener.name.tls-9093.ssl.keystore.location=/opt/kafka/certs/node.pem\n") {
			t.Fatalf("%s: keystore locations in\n%s", b, props)
		}
		first = ks
	}
	if _, ok := e.secretData(t, e.nodeNames(t, "controllers")[0])[file]; ok {
		t.Error("a controller got the listener's keystore; it serves no user listener")
	}
	var status *v1beta1.ListenerStatus
	for i, l := range e.kafka(t).Status.Listeners {
		if l.Name == "external" {
			status = &e.kafka(t).Status.Listeners[i]
		}
	}
	if status == nil || len(status.Certificates) != 2 || status.Certificates[0] != string(pki.EncodeCerts(leaf)) {
		t.Fatalf("listener status %+v", status)
	}
	if got := expiry(); got != leaf.NotAfter.Unix() {
		t.Errorf("certificate expiry gauge %d, want %d", got, leaf.NotAfter.Unix())
	}

	// Broken again: the brokers keep what they have.
	setSecret(map[string][]byte{"tls.crt": certPEM, "tls.key": []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")})
	wantInvalid("a corrupt key", "parsing the private key")
	expired, expiredKey, _ := externalCert(t, ca, "kafka.example.com", time.Millisecond)
	time.Sleep(10 * time.Millisecond)
	setSecret(map[string][]byte{"tls.crt": expired, "tls.key": expiredKey})
	wantInvalid("an expired certificate", "expired at")
	for _, b := range brokers {
		if !bytes.Equal(e.secretData(t, b)[file], first) {
			t.Fatalf("%s: keystore changed while the Secret was invalid", b)
		}
	}

	// Renewed: the brokers' Secrets follow.
	renewed, renewedKey, renewedLeaf := externalCert(t, ca, "kafka.example.com", 60*24*time.Hour)
	setSecret(map[string][]byte{"tls.crt": renewed, "tls.key": renewedKey})
	e.reconcile(t)
	for _, b := range brokers {
		chain, err := pki.DecodeCerts(e.secretData(t, b)[file])
		if err != nil || !chain[0].Equal(renewedLeaf) {
			t.Fatalf("%s: keystore not renewed (%v)", b, err)
		}
	}
	if got := expiry(); got != renewedLeaf.NotAfter.Unix() {
		t.Errorf("certificate expiry gauge %d after the renewal, want %d", got, renewedLeaf.NotAfter.Unix())
	}

	// Its names are kafka.example.com's, not the hosts the brokers advertise: a warning, and the
	// certificate is still served (clients may connect by other names, or not verify them).
	warning := func() *metav1.Condition {
		for _, c := range e.kafka(t).Status.Conditions {
			if c.Type == v1beta1.ConditionWarning {
				return &c
			}
		}
		return nil
	}
	want := "listener external: the certificate in Secret ext-cert does not cover c-brokers-0.c-kafka-brokers.ns.svc, c-brokers-1.c-kafka-brokers.ns.svc, which the brokers advertise"
	if w := warning(); w == nil || w.Reason != v1beta1.ReasonCertificateNames || !strings.Contains(w.Message, want) {
		t.Fatalf("warning %+v, want %s: %q", w, v1beta1.ReasonCertificateNames, want)
	}
	covering, coveringKey, _ := externalCert(t, ca, "kafka.example.com", 60*24*time.Hour, "*.c-kafka-brokers.ns.svc", "c-kafka-bootstrap.ns.svc")
	setSecret(map[string][]byte{"tls.crt": covering, "tls.key": coveringKey})
	e.reconcile(t)
	if w := warning(); w != nil {
		t.Fatalf("warning with a certificate that covers the advertised hosts: %+v", w)
	}
}
