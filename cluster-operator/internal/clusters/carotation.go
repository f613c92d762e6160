package clusters

import (
	"context"
	"crypto/x509"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/apply"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/certs"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/entityops"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// nodesCurrent reports whether every node the pools ask for runs, ready, what was planned for it
// (its revision covers its certificate Secret, and so the CA certificates it trusts).
func (r *Reconciler) nodesCurrent(k *v1beta1.Kafka, p *plan, roll rollState) bool {
	if len(p.pending) > 0 || roll.waiting || len(roll.stale) > 0 || len(p.nodes) == 0 {
		return false
	}
	pods := r.nodePods(k)
	for _, np := range p.nodes {
		pod, ok := pods[np.name]
		if !ok || !podReady(pod) || pod.Annotations[nodes.AnnotationRevision] != np.pod.Annotations[nodes.AnnotationRevision] {
			return false
		}
	}
	return true
}

// publishClientsTrust records on the clients CA cert Secret that every node trusts the current
// clients CA key, once that is so after a key replacement: only then does the user operator move
// user certificates to the new key (a broker that does not trust it yet would refuse them).
func (r *Reconciler) publishClientsTrust(ctx context.Context, k *v1beta1.Kafka, p *plan, roll rollState) error {
	if p.clientsTrusted >= p.clientsCA.KeyGeneration || !r.nodesCurrent(k, p, roll) {
		return nil
	}
	if spec, _ := certs.CAConfig(k, certs.ClientsCA); !spec.Generate {
		return nil
	}
	certName, _ := certs.SecretNames(k.Name, certs.ClientsCA)
	want, _ := certs.CASecrets(k, certs.ClientsCA, p.clientsCA, p.clientsCA.KeyGeneration)
	if _, err := apply.Apply(ctx, r.Kube.CoreV1().Secrets(k.Namespace), want, get[corev1.Secret](r.Caches.Secrets, k.Namespace, certName), r.Opts.FieldManager); err != nil {
		return err
	}
	p.clientsTrusted = p.clientsCA.KeyGeneration
	r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "ClientsCATrusted", "Reconcile",
		"every node trusts clients CA key generation %d: user certificates move to it now", p.clientsTrusted)
	return nil
}

// trimTrust ends a CA key replacement. While one is under way, a CA's Secret keeps the old
// certificate as ca-<date>.crt and every trust bundle carries both. The old one is dropped once
// nothing signed by the old key is in use: every node re-issued, restarted and ready (and the
// entity operators running their new certificates) for the cluster CA; for the clients CA, also
// every KafkaUser Secret re-issued under the new key. All of this is read back from the objects,
// so a replacement interrupted by an operator restart resumes where it was.
func (r *Reconciler) trimTrust(ctx context.Context, k *v1beta1.Kafka, p *plan, roll rollState, eo eoState) error {
	if len(p.clusterCA.Trusted) <= 1 && len(p.clientsCA.Trusted) <= 1 {
		return nil
	}
	if len(p.pending) > 0 || roll.waiting || len(roll.stale) > 0 || len(eo.notReady) > 0 || len(p.nodes) == 0 {
		return nil
	}
	if p.keepOldKey {
		return nil
	}
	pods := r.nodePods(k)
	for _, np := range p.nodes {
		if pod, ok := pods[np.name]; !ok || !podReady(pod) {
			return nil
		}
		leaf, err := pki.DecodeCerts(np.secret.Data[certs.NodeCertKey])
		if err != nil || len(leaf) == 0 || !pki.SignedBy(leaf[0], p.clusterCA.Trusted[:1], x509.ExtKeyUsageServerAuth, r.now()) {
			return nil
		}
	}
	if len(p.clusterCA.Trusted) > 1 {
		if err := r.dropSuperseded(ctx, k, certs.ClusterCA, p.clusterCA, 0); err != nil {
			return err
		}
	}
	if len(p.clientsCA.Trusted) > 1 {
		current, err := r.usersCurrent(ctx, k, p.clientsCA.KeyGeneration)
		if err != nil || !current {
			return err
		}
		if err := r.dropSuperseded(ctx, k, certs.ClientsCA, p.clientsCA, p.clientsTrusted); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reconciler) dropSuperseded(ctx context.Context, k *v1beta1.Kafka, kind certs.CAKind, ca *pki.CA, trusted int) error {
	if spec, _ := certs.CAConfig(k, kind); !spec.Generate {
		return nil // a user-provided CA: its Secrets are the user's to change
	}
	trimmed, err := pki.DropSuperseded(ca)
	if err != nil {
		return err
	}
	certName, _ := certs.SecretNames(k.Name, kind)
	want, _ := certs.CASecrets(k, kind, trimmed, trusted)
	if _, err := apply.Apply(ctx, r.Kube.CoreV1().Secrets(k.Namespace), want, get[corev1.Secret](r.Caches.Secrets, k.Namespace, certName), r.Opts.FieldManager); err != nil {
		return err
	}
	r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "CATrustTrimmed", "Reconcile",
		"%s: every certificate is signed by the new key; the old CA certificate is no longer trusted", kind)
	return nil
}

// usersCurrent reports whether every user Secret of the cluster was issued under the clients CA
// key generation gen. They are listed metadata-only (their annotations say it), only during a
// key replacement.
func (r *Reconciler) usersCurrent(ctx context.Context, k *v1beta1.Kafka, gen int) (bool, error) {
	if r.Metadata == nil {
		return false, nil
	}
	namespace := k.Namespace
	for _, o := range entityops.Wanted(k) {
		if o.Binary == v1beta1.BinaryUserOperator {
			namespace = o.WatchedNamespace(k)
		}
	}
	sel := v1beta1.LabelKind + "=" + v1beta1.KindKafkaUser + "," + v1beta1.LabelCluster + "=" + k.Name
	l, err := r.Metadata.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return false, fmt.Errorf("listing the user Secrets of %s: %w", k.Name, err)
	}
	for _, s := range l.Items {
		if pki.ParseGeneration(s.Annotations, pki.AnnotationKeyGeneration) != gen {
			return false, nil
		}
	}
	return true, nil
}
