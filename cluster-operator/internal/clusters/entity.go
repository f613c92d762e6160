package clusters

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/apply"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/certs"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/entityops"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// ClusterOperatorCertsSecretName holds the cluster operator's own client certificate for a
// cluster: how its roller talks to Kafka.
func ClusterOperatorCertsSecretName(cluster string) string {
	return ClusterOperatorName(cluster) + "-certs"
}

// eoState says which entity operators are not available yet.
type eoState struct{ notReady []string }

// applyEntityOperators applies the entity operators the Kafka asks for and deletes the ones it
// no longer asks for; it also keeps the cluster operator's own client certificate.
func (r *Reconciler) applyEntityOperators(ctx context.Context, k *v1beta1.Kafka, p *plan) (eoState, error) {
	var st eoState
	spec, _ := certs.CAConfig(k, certs.ClusterCA)
	opLeaf := certs.Leaf{Secret: ClusterOperatorCertsSecretName(k.Name), Namespace: k.Namespace,
		Labels: ownership.Labels(k.Name, v1beta1.KindKafka, k.Name, v1beta1.BinaryClusterOperator), Owner: ownerRef(k),
		Leaf: pki.Leaf{CommonName: ClusterOperatorName(k.Name), Organization: certs.Organization, Client: true, Validity: spec.Validity}}
	if _, err := r.applyClientCert(ctx, k, p, opLeaf); err != nil {
		return st, err
	}
	wanted := entityops.Wanted(k)
	for _, o := range wanted {
		ready, err := r.applyEntityOperator(ctx, k, p, o)
		if err != nil {
			return st, err
		}
		if !ready {
			st.notReady = append(st.notReady, o.Name)
		}
	}
	for _, o := range entityops.All(k.Name) {
		if slices.ContainsFunc(wanted, func(w entityops.Operator) bool { return w.Name == o.Name }) {
			continue
		}
		if err := r.deleteEntityOperator(ctx, k, o); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (r *Reconciler) applyClientCert(ctx context.Context, k *v1beta1.Kafka, p *plan, leaf certs.Leaf) (*corev1.Secret, error) {
	spec, _ := certs.CAConfig(k, certs.ClusterCA)
	cur := get[corev1.Secret](r.Caches.Secrets, k.Namespace, leaf.Secret)
	s, issued, err := certs.ClientSecret(leaf, p.clusterCA, spec.Renew, cur, r.now())
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", leaf.Secret, err)
	}
	if issued {
		p.issued++
	}
	p.renewAt = earliest(p.renewAt, certs.RenewAt(s, certs.ClientCertKey, spec.Renew))
	r.recordSecretExpiry(s, k.Name, certs.ClientCertKey)
	if _, err := apply.Apply(ctx, r.Kube.CoreV1().Secrets(k.Namespace), s, cur, r.Opts.FieldManager); err != nil {
		return nil, err
	}
	return s, nil
}

func (r *Reconciler) applyEntityOperator(ctx context.Context, k *v1beta1.Kafka, p *plan, o entityops.Operator) (bool, error) {
	ns, fm := k.Namespace, r.Opts.FieldManager
	spec, _ := certs.CAConfig(k, certs.ClusterCA)
	secret, err := r.applyClientCert(ctx, k, p, o.CertLeaf(k, spec.Validity))
	if err != nil {
		return false, err
	}
	sa := o.ServiceAccount(k)
	if _, err := apply.Apply(ctx, r.Kube.CoreV1().ServiceAccounts(ns), sa, get[corev1.ServiceAccount](r.Caches.ServiceAccounts, ns, sa.Name), fm); err != nil {
		return false, err
	}
	for _, role := range o.Roles(k) {
		if _, err := apply.Apply(ctx, r.Kube.RbacV1().Roles(role.Namespace), role, get[rbacv1.Role](r.Caches.Roles, role.Namespace, role.Name), fm); err != nil {
			return false, err
		}
		rb := o.RoleBinding(k, role)
		if _, err := apply.Apply(ctx, r.Kube.RbacV1().RoleBindings(rb.Namespace), rb, get[rbacv1.RoleBinding](r.Caches.RoleBindings, rb.Namespace, rb.Name), fm); err != nil {
			return false, err
		}
	}
	image := r.Opts.TopicOperatorImage
	if o.Binary == v1beta1.BinaryUserOperator {
		image = r.Opts.UserOperatorImage
	}
	// The pods restart when their certificate changes: the operators read it at start.
	certRev, err := apply.Hash(secret.Data)
	if err != nil {
		return false, err
	}
	d := o.Deployment(k, image, certRev)
	cur := get[appsv1.Deployment](r.Caches.Deployments, ns, d.Name)
	if _, err := apply.Apply(ctx, r.Kube.AppsV1().Deployments(ns), d, cur, fm); err != nil {
		return false, err
	}
	return cur != nil && cur.Status.ObservedGeneration >= cur.Generation && cur.Status.AvailableReplicas > 0 &&
		cur.Annotations[apply.AnnotationHash] == d.Annotations[apply.AnnotationHash], nil
}

func (r *Reconciler) deleteEntityOperator(ctx context.Context, k *v1beta1.Kafka, o entityops.Operator) error {
	ns := k.Namespace
	del := func(kind string, exists bool, fn func() error) error {
		if !exists {
			return nil
		}
		if err := fn(); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %s %s/%s: %w", kind, ns, o.Name, err)
		}
		return nil
	}
	opts := metav1.DeleteOptions{}
	certs := v1beta1.EntityOperatorCertsSecretName(o.Name)
	return errorsJoin(
		del("Deployment", get[appsv1.Deployment](r.Caches.Deployments, ns, o.Name) != nil, func() error { return r.Kube.AppsV1().Deployments(ns).Delete(ctx, o.Name, opts) }),
		del("RoleBinding", get[rbacv1.RoleBinding](r.Caches.RoleBindings, ns, o.Name) != nil, func() error { return r.Kube.RbacV1().RoleBindings(ns).Delete(ctx, o.Name, opts) }),
		del("Role", get[rbacv1.Role](r.Caches.Roles, ns, o.Name) != nil, func() error { return r.Kube.RbacV1().Roles(ns).Delete(ctx, o.Name, opts) }),
		del("ServiceAccount", get[corev1.ServiceAccount](r.Caches.ServiceAccounts, ns, o.Name) != nil, func() error { return r.Kube.CoreV1().ServiceAccounts(ns).Delete(ctx, o.Name, opts) }),
		del("Secret", get[corev1.Secret](r.Caches.Secrets, ns, certs) != nil, func() error { return r.Kube.CoreV1().Secrets(ns).Delete(ctx, certs, opts) }),
	)
}
