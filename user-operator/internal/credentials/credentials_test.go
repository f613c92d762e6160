package credentials

import (
	"crypto"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
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
	if why := TLSDue(ann, ca, 30, 5, now); why != "" {
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
			got := TLSDue(ann, c.ca, c.validity, 5, c.at)
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("TLSDue = %q, want %q", got, c.want)
			}
		})
	}
	if got := TLSDue(map[string]string{}, ca, 30, 5, now); got == "" {
		t.Error("a Secret without annotations is not due")
	}
}

func TestCacheTransformKeepsOnlyADigest(t *testing.T) {
	data, ann := SCRAM("carol", "secret-password", PasswordGenerated)
	s := &corev1.Secret{Data: data}
	s.Annotations = ann
	s.Annotations[corev1.LastAppliedConfigAnnotation] = "{...data...}"
	obj, err := CacheTransform(s)
	if err != nil {
		t.Fatal(err)
	}
	cached := obj.(*corev1.Secret)
	if cached.Data != nil {
		t.Error("the cached Secret still holds data")
	}
	if _, ok := cached.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		t.Error("the cached Secret keeps last-applied-configuration (which holds the data)")
	}
	if !Intact(cached) {
		t.Error("an untouched Secret is not intact")
	}
	edited := &corev1.Secret{Data: map[string][]byte{KeyPassword: []byte("changed"), KeySASLJAAS: data[KeySASLJAAS]}}
	edited.Annotations = map[string]string{AnnotationDigest: ann[AnnotationDigest]}
	obj, _ = CacheTransform(edited)
	if Intact(obj.(*corev1.Secret)) {
		t.Error("an edited Secret is intact")
	}
	extra := &corev1.Secret{Data: map[string][]byte{"extra": []byte("x")}}
	for k, v := range data {
		extra.Data[k] = v
	}
	extra.Annotations = map[string]string{AnnotationDigest: ann[AnnotationDigest]}
	obj, _ = CacheTransform(extra)
	if !Intact(obj.(*corev1.Secret)) {
		t.Error("a key added by someone else makes the Secret not intact")
	}
}

func TestJAASQuotes(t *testing.T) {
	got := JAAS(`we"ird`, `pa\ss`)
	want := `org.apache.kafka.common.security.scram.ScramLoginModule required username="we\"ird" password="pa\\ss";`
	if got != want {
		t.Errorf("JAAS = %s, want %s", got, want)
	}
}
