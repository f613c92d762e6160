package certs

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// Keys of a node's certificate Secret, mounted into its pod.
const (
	NodeCertKey = "node.crt"
	NodeKeyKey  = "node.key"
	// NodeKeystoreKey is the key followed by the certificate: Kafka's PEM keystore file.
	NodeKeystoreKey = "node.pem"
	// ClusterCATrustKey and ClientsCATrustKey hold every certificate of the CA to trust — two
	// during a key replacement.
	ClusterCATrustKey = "cluster-ca.crt"
	ClientsCATrustKey = "clients-ca.crt"
)

// Keys of an entity operator's certificate Secret: its client certificate and the cluster CA
// certificates that sign the nodes' server certificates.
const (
	ClientCertKey = "tls.crt"
	ClientKeyKey  = "tls.key"
	CATrustKey    = "ca.crt"
)

// Annotations on leaf certificate Secrets.
const (
	// AnnotationSANs is a digest of the subject alternative names a node certificate was issued
	// for: when the names change (a new listener, service or address), it is re-issued.
	AnnotationSANs = "kafkaplane.io/sans-digest"
	// AnnotationCAKeyGeneration is the CA key generation that signed the certificate.
	AnnotationCAKeyGeneration = "kafkaplane.io/ca-key-generation"
)

// Leaf is a certificate to keep in a Secret.
type Leaf struct {
	Secret, Namespace string
	Labels            map[string]string
	Owner             metav1.OwnerReference
	Leaf              pki.Leaf
}

// NodeSecret returns a node's desired certificate Secret: the current certificate when it is
// still good (signed by the current CA key, same names, not due), else a new one; and whether it
// issued one. The trust bundles are always the CAs' current ones. keepOldKey keeps a
// certificate signed by a superseded (still trusted) CA key: during a key replacement, until
// every node trusts the new CA, no node may present a certificate only the new CA verifies.
func NodeSecret(l Leaf, clusterCA, clientsCA *pki.CA, renew time.Duration, current *corev1.Secret, keepOldKey bool, now time.Time) (*corev1.Secret, bool, error) {
	data, issued, err := leafData(l, clusterCA, renew, current, NodeCertKey, NodeKeyKey, keepOldKey, now)
	if err != nil {
		return nil, false, err
	}
	data[NodeKeystoreKey] = append(slices.Clone(data[NodeKeyKey]), data[NodeCertKey]...)
	data[ClusterCATrustKey] = pki.EncodeCerts(clusterCA.Trusted...)
	data[ClientsCATrustKey] = pki.EncodeCerts(clientsCA.Trusted...)
	return secret(l, clusterCA, data), issued, nil
}

// ClientSecret returns the desired certificate Secret of an entity operator or of the cluster
// operator itself, like NodeSecret: keepOldKey holds a certificate of the superseded key while
// some node does not trust the new one yet (a client certificate of the new key would be refused,
// and the cluster operator would lock itself out of the cluster it is rolling).
func ClientSecret(l Leaf, clusterCA *pki.CA, renew time.Duration, current *corev1.Secret, keepOldKey bool, now time.Time) (*corev1.Secret, bool, error) {
	data, issued, err := leafData(l, clusterCA, renew, current, ClientCertKey, ClientKeyKey, keepOldKey, now)
	if err != nil {
		return nil, false, err
	}
	data[CATrustKey] = pki.EncodeCerts(clusterCA.Trusted...)
	return secret(l, clusterCA, data), issued, nil
}

func secret(l Leaf, ca *pki.CA, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: l.Secret, Namespace: l.Namespace, Labels: l.Labels,
			OwnerReferences: []metav1.OwnerReference{l.Owner},
			Annotations: map[string]string{
				AnnotationSANs:            SANsDigest(l.Leaf),
				AnnotationCAKeyGeneration: strconv.Itoa(ca.KeyGeneration),
			}},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
}

// leafData keeps the current certificate and key when they are still good, else issues new ones.
func leafData(l Leaf, ca *pki.CA, renew time.Duration, current *corev1.Secret, certKey, keyKey string, keepOldKey bool, now time.Time) (map[string][]byte, bool, error) {
	if current != nil && stillGood(l, ca, renew, current, certKey, keyKey, keepOldKey, now) {
		return map[string][]byte{certKey: current.Data[certKey], keyKey: current.Data[keyKey]}, false, nil
	}
	kp, err := ca.KeyPair.Issue(l.Leaf, now)
	if err != nil {
		return nil, false, err
	}
	keyPEM, err := pki.EncodeKey(kp.Key)
	if err != nil {
		return nil, false, err
	}
	return map[string][]byte{certKey: pki.EncodeCerts(kp.Cert), keyKey: keyPEM}, true, nil
}

func stillGood(l Leaf, ca *pki.CA, renew time.Duration, current *corev1.Secret, certKey, keyKey string, keepOldKey bool, now time.Time) bool {
	if current.Annotations[AnnotationSANs] != SANsDigest(l.Leaf) || len(current.Data[keyKey]) == 0 {
		return false
	}
	certs, err := pki.DecodeCerts(current.Data[certKey])
	if err != nil || len(certs) == 0 {
		return false
	}
	usage := x509.ExtKeyUsageClientAuth
	if l.Leaf.Server {
		usage = x509.ExtKeyUsageServerAuth
	}
	// Signed by the current CA certificate: after a key replacement the old one no longer
	// counts, unless the caller keeps old-key certificates for now.
	oldKey := false
	if !pki.SignedBy(certs[0], ca.Trusted[:1], usage, now) {
		if !keepOldKey || !pki.SignedBy(certs[0], ca.Trusted, usage, now) {
			return false
		}
		oldKey = true
	}
	key, err := pki.DecodeKey(current.Data[keyKey])
	if err != nil {
		return false
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := certs[0].PublicKey.(equaler)
	if !ok || !pub.Equal(key.Public()) {
		return false
	}
	// A still-valid old-key certificate waits out the key replacement even when due: the
	// renewal window is there to cover the rolls.
	return oldKey || !pki.NeedsRenewal(certs[0], renew, now)
}

// SANsDigest digests what a certificate is issued for: subject, names and addresses.
func SANsDigest(l pki.Leaf) string {
	var b bytes.Buffer
	b.WriteString(l.CommonName + "|" + l.Organization + "|")
	names := slices.Clone(l.DNSNames)
	slices.Sort(names)
	b.WriteString(strings.Join(names, ","))
	for _, ip := range l.IPs {
		b.WriteString("|" + ip.String())
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:8])
}

// RenewAt is when a Secret's certificate is next due, zero when it cannot be read.
func RenewAt(s *corev1.Secret, certKey string, renew time.Duration) time.Time {
	certs, err := pki.DecodeCerts(s.Data[certKey])
	if err != nil || len(certs) == 0 {
		return time.Time{}
	}
	return pki.RenewalTime(certs[0], renew)
}

func itoa(n int) string { return strconv.Itoa(n) }
