package pki

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func mustCA(t *testing.T, validity time.Duration) *KeyPair {
	t.Helper()
	ca, err := NewCA("cluster-ca v0", validity, now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func verify(cert *x509.Certificate, dns string, usage x509.ExtKeyUsage, at time.Time, roots ...*x509.Certificate) error {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	_, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: dns, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

func TestNodeCertificate(t *testing.T) {
	ca := mustCA(t, Days(365))
	if !ca.Cert.IsCA || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatal("CA certificate cannot sign certificates")
	}
	if _, ok := ca.Key.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("CA key is %T, want ECDSA", ca.Key)
	}
	sans := []string{"c-kafka-bootstrap", "c-kafka-bootstrap.ns", "c-kafka-bootstrap.ns.svc", "c-kafka-bootstrap.ns.svc.cluster.local",
		"c-brokers-0.c-kafka-brokers.ns.svc"}
	node, err := ca.Issue(Leaf{CommonName: "c-brokers-0", DNSNames: sans, IPs: []net.IP{net.ParseIP("127.0.0.1")},
		Server: true, Client: true, Validity: Days(1000)}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, dns := range sans {
		if err := verify(node.Cert, dns, x509.ExtKeyUsageServerAuth, now, ca.Cert); err != nil {
			t.Errorf("server certificate does not verify for %s: %v", dns, err)
		}
	}
	if err := verify(node.Cert, "", x509.ExtKeyUsageClientAuth, now, ca.Cert); err != nil {
		t.Errorf("node certificate is not valid for client auth: %v", err)
	}
	if err := verify(node.Cert, "other.example.com", x509.ExtKeyUsageServerAuth, now, ca.Cert); err == nil {
		t.Error("certificate verified for a name it does not carry")
	}
	if !node.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("leaf outlives its CA: %v > %v", node.Cert.NotAfter, ca.Cert.NotAfter)
	}
	user, err := ca.Issue(Leaf{CommonName: "my-user", Client: true, Validity: Days(30)}, now)
	if err != nil {
		t.Fatal(err)
	}
	// Kafka maps the subject DN to the principal: it must read exactly CN=my-user.
	if user.Cert.Subject.String() != "CN=my-user" || slices.Contains(user.Cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("user certificate: CN %q usages %v", user.Cert.Subject.CommonName, user.Cert.ExtKeyUsage)
	}
	if _, err := ca.Issue(Leaf{CommonName: "x", Validity: time.Hour}, now); err == nil {
		t.Error("issued a certificate with no usage")
	}
}

// renew-certificate: the renewed CA keeps the key, so what the old CA signed stays trusted.
func TestRenewedCAKeepsItsLeavesValid(t *testing.T) {
	ca := mustCA(t, Days(30))
	leaf, err := ca.Issue(Leaf{CommonName: "n", DNSNames: []string{"n"}, Server: true, Validity: Days(30)}, now)
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(Days(20))
	renewed, err := SelfSignCA(ca.Key, "cluster-ca v0", Days(365), later)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(leaf.Cert, "n", x509.ExtKeyUsageServerAuth, later, renewed.Cert); err != nil {
		t.Errorf("a leaf of the old CA does not verify against the renewed CA: %v", err)
	}
}

// replace-key: the new CA has a new key; old leaves need the old CA in the trust bundle until
// they are re-issued, which SignedBy tells.
func TestReplacedCAKeyNeedsBothCertificatesMeanwhile(t *testing.T) {
	old := mustCA(t, Days(365))
	leaf, err := old.Issue(Leaf{CommonName: "n", Client: true, Validity: Days(365)}, now)
	if err != nil {
		t.Fatal(err)
	}
	replaced, err := NewCA("cluster-ca v1", Days(365), now)
	if err != nil {
		t.Fatal(err)
	}
	if SignedBy(leaf.Cert, []*x509.Certificate{replaced.Cert}, x509.ExtKeyUsageClientAuth, now) {
		t.Error("an old leaf verified against the new CA alone")
	}
	if !SignedBy(leaf.Cert, []*x509.Certificate{old.Cert, replaced.Cert}, x509.ExtKeyUsageClientAuth, now) {
		t.Error("an old leaf does not verify against the transition bundle")
	}
}

func TestRenewalTime(t *testing.T) {
	ca := mustCA(t, Days(365))
	if got, want := RenewalTime(ca.Cert, Days(30)), ca.Cert.NotAfter.Add(-Days(30)); !got.Equal(want) {
		t.Errorf("RenewalTime = %v, want %v", got, want)
	}
	if NeedsRenewal(ca.Cert, Days(30), now.Add(Days(300))) {
		t.Error("renewal due 65 days before expiry with a 30-day window")
	}
	if !NeedsRenewal(ca.Cert, Days(30), now.Add(Days(336))) {
		t.Error("renewal not due 29 days before expiry with a 30-day window")
	}
	// A window longer than the validity renews at mid-life, not at once and forever.
	short := mustCA(t, Days(10))
	mid := short.Cert.NotBefore.Add(short.Cert.NotAfter.Sub(short.Cert.NotBefore) / 2)
	if got := RenewalTime(short.Cert, Days(30)); !got.Equal(mid) {
		t.Errorf("RenewalTime with window > validity = %v, want mid-life %v", got, mid)
	}
}

func TestPEMRoundTrips(t *testing.T) {
	ca := mustCA(t, Days(1))
	keyPEM, err := EncodeKey(ca.Key)
	if err != nil || !strings.Contains(string(keyPEM), "BEGIN PRIVATE KEY") {
		t.Fatalf("EncodeKey = %q, %v", keyPEM, err)
	}
	key, err := DecodeKey(keyPEM)
	if err != nil || !key.Public().(*ecdsa.PublicKey).Equal(ca.Key.Public()) {
		t.Fatalf("DecodeKey round trip: %v", err)
	}
	second := mustCA(t, Days(1))
	certs, err := DecodeCerts(EncodeCerts(ca.Cert, second.Cert))
	if err != nil || len(certs) != 2 || !certs[1].Equal(second.Cert) {
		t.Fatalf("DecodeCerts round trip: %d certs, %v", len(certs), err)
	}
	// A user-provided RSA CA key in PKCS#1 form is accepted.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	if k, err := DecodeKey(pkcs1); err != nil || !k.Public().(*rsa.PublicKey).Equal(&rsaKey.PublicKey) {
		t.Fatalf("DecodeKey(PKCS#1 RSA): %v", err)
	}
	if _, err := DecodeKey([]byte("not pem")); err == nil {
		t.Error("DecodeKey accepted garbage")
	}
}

func TestPKCS12Stores(t *testing.T) {
	ca := mustCA(t, Days(10))
	user, err := ca.Issue(Leaf{CommonName: "my-user", Client: true, Validity: Days(10)}, now)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := Password(32)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := KeyStore(user, []*x509.Certificate{ca.Cert}, pw)
	if err != nil {
		t.Fatal(err)
	}
	key, cert, chain, err := pkcs12.DecodeChain(ks, pw)
	if err != nil {
		t.Fatalf("decoding user.p12: %v", err)
	}
	if !cert.Equal(user.Cert) || len(chain) != 1 || !chain[0].Equal(ca.Cert) || !key.(*ecdsa.PrivateKey).Equal(user.Key) {
		t.Error("user.p12 does not hold the user's key, certificate and CA")
	}
	if _, _, _, err := pkcs12.DecodeChain(ks, "wrong"); err == nil {
		t.Error("user.p12 opened with a wrong password")
	}
	ts, err := TrustStore([]*x509.Certificate{ca.Cert}, pw)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := pkcs12.DecodeTrustStore(ts, pw)
	if err != nil || len(trusted) != 1 || !trusted[0].Equal(ca.Cert) {
		t.Fatalf("ca.p12 = %d certs, %v", len(trusted), err)
	}
}

func TestPassword(t *testing.T) {
	a, _ := Password(32)
	b, _ := Password(32)
	if len(a) != 32 || a == b || strings.Trim(a, passwordAlphabet) != "" {
		t.Errorf("passwords %q and %q", a, b)
	}
}

func BenchmarkIssueUserCertificate(b *testing.B) {
	ca, err := NewCA("clients-ca", Days(365), now)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ca.Issue(Leaf{CommonName: "user", Client: true, Validity: Days(365)}, now); err != nil {
			b.Fatal(err)
		}
	}
}
