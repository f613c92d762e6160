package clusters

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// TestListenerCertFromCertManager: a TLS listener with configuration.certManager gets a
// cert-manager Certificate for its bootstrap and every broker's host, owned by the Kafka; until
// cert-manager has written its Secret, Ready=False with cert-manager's reason (a missing Issuer,
// an Issuer not ready, the Certificate's own) and no node is created; once the Secret is there,
// the brokers serve it as a brokerCertChainAndKey certificate. A Certificate of that name that
// is not the Kafka's is left alone.
func TestListenerCertFromCertManager(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil
	k.Spec.Kafka.Listeners = append(k.Spec.Kafka.Listeners, v1beta1.GenericKafkaListener{Name: "external", Port: 9094, Type: v1beta1.ListenerInternal, TLS: true,
		Configuration: &v1beta1.ListenerConfiguration{CertManager: &v1beta1.ListenerCertManager{
			IssuerRef: v1beta1.CertManagerIssuerRef{Name: "ca-issuer"}, Duration: &metav1.Duration{Duration: 720 * time.Hour}}}})
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 2, v1beta1.RoleBroker))
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		certificateGVR: "CertificateList", issuerGVR: "IssuerList"})
	e.rec.CertManager = dyn
	ctx := context.Background()
	const name = "c-kafka-external-certificate"
	wantWaiting := func(reason, msg string) {
		t.Helper()
		e.reconcile(t)
		c := findReady(e.kafka(t))
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != reason || !strings.Contains(c.Message, msg) {
			t.Fatalf("condition %+v, want %s with %q", c, reason, msg)
		}
		if n := len(e.pods(t)); n != 0 {
			t.Fatalf("%d pods created before the listener's certificate was issued", n)
		}
	}

	wantWaiting("IssuerNotFound", "listener external: cert-manager has not issued Certificate "+name+" yet: Issuer ca-issuer not found")
	cert, err := dyn.Resource(certificateGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("no Certificate: %v", err)
	}
	dns, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	for _, h := range []string{"c-kafka-bootstrap.ns.svc", "c-brokers-0.c-kafka-brokers.ns.svc", "c-brokers-1.c-kafka-brokers.ns.svc"} {
		if !slices.Contains(dns, h) {
			t.Errorf("Certificate dnsNames %v lack %s", dns, h)
		}
	}
	if s, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName"); s != name {
		t.Errorf("secretName %q", s)
	}
	if d, _, _ := unstructured.NestedString(cert.Object, "spec", "duration"); d != "720h0m0s" {
		t.Errorf("duration %q", d)
	}
	if iss, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name"); iss != "ca-issuer" {
		t.Errorf("issuerRef %q", iss)
	}
	if refs := cert.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != k.UID {
		t.Errorf("owner references %+v", refs)
	}

	issuer := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
		"metadata": map[string]any{"name": "ca-issuer", "namespace": ns},
		"status":   map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "False", "reason": "ErrGetKeyPair", "message": "Error getting keypair for CA issuer: secret \"ca\" not found"}}}}}
	if _, err := dyn.Resource(issuerGVR).Namespace(ns).Create(ctx, issuer, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantWaiting("ErrGetKeyPair", `Issuer ca-issuer is not ready: Error getting keypair for CA issuer: secret "ca" not found`)

	_ = unstructured.SetNestedSlice(issuer.Object, []any{map[string]any{"type": "Ready", "status": "True", "reason": "KeyPairVerified"}}, "status", "conditions")
	if _, err := dyn.Resource(issuerGVR).Namespace(ns).Update(ctx, issuer, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cert, _ = dyn.Resource(certificateGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	_ = unstructured.SetNestedSlice(cert.Object, []any{map[string]any{"type": "Ready", "status": "False", "reason": "DoesNotExist", "message": "Issuing certificate as Secret does not exist"}}, "status", "conditions")
	if _, err := dyn.Resource(certificateGVR).Namespace(ns).Update(ctx, cert, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantWaiting("DoesNotExist", "Issuing certificate as Secret does not exist")

	// cert-manager writes the Secret.
	ca, err := pki.NewCA("issuer-ca", 365*24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, leaf := externalCert(t, ca, "c-kafka-bootstrap.ns.svc", 30*24*time.Hour, dns...)
	if _, err := e.kube.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM, "ca.crt": pki.EncodeCerts(ca.Cert)}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cert, _ = dyn.Resource(certificateGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	_ = unstructured.SetNestedSlice(cert.Object, []any{map[string]any{"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired"}}, "status", "conditions")
	if _, err := dyn.Resource(certificateGVR).Namespace(ns).Update(ctx, cert, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t)
	brokers := e.nodeNames(t, "brokers")
	if len(brokers) != 2 {
		t.Fatalf("brokers %v once the certificate is issued", brokers)
	}
	for _, b := range brokers {
		chain, err := pki.DecodeCerts(e.secretData(t, b)["listener-external-9094.pem"])
		if err != nil || !chain[0].Equal(leaf) {
			t.Fatalf("%s: keystore is not cert-manager's certificate (%v)", b, err)
		}
		cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, b, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if props := cm.Data[nodes.ServerPropertiesKey]; !strings.Contains(props, "listener.name.external-9094.ssl.keystore.location=/opt/kafka/certs/listener-external-9094.pem\n") {
			t.Fatalf("%s: the listener's keystore location is not its own certificate's in\n%s", b, props)
		}
	}
	for _, c := range e.kafka(t).Status.Conditions {
		if c.Type == v1beta1.ConditionWarning {
			t.Fatalf("warning with a certificate for every advertised host: %+v", c)
		}
	}

	// cert-manager cannot renew it (its issuer gone): the brokers keep what they serve, and the
	// Kafka warns with cert-manager's reason.
	cert, _ = dyn.Resource(certificateGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	_ = unstructured.SetNestedSlice(cert.Object, []any{map[string]any{"type": "Ready", "status": "False", "reason": "IncorrectIssuer",
		"message": "Issuing certificate as Secret was previously issued by Issuer.cert-manager.io/other"}}, "status", "conditions")
	if _, err := dyn.Resource(certificateGVR).Namespace(ns).Update(ctx, cert, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t)
	var warning *metav1.Condition
	for _, c := range e.kafka(t).Status.Conditions {
		if c.Type == v1beta1.ConditionWarning {
			warning = &c
		}
	}
	if warning == nil || warning.Reason != ReasonCertificateNotReady ||
		!strings.Contains(warning.Message, "listener external: cert-manager's Certificate "+name+" is not ready (IncorrectIssuer: Issuing certificate as Secret was previously issued by Issuer.cert-manager.io/other)") {
		t.Fatalf("warning %+v while the Certificate is not ready", warning)
	}
	for _, b := range brokers {
		chain, err := pki.DecodeCerts(e.secretData(t, b)["listener-external-9094.pem"])
		if err != nil || !chain[0].Equal(leaf) {
			t.Fatalf("%s: keystore changed while the Certificate was not ready (%v)", b, err)
		}
	}

	// A Certificate of that name that is not the Kafka's.
	cert, _ = dyn.Resource(certificateGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	cert.SetOwnerReferences(nil)
	_ = unstructured.SetNestedField(cert.Object, "someone-elses", "spec", "secretName")
	if _, err := dyn.Resource(certificateGVR).Namespace(ns).Update(ctx, cert, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || c.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(c.Message, "is not this Kafka's") {
		t.Fatalf("condition %+v with a Certificate of another owner", c)
	}
	cert, _ = dyn.Resource(certificateGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if s, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName"); s != "someone-elses" {
		t.Fatalf("a Certificate the Kafka does not own was changed (secretName %q)", s)
	}
}
