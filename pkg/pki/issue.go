package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// KeyPair is a certificate with its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// backdate covers clock skew between the operator and the nodes that check a new certificate.
const backdate = 5 * time.Minute

// NewCA creates a self-signed CA certificate with a new key, valid for validity from now.
func NewCA(commonName string, validity time.Duration, now time.Time) (*KeyPair, error) {
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	return SelfSignCA(key, commonName, validity, now)
}

// SelfSignCA issues a self-signed CA certificate for an existing key: a new CA, or the renewal of
// an expiring one that keeps its key (renew-certificate), so that certificates signed by the old
// one stay valid under the new one.
func SelfSignCA(key crypto.Signer, commonName string, validity time.Duration, now time.Time) (*KeyPair, error) {
	tmpl, err := template(commonName, validity, now)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	tmpl.SubjectKeyId = keyID(key.Public())
	cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// Leaf describes a certificate to issue from a CA.
type Leaf struct {
	CommonName string
	// Organization, when set, is added to the subject. The operators' own certificates carry
	// O=kafkaplane.io, so that their Kafka principal (User:CN=<name>,O=kafkaplane.io) can never
	// equal a KafkaUser's (User:CN=<user>), whose certificates carry only a CN.
	Organization string
	// DNSNames and IPs are the subject alternative names of a server certificate.
	DNSNames []string
	IPs      []net.IP
	// Server and Client choose the extended key usages (both for node certificates, which
	// serve and also connect to other nodes).
	Server, Client bool
	Validity       time.Duration
}

// Issue signs a new certificate for leaf with a new key. Its validity never exceeds the CA's.
func (ca *KeyPair) Issue(leaf Leaf, now time.Time) (*KeyPair, error) {
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	tmpl, err := template(leaf.CommonName, leaf.Validity, now)
	if err != nil {
		return nil, err
	}
	if leaf.Organization != "" {
		tmpl.Subject.Organization = []string{leaf.Organization}
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.DNSNames, tmpl.IPAddresses = leaf.DNSNames, leaf.IPs
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if leaf.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if leaf.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	if len(tmpl.ExtKeyUsage) == 0 {
		return nil, errors.New("a certificate needs server or client usage")
	}
	tmpl.AuthorityKeyId = ca.Cert.SubjectKeyId
	cert, err := sign(tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

func template(commonName string, validity time.Duration, now time.Time) (*x509.Certificate, error) {
	if validity <= 0 {
		return nil, fmt.Errorf("certificate validity must be positive, got %s", validity)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating a serial number: %w", err)
	}
	// Truncated to the second: that is what the certificate stores, so renewal times computed
	// from the template and from the parsed certificate agree.
	now = now.Truncate(time.Second)
	return &x509.Certificate{
		SerialNumber: serial,
		// Only a common name: Kafka's default SSL principal is the subject DN, so a user's
		// certificate for CN=my-user authenticates as User:CN=my-user, as Strimzi users expect.
		Subject:   pkix.Name{CommonName: commonName},
		NotBefore: now.Add(-backdate),
		NotAfter:  now.Add(validity),
	}, nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("signing the certificate for %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the new certificate: %w", err)
	}
	return cert, nil
}

func keyID(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(der)
	return sum[:20]
}
