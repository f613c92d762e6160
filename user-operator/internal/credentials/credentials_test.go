package credentials

import (
	"crypto"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

func testCA(t *testing.T, now time.Time) *ClientsCA {
	t.Helper()
	kp, err := pki.NewCA("clients-ca", 2*365*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	return &ClientsCA{KeyPair: kp, CertPEM: pki.EncodeCerts(kp.Cert), CertGeneration: 3, KeyGeneration: 1}
}

func TestTLSSecretContents(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ca := testCA(t, now)
	data, ann, err := TLS(ca, "alice", 30, now)
	if err != nil {
		t.Fatal(err)
	}
	if string(data[KeyCACert]) != string(ca.CertPEM) {
		t.Error("ca.crt is not the clients CA certificate")
	}
	certs, err := pki.DecodeCerts(data[KeyUserCert])
	if err != nil {
		t.Fatal(err)
	}
	cert := certs[0]
	if cert.Subject.String() != "CN=alice" {
		t.Errorf("subject = %q, want CN=alice", cert.Subject)
	}
	if !pki.SignedBy(cert, []*x509.Certificate{ca.KeyPair.Cert}, x509.ExtKeyUsageClientAuth, now) {
		t.Error("user.crt does not verify as a client certificate under the clients CA")
	}
	if got := cert.NotAfter.Sub(now); got < 29*24*time.Hour || got > 30*24*time.Hour {
		t.Errorf("validity %s, want 30 days", got)
	}
	key, err := pki.DecodeKey(data[KeyUserKey])
	if err != nil {
		t.Fatal(err)
	}
	if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
		t.Error("user.key does not match user.crt")
	}
	p12Key, p12Cert, chain, err := pkcs12.DecodeChain(data[KeyUserP12], string(data[KeyUserPassword]))
	if err != nil {
		t.Fatalf("user.p12 does not open with user.password: %v", err)
	}
	if !p12Cert.Equal(cert) || p12Key == nil || len(chain) != 1 || !chain[0].Equal(ca.KeyPair.Cert) {
		t.Error("user.p12 does not hold the user's key, certificate and the CA")
	}
	if len(data[KeyUserPassword]) != PasswordLength {
		t.Errorf("user.password has %d characters", len(data[KeyUserPassword]))
	}
	if ann[AnnotationDigest] != Digest(data) || ann[pki.AnnotationCertGeneration] != "3" || ann[pki.AnnotationKeyGeneration] != "1" {
		t.Errorf("annotations %v", ann)
	}
	if why := TLSDue(ParseIssued(ann), ca, 30, 5, now); why != "" {
		t.Errorf("a fresh certificate is due: %s", why)
	}
}

func TestTLSDue(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ca := testCA(t, now)
	_, ann, err := TLS(ca, "bob", 30, now)
	if err != nil {
		t.Fatal(err)
	}
	renewed := *ca
	renewed.CertGeneration++
	replaced := *ca
	replaced.KeyGeneration++
	cases := []struct {
		name     string
		ca       *ClientsCA
		validity int32
		at       time.Time
		want     string
	}{
		{"current", ca, 30, now.Add(24 * time.Hour), ""},
		{"validity changed", ca, 60, now, "validity"},
		{"CA renewed", &renewed, 30, now, "renewed"},
		{"CA key replaced", &replaced, 30, now, "replaced"},
		{"in the renewal window", ca, 30, now.Add(26 * 24 * time.Hour), "expires"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := TLSDue(ParseIssued(ann), c.ca, c.validity, 5, c.at)
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("TLSDue = %q, want %q", got, c.want)
			}
		})
	}
	if got := TLSDue(ParseIssued(map[string]string{}), ca, 30, 5, now); got == "" {
		t.Error("a Secret without annotations is not due")
	}
}

func TestCacheKeepsNoData(t *testing.T) {
	data, ann := SCRAM("carol", "secret-password", PasswordGenerated)
	s := &corev1.Secret{Data: data}
	s.Name, s.Namespace, s.UID, s.ResourceVersion = "carol", "ns", "uid-1", "7"
	s.Labels = map[string]string{"kafkaplane.io/kind": "KafkaUser"}
	s.OwnerReferences = []metav1.OwnerReference{
		{APIVersion: "v1", Kind: "ConfigMap", Name: "other", UID: "x"},
		{APIVersion: "kafkaplane.io/v1beta1", Kind: "KafkaUser", Name: "carol", UID: "u", Controller: ptr.To(true)},
	}
	s.Annotations = ann
	s.Annotations[corev1.LastAppliedConfigAnnotation] = "{...data...}"
	obj, err := CacheTransform(s)
	if err != nil {
		t.Fatal(err)
	}
	cached := obj.(*Cached)
	if !cached.Intact || cached.Digest != ann[AnnotationDigest] || cached.PasswordSource != PasswordGenerated {
		t.Errorf("an untouched SCRAM Secret is cached as %+v", cached.Issued)
	}
	m, err := meta.Accessor(cached)
	if err != nil {
		t.Fatal(err)
	}
	if m.GetName() != "carol" || m.GetNamespace() != "ns" || m.GetUID() != "uid-1" || m.GetResourceVersion() != "7" ||
		m.GetAnnotations() != nil || m.GetLabels() != nil {
		t.Errorf("metadata %+v: want the identity only (last-applied-configuration holds the data)", m)
	}
	if ref := metav1.GetControllerOf(m); ref == nil || ref.Name != "carol" || ref.UID != "u" || ref.Kind != "KafkaUser" || len(m.GetOwnerReferences()) != 1 {
		t.Errorf("owners %+v, want only the controller", m.GetOwnerReferences())
	}
	if cp, ok := cached.DeepCopyObject().(*Cached); !ok || *cp != *cached {
		t.Error("a copy is not an equal *Cached")
	}
	if key, err := cache.MetaNamespaceKeyFunc(cached); err != nil || key != "ns/carol" {
		t.Errorf("informer key %q (%v)", key, err)
	}
	edited := &corev1.Secret{Data: map[string][]byte{KeyPassword: []byte("changed"), KeySASLJAAS: data[KeySASLJAAS]}}
	edited.Annotations = map[string]string{AnnotationDigest: ann[AnnotationDigest]}
	if Cache(edited).Intact {
		t.Error("an edited Secret is intact")
	}
	extra := &corev1.Secret{Data: map[string][]byte{"extra": []byte("x")}}
	for k, v := range data {
		extra.Data[k] = v
	}
	extra.Annotations = map[string]string{AnnotationDigest: ann[AnnotationDigest]}
	if !Cache(extra).Intact {
		t.Error("a key added by someone else makes the Secret not intact")
	}
	if Cache(&corev1.Secret{Data: data}).Intact {
		t.Error("a Secret without a recorded digest is intact")
	}
}

func TestCachedTLSSecretRecordsTheCertificate(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	data, ann, err := TLS(testCA(t, now), "dave", 30, now)
	if err != nil {
		t.Fatal(err)
	}
	c := Cache(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: ann}, Data: data})
	want := Issued{NotBefore: c.NotBefore, NotAfter: now.Add(30 * 24 * time.Hour), ValidityDays: 30, CertGeneration: 3, KeyGeneration: 1}
	if !c.Intact || c.Issued != want || c.NotBefore.IsZero() {
		t.Errorf("cached %+v, want intact and %+v", c.Issued, want)
	}
}

func TestJAASQuotes(t *testing.T) {
	got := JAAS(`we"ird`, `pa\ss`)
	want := `org.apache.kafka.common.security.scram.ScramLoginModule required username="we\"ird" password="pa\\ss";`
	if got != want {
		t.Errorf("JAAS = %s, want %s", got, want)
	}
}
