// Package certs computes a Kafka cluster's certificate Secrets: its cluster CA and clients CA
// (created, renewed or re-keyed by pkg/pki), one server certificate per node and a client
// certificate per entity operator, each re-issued only when due, when its names change or when
// the CA key that signed it is replaced.
package certs

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// Defaults of a CA's validity and renewal window, as Strimzi's.
const (
	DefaultValidityDays = 365
	DefaultRenewalDays  = 30
)

// Organization is the subject organisation of the operators' own certificates (nodes, entity
// operators); see pki.Leaf.
const Organization = "kafkaplane.io"

// CAKind says which of a cluster's two CAs.
type CAKind string

// The two CAs.
const (
	ClusterCA CAKind = "cluster-ca"
	ClientsCA CAKind = "clients-ca"
)

// CAConfig is a CA's spec with defaults applied.
func CAConfig(k *v1beta1.Kafka, kind CAKind) (pki.CASpec, bool) {
	c := k.Spec.ClusterCa
	if kind == ClientsCA {
		c = k.Spec.ClientsCa
	}
	if c == nil {
		c = &v1beta1.CertificateAuthority{}
	}
	validity, renewal := c.ValidityDays, c.RenewalDays
	if validity <= 0 {
		validity = DefaultValidityDays
	}
	if renewal <= 0 {
		renewal = DefaultRenewalDays
	}
	spec := pki.CASpec{
		CommonName:        k.Name + "-" + string(kind),
		Generate:          ptr.Deref(c.GenerateCertificateAuthority, true),
		Validity:          pki.Days(validity),
		Renew:             pki.Days(renewal),
		ReplaceKeyOnRenew: c.CertificateExpirationPolicy == v1beta1.ReplaceKey,
	}
	return spec, ptr.Deref(c.GenerateSecretOwnerReference, true)
}

// SecretNames are the cert and key Secret names of a CA.
func SecretNames(cluster string, kind CAKind) (cert, key string) {
	if kind == ClientsCA {
		return v1beta1.ClientsCACertSecretName(cluster), v1beta1.ClientsCAKeySecretName(cluster)
	}
	return v1beta1.ClusterCACertSecretName(cluster), v1beta1.ClusterCAKeySecretName(cluster)
}

// State reads a CA from its Secrets, either of which may be nil.
func State(cert, key *corev1.Secret) pki.CAState {
	var s pki.CAState
	if cert != nil {
		s.CertData, s.CertGeneration = cert.Data, pki.ParseGeneration(cert.Annotations, pki.AnnotationCertGeneration)
		s.ForceRenew = cert.Annotations[v1beta1.AnnotationForceRenew] == "true"
	}
	if key != nil {
		s.KeyData, s.KeyGeneration = key.Data, pki.ParseGeneration(key.Annotations, pki.AnnotationKeyGeneration)
		s.ForceReplace = key.Annotations[v1beta1.AnnotationForceReplace] == "true"
	}
	return s
}

// Reconcile computes a CA from its current Secrets: see pki.ReconcileCA.
func Reconcile(k *v1beta1.Kafka, kind CAKind, cert, key *corev1.Secret, now time.Time) (*pki.CA, error) {
	spec, _ := CAConfig(k, kind)
	return pki.ReconcileCA(spec, State(cert, key), now)
}

// CASecrets are the desired Secrets of a generated CA, labelled and (unless the spec says
// otherwise) owned by the Kafka so that they go with it. trusted is, for the clients CA, the
// newest key generation every node trusts (pki.AnnotationTrustedKeyGeneration).
func CASecrets(k *v1beta1.Kafka, kind CAKind, ca *pki.CA, trusted int) (cert, key *corev1.Secret) {
	_, owned := CAConfig(k, kind)
	certName, keyName := SecretNames(k.Name, kind)
	mk := func(name string, data map[string][]byte, ann string, gen int) *corev1.Secret {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: k.Namespace,
				Labels:      ownership.Labels(k.Name, v1beta1.KindKafka, k.Name, "certificate-authority"),
				Annotations: map[string]string{ann: itoa(gen)}},
			Type: corev1.SecretTypeOpaque,
			Data: data,
		}
		if owned {
			s.OwnerReferences = []metav1.OwnerReference{ownership.ControllerRef(k, v1beta1.KindKafka)}
		}
		return s
	}
	cert = mk(certName, ca.CertData, pki.AnnotationCertGeneration, ca.CertGeneration)
	if kind == ClientsCA {
		cert.Annotations[pki.AnnotationTrustedKeyGeneration] = itoa(trusted)
	}
	return cert, mk(keyName, ca.KeyData, pki.AnnotationKeyGeneration, ca.KeyGeneration)
}
