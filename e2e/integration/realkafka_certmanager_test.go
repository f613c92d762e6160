package integration

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

var (
	cmCertificates = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	cmIssuers      = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "issuers"}
)

// startCertManager installs cert-manager's CRDs and runs its controller (built from the pinned
// module, CA and self-signed issuers) against the harness's API server. On an existing cluster,
// cert-manager is expected to be installed already.
func startCertManager(t *testing.T, f *framework.Framework) {
	t.Helper()
	if !f.Simulated {
		if _, err := f.Dynamic.Resource(cmCertificates).List(t.Context(), metav1.ListOptions{Limit: 1}); err != nil {
			t.Skipf("cert-manager is not installed in this cluster: %v", err)
		}
		return
	}
	start := time.Now()
	crds, err := build.CertManagerCRDs()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.InstallCRDs(t.Context(), crds); err != nil {
		t.Fatal(err)
	}
	bin, err := build.CertManager(os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	writeAdminKubeconfig(t, f, kc)
	p, err := localcluster.StartProcess("cert-manager", dir, nil, bin, "--kubeconfig="+kc, "-v=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cert-manager's controller running (CRDs installed and started in %s, build included)", time.Since(start).Round(time.Second))
	t.Cleanup(func() {
		_ = p.Stop(10 * time.Second)
		if t.Failed() {
			b, _ := os.ReadFile(p.LogFile)
			t.Logf("cert-manager log:\n%s", tail(string(b), 8000))
		}
	})
}

// certManagerIssuer is a cert-manager CA Issuer "kafka-issuer" in ns, signing with a CA of the
// test's own (its Secret kafka-issuer-ca); it returns that CA.
func certManagerIssuer(t *testing.T, f *framework.Framework, ns string) *x509.Certificate {
	t.Helper()
	ca, err := pki.NewCA("kafka-issuer-ca", 24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.EncodeKey(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "kafka-issuer-ca"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": pki.EncodeCerts(ca.Cert), "tls.key": key}}
	if _, err := f.Kube.CoreV1().Secrets(ns).Create(t.Context(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	issuer := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
		"metadata": map[string]any{"name": "kafka-issuer"}, "spec": map[string]any{"ca": map[string]any{"secretName": "kafka-issuer-ca"}}}}
	if _, err := f.Dynamic.Resource(cmIssuers).Namespace(ns).Create(t.Context(), issuer, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return ca.Cert
}

// certManagerListener: the "managed" listener's certificate comes from cert-manager (a CA
// Issuer): every broker presents it, verified against the issuer's CA for the broker's own name;
// then a renewal is forced (as `cmctl renew` does: the Certificate's Issuing condition set to
// True) while app produces over that listener: cert-manager issues a new certificate with a new
// key, and every broker presents it without a restart, no send failing.
func certManagerListener(t *testing.T, f *framework.Framework, ns string, issuerCA *x509.Certificate) {
	ctx := t.Context()
	pool := x509.NewCertPool()
	pool.AddCert(issuerCA)
	cert := userCertOf(t, f, ns, "app")
	brokers := map[string]corev1.Pod{}
	for name, p := range nodePods(t, f, ns) {
		if strings.Contains(name, "-brokers-") {
			brokers[name] = p
		}
	}
	served := func() (map[string]*x509.Certificate, error) {
		out := map[string]*x509.Certificate{}
		for name := range brokers {
			host := name + ".c-kafka-brokers." + ns + ".svc"
			c, err := servedOn(ctx, f, host, 9095, cert)
			if err != nil {
				return nil, err
			}
			if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
				return nil, fmt.Errorf("%s: the certificate on 9095 does not verify for its host against the issuer's CA: %w", name, err)
			}
			out[name] = c
		}
		return out, nil
	}
	var first map[string]*x509.Certificate
	framework.Eventually(t, 2*time.Minute, "every broker to present cert-manager's certificate on the managed listener", func() (bool, error) {
		var err error
		first, err = served()
		return err == nil, err
	})
	const name = "c-kafka-managed-certificate"
	crt, err := f.Dynamic.Resource(cmCertificates).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dns, _, _ := unstructured.NestedStringSlice(crt.Object, "spec", "dnsNames")
	t.Logf("Certificate %s: dnsNames %v", name, dns)

	bootstrap := "c-kafka-bootstrap." + ns + ".svc:9095"
	producer, err := tlsClient(f, bootstrap, pool, cert, kgo.DefaultProduceTopic("rolling"), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	tr := startTrafficWith(producer)
	framework.Eventually(t, time.Minute, "the producer's first records on the managed listener", func() (bool, error) { return tr.acked() > 0, nil })

	// cmctl renew: the Issuing condition, on the status.
	conds, _, _ := unstructured.NestedSlice(crt.Object, "status", "conditions")
	conds = append(conds, map[string]any{"type": "Issuing", "status": "True", "reason": "ManuallyTriggered",
		"message": "Certificate re-issuance manually triggered", "observedGeneration": crt.GetGeneration(),
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339)})
	if err := unstructured.SetNestedSlice(crt.Object, conds, "status", "conditions"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Dynamic.Resource(cmCertificates).Namespace(ns).UpdateStatus(ctx, crt, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	renewed := time.Now()
	framework.Eventually(t, 5*time.Minute, "every broker to present the renewed certificate on the managed listener", func() (bool, error) {
		now, err := served()
		if err != nil {
			return false, err
		}
		for name, c := range now {
			if c.Equal(first[name]) {
				return false, fmt.Errorf("%s still presents serial %x", name, c.SerialNumber)
			}
		}
		return true, nil
	})
	t.Logf("cert-manager renewal: every broker presented the new certificate %s after the renewal was triggered", time.Since(renewed).Round(100*time.Millisecond))
	time.Sleep(2 * time.Second)
	tr.check(t) // sends over the listener meanwhile: none may fail
	sameBrokers(t, f, ns, brokers, "the cert-manager renewal")
	waitKafkaReady(t, f, ns, "c", 3*time.Minute)

	// The issuer goes missing (the listener names one that does not exist): cert-manager cannot
	// issue, the brokers keep serving what they have, and the Kafka warns with cert-manager's
	// reason; named again, the warning goes.
	current, err := served()
	if err != nil {
		t.Fatal(err)
	}
	setIssuer := func(issuer string) {
		t.Helper()
		patch := fmt.Sprintf(`[{"op":"replace","path":"/spec/kafka/listeners/2/configuration/certManager/issuerRef/name","value":%q}]`, issuer)
		if _, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Patch(ctx, "c", types.JSONPatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	warning := func() (string, bool) {
		k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
		if err != nil {
			return err.Error(), false
		}
		for _, c := range k.Status.Conditions {
			if c.Type == "Warning" && c.Reason == "CertificateNotReady" {
				return c.Message, true
			}
		}
		return "", false
	}
	setIssuer("no-such-issuer")
	var msg string
	framework.Eventually(t, 2*time.Minute, "the Kafka to warn that cert-manager cannot issue the managed listener's certificate", func() (bool, error) {
		var ok bool
		msg, ok = warning()
		return ok, nil
	})
	t.Logf("with a missing issuer: %s", msg)
	now2, err := served()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range now2 {
		if !c.Equal(current[name]) {
			t.Fatalf("%s changed its certificate while the issuer was missing", name)
		}
	}
	setIssuer("kafka-issuer")
	framework.Eventually(t, 2*time.Minute, "the warning to go once the issuer is named again", func() (bool, error) {
		_, ok := warning()
		return !ok, nil
	})
	sameBrokers(t, f, ns, brokers, "the missing issuer")
	waitKafkaReady(t, f, ns, "c", 3*time.Minute)
}
