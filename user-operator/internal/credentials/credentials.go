// Package credentials builds the contents of a KafkaUser's Secret: a certificate from the clients
// CA (PEM and PKCS#12) for tls users, a password and JAAS line for SCRAM users. The Secret is the
// only place a user's key or password lives: the operator's cache keeps what the Secret's
// annotations record and whether its data is intact, never the data (Cached).
package credentials

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// Keys of a user Secret, as Strimzi names them.
const (
	KeyCACert       = "ca.crt"
	KeyUserCert     = "user.crt"
	KeyUserKey      = "user.key"
	KeyUserP12      = "user.p12"
	KeyUserPassword = "user.password"
	KeyPassword     = "password"
	KeySASLJAAS     = "sasl.jaas.config"
)

// OwnedKeys are the keys the operator writes; keys others add are left alone and not digested.
var OwnedKeys = []string{KeyCACert, KeyUserCert, KeyUserKey, KeyUserP12, KeyUserPassword, KeyPassword, KeySASLJAAS}

// Annotations the operator writes on a user Secret: what it issued, so that the next reconcile
// can tell from metadata alone whether the Secret is current.
const (
	// AnnotationDigest is the digest of the data the operator wrote; a different digest of the
	// data means it was edited by hand.
	AnnotationDigest = "kafkaplane.io/data-digest"
	// AnnotationNotBefore and AnnotationNotAfter are the user certificate's validity (RFC 3339).
	AnnotationNotBefore = "kafkaplane.io/cert-not-before"
	AnnotationNotAfter  = "kafkaplane.io/cert-not-after"
	// AnnotationValidityDays is the validity the certificate was issued with.
	AnnotationValidityDays = "kafkaplane.io/cert-validity-days"
	// AnnotationPasswordSource is "<secret>/<key>@<resourceVersion>" of the Secret a SCRAM
	// password was copied from, or "generated".
	AnnotationPasswordSource = "kafkaplane.io/password-source"
)

// PasswordGenerated is the AnnotationPasswordSource of a password the operator generated.
const PasswordGenerated = "generated"

// PasswordLength of generated SCRAM passwords.
const PasswordLength = 32

// Digest is a digest of the operator-owned keys of data.
func Digest(data map[string][]byte) string {
	keys := make([]string, 0, len(OwnedKeys))
	for _, k := range OwnedKeys {
		if _, ok := data[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%d\x00", k, len(data[k]))
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ClientsCA is the CA that signs user certificates, as read from its Secrets.
type ClientsCA struct {
	KeyPair *pki.KeyPair
	// CertPEM is the cert Secret's ca.crt as is: the user Secret's ca.crt.
	CertPEM                       []byte
	CertGeneration, KeyGeneration int
	// TrustedKeyGeneration is the newest key generation every Kafka node trusts
	// (pki.AnnotationTrustedKeyGeneration); below KeyGeneration while brokers still roll onto a
	// replaced key.
	TrustedKeyGeneration int
}

// Trusted reports whether every Kafka node trusts certificates from the CA's current key.
func (ca *ClientsCA) Trusted() bool { return ca.TrustedKeyGeneration >= ca.KeyGeneration }

// TLS issues a client certificate for CN=<user> and returns the Secret data and annotations.
// The key is ECDSA P-256 like every Kafkaplane key: generating one takes microseconds where RSA
// 2048 takes tens of milliseconds, which matters at 20,000 users, and Java clients accept it.
func TLS(ca *ClientsCA, user string, validityDays int32, now time.Time) (map[string][]byte, map[string]string, error) {
	kp, err := ca.KeyPair.Issue(pki.Leaf{CommonName: user, Client: true, Validity: pki.Days(validityDays)}, now)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing the certificate of %s: %w", user, err)
	}
	keyPEM, err := pki.EncodeKey(kp.Key)
	if err != nil {
		return nil, nil, err
	}
	password, err := pki.Password(PasswordLength)
	if err != nil {
		return nil, nil, err
	}
	p12, err := pki.KeyStore(kp, []*x509.Certificate{ca.KeyPair.Cert}, password)
	if err != nil {
		return nil, nil, err
	}
	data := map[string][]byte{
		KeyCACert:       ca.CertPEM,
		KeyUserCert:     pki.EncodeCerts(kp.Cert),
		KeyUserKey:      keyPEM,
		KeyUserP12:      p12,
		KeyUserPassword: []byte(password),
	}
	ann := map[string]string{
		AnnotationDigest:             Digest(data),
		AnnotationNotBefore:          kp.Cert.NotBefore.UTC().Format(time.RFC3339),
		AnnotationNotAfter:           kp.Cert.NotAfter.UTC().Format(time.RFC3339),
		AnnotationValidityDays:       fmt.Sprint(validityDays),
		pki.AnnotationCertGeneration: fmt.Sprint(ca.CertGeneration),
		pki.AnnotationKeyGeneration:  fmt.Sprint(ca.KeyGeneration),
	}
	return data, ann, nil
}

// TLSDue says why a tls user's Secret must be re-issued, or "" when it is current: missing
// annotations, a different validity, a renewed or replaced clients CA, or the renewal window.
func TLSDue(iss Issued, ca *ClientsCA, validityDays, renewalDays int32, now time.Time) string {
	switch {
	case iss.NotBefore.IsZero() || iss.NotAfter.IsZero():
		return "the Secret does not record its certificate's validity"
	case iss.ValidityDays != validityDays:
		return fmt.Sprintf("the validity changed to %d days", validityDays)
	case iss.KeyGeneration != ca.KeyGeneration:
		return "the clients CA key was replaced"
	case iss.CertGeneration != ca.CertGeneration:
		return "the clients CA certificate was renewed"
	case pki.NeedsRenewal(&x509.Certificate{NotBefore: iss.NotBefore, NotAfter: iss.NotAfter}, pki.Days(renewalDays), now):
		return fmt.Sprintf("the certificate expires at %s", iss.NotAfter.Format(time.RFC3339))
	}
	return ""
}

// RenewAt is when a current tls user's certificate falls due.
func RenewAt(iss Issued, renewalDays int32) time.Time {
	return pki.RenewalTime(&x509.Certificate{NotBefore: iss.NotBefore, NotAfter: iss.NotAfter}, pki.Days(renewalDays))
}

// SCRAM returns the Secret data and annotations of a SCRAM-SHA-512 user.
func SCRAM(user, password, source string) (map[string][]byte, map[string]string) {
	data := map[string][]byte{
		KeyPassword: []byte(password),
		KeySASLJAAS: []byte(JAAS(user, password)),
	}
	return data, map[string]string{AnnotationDigest: Digest(data), AnnotationPasswordSource: source}
}

// JAAS is the sasl.jaas.config line a Java client uses to log in as user.
func JAAS(user, password string) string {
	q := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return fmt.Sprintf(`org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";`, q.Replace(user), q.Replace(password))
}

// GeneratePassword returns a new random SCRAM password.
func GeneratePassword() (string, error) { return pki.Password(PasswordLength) }
