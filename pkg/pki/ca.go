package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Keys of the CA Secrets, as Strimzi names them: <cluster>-cluster-ca-cert holds the public
// part, <cluster>-cluster-ca the private key (likewise for the clients CA).
const (
	CACertKey     = "ca.crt"
	CAP12Key      = "ca.p12"
	CAPasswordKey = "ca.password"
	CAKeyKey      = "ca.key"
)

// Annotations on the CA Secrets counting certificate renewals and key replacements. Pods and
// user Secrets record the generations they were issued under, which tells what is stale and when
// an old CA certificate may be dropped from the trust bundle; as they live in the Secrets, a
// renewal interrupted by an operator restart resumes from them.
const (
	AnnotationCertGeneration = "kafkaplane.io/ca-cert-generation"
	AnnotationKeyGeneration  = "kafkaplane.io/ca-key-generation"
	// AnnotationTrustedKeyGeneration on the clients CA cert Secret is the newest key generation
	// every Kafka node trusts: certificates from a newer key would be refused, so user
	// certificates move to a replaced key only once it has caught up. Missing, it is the
	// current key generation (a CA the user provides, or an older operator).
	AnnotationTrustedKeyGeneration = "kafkaplane.io/ca-trusted-key-generation"
)

// TrustedKeyGeneration reads AnnotationTrustedKeyGeneration, keyGen when it is missing.
func TrustedKeyGeneration(annotations map[string]string, keyGen int) int {
	if _, ok := annotations[AnnotationTrustedKeyGeneration]; !ok {
		return keyGen
	}
	return ParseGeneration(annotations, AnnotationTrustedKeyGeneration)
}

// oldCertPrefix names a superseded CA certificate kept in the cert Secret during a key
// replacement: ca-<notAfter as 2006-01-02T15-04-05Z>.crt, as Strimzi does.
const oldCertPrefix = "ca-"

// CASpec is what the Kafka resource says of a CA.
type CASpec struct {
	// CommonName of the CA certificate, e.g. "cluster-ca".
	CommonName string
	// Generate: the operator owns the CA. When false the user provides both Secrets and the
	// operator only reads them.
	Generate          bool
	Validity, Renew   time.Duration
	ReplaceKeyOnRenew bool
}

// CAState is a CA as read from its Secrets' data and annotations (all empty when missing).
type CAState struct {
	CertData, KeyData             map[string][]byte
	CertGeneration, KeyGeneration int
	// ForceRenew and ForceReplace ask for a renewal (under the spec's policy) or a key
	// replacement now, whatever the certificate's age.
	ForceRenew, ForceReplace bool
}

// CA is the outcome of reconciling a CA: the signing key pair, every certificate to trust, and
// the Secrets' desired data and generations.
type CA struct {
	KeyPair *KeyPair
	// Trusted is the current CA certificate first, then superseded ones still trusted.
	Trusted                       []*x509.Certificate
	CertData, KeyData             map[string][]byte
	CertGeneration, KeyGeneration int
	// Action is what changed: "", "Created", "Renewed" (same key) or "KeyReplaced".
	Action string
	// RenewAt is when the CA certificate is next due for renewal.
	RenewAt time.Time
}

// ReconcileCA computes a CA's desired state from its current one: it creates a missing CA,
// renews a due certificate keeping the key, or replaces the key when the policy says so (keeping
// the old certificate trusted under ca-<date>.crt until DropSuperseded removes it). A CA the user
// provides is only read and checked.
func ReconcileCA(spec CASpec, cur CAState, now time.Time) (*CA, error) {
	haveCert, haveKey := len(cur.CertData[CACertKey]) > 0, len(cur.KeyData[CAKeyKey]) > 0
	if !spec.Generate {
		if !haveCert || !haveKey {
			return nil, fmt.Errorf("the CA is user-provided (generateCertificateAuthority: false) but its %s or %s is missing", CACertKey, CAKeyKey)
		}
		return loadCA(cur, spec, "")
	}
	if !haveCert || !haveKey {
		kp, err := NewCA(spec.CommonName, spec.Validity, now)
		if err != nil {
			return nil, err
		}
		return build(spec, kp, nil, cur.CertGeneration, cur.KeyGeneration, "Created")
	}
	ca, err := loadCA(cur, spec, "")
	if err != nil {
		return nil, err
	}
	forced := cur.ForceRenew || cur.ForceReplace
	if !forced && !NeedsRenewal(ca.KeyPair.Cert, spec.Renew, now) {
		return ca, nil
	}
	if cur.ForceReplace && len(ca.Trusted) > 1 {
		// A key replacement is still under way (the old certificate is trusted until nothing
		// it signed is in use): another now would leave certificates of the key in between
		// unverifiable. The request waits.
		return ca, nil
	}
	if spec.ReplaceKeyOnRenew || cur.ForceReplace {
		kp, err := NewCA(spec.CommonName, spec.Validity, now)
		if err != nil {
			return nil, err
		}
		// The old certificate stays trusted: nodes and clients still present certificates it
		// signed until they are re-issued.
		return build(spec, kp, ca.Trusted, ca.CertGeneration+1, ca.KeyGeneration+1, "KeyReplaced")
	}
	kp, err := SelfSignCA(ca.KeyPair.Key, spec.CommonName, spec.Validity, now)
	if err != nil {
		return nil, err
	}
	// Same key: everything the old certificate signed verifies under the new one, so the old
	// certificate need not stay.
	return build(spec, kp, ca.Trusted[1:], ca.CertGeneration+1, ca.KeyGeneration, "Renewed")
}

// LoadCA reads a CA from its Secrets' data without changing anything: how an operator that
// only signs with a CA (the user operator with the clients CA) reads it.
func LoadCA(cur CAState) (*CA, error) {
	if len(cur.CertData[CACertKey]) == 0 || len(cur.KeyData[CAKeyKey]) == 0 {
		return nil, fmt.Errorf("the CA's %s or %s is missing", CACertKey, CAKeyKey)
	}
	return loadCA(cur, CASpec{}, "")
}

// DropSuperseded removes superseded CA certificates from the trust bundle, once every node and
// client certificate has been re-issued under the current key.
func DropSuperseded(ca *CA) (*CA, error) {
	if len(ca.Trusted) <= 1 {
		return ca, nil
	}
	spec := CASpec{}
	out, err := build(spec, ca.KeyPair, nil, ca.CertGeneration, ca.KeyGeneration, "")
	if err != nil {
		return nil, err
	}
	out.RenewAt = ca.RenewAt
	return out, nil
}

func loadCA(cur CAState, spec CASpec, action string) (*CA, error) {
	certs, err := DecodeCerts(cur.CertData[CACertKey])
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", CACertKey, err)
	}
	key, err := DecodeKey(cur.KeyData[CAKeyKey])
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", CAKeyKey, err)
	}
	cert := certs[0]
	if !publicKeysEqual(cert, key) {
		return nil, errors.New("the CA certificate and key do not belong together")
	}
	if !cert.IsCA {
		return nil, errors.New("the CA certificate is not a CA certificate")
	}
	var old []*x509.Certificate
	names := make([]string, 0)
	for k := range cur.CertData {
		if strings.HasPrefix(k, oldCertPrefix) && strings.HasSuffix(k, ".crt") && k != CACertKey {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		cs, err := DecodeCerts(cur.CertData[k])
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", k, err)
		}
		old = append(old, cs...)
	}
	ca := &CA{KeyPair: &KeyPair{Cert: cert, Key: key}, Trusted: append([]*x509.Certificate{cert}, old...),
		CertData: cur.CertData, KeyData: cur.KeyData, CertGeneration: cur.CertGeneration,
		KeyGeneration: cur.KeyGeneration, Action: action, RenewAt: RenewalTime(cert, spec.Renew)}
	return ca, nil
}

func build(spec CASpec, kp *KeyPair, old []*x509.Certificate, certGen, keyGen int, action string) (*CA, error) {
	keyPEM, err := EncodeKey(kp.Key)
	if err != nil {
		return nil, err
	}
	password, err := Password(32)
	if err != nil {
		return nil, err
	}
	trusted := append([]*x509.Certificate{kp.Cert}, old...)
	p12, err := TrustStore(trusted, password)
	if err != nil {
		return nil, err
	}
	certData := map[string][]byte{
		CACertKey:     EncodeCerts(kp.Cert),
		CAP12Key:      p12,
		CAPasswordKey: []byte(password),
	}
	for _, c := range old {
		certData[oldCertPrefix+c.NotAfter.UTC().Format("2006-01-02T15-04-05Z")+".crt"] = EncodeCerts(c)
	}
	return &CA{KeyPair: kp, Trusted: trusted, CertData: certData, KeyData: map[string][]byte{CAKeyKey: keyPEM},
		CertGeneration: certGen, KeyGeneration: keyGen, Action: action, RenewAt: RenewalTime(kp.Cert, spec.Renew)}, nil
}

func publicKeysEqual(cert *x509.Certificate, key crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := cert.PublicKey.(equaler)
	return ok && pub.Equal(key.Public())
}

// ParseGeneration reads a generation annotation; missing or invalid reads as 0.
func ParseGeneration(annotations map[string]string, key string) int {
	n, err := strconv.Atoi(annotations[key])
	if err != nil || n < 0 {
		return 0
	}
	return n
}
