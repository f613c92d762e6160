package clusters

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

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
	keepRBAC := map[string]bool{}
	for _, o := range wanted {
		ready, err := r.applyEntityOperator(ctx, k, p, o)
		if err != nil {
			return st, err
		}
		if !ready {
			st.notReady = append(st.notReady, o.Name)
		}
		for _, role := range o.Roles(k) {
			keepRBAC[role.Namespace+"/"+role.Name] = true
		}
	}
	// Roles and RoleBindings made in watched namespaces cannot be owned by the Kafka: those of a
	// namespace no longer watched, or of an operator no longer wanted, go here.
	if err := r.sweepEntityRBAC(ctx, k.Namespace, k.Name, keepRBAC); err != nil {
		return st, err
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
	s, issued, err := certs.ClientSecret(leaf, p.clusterCA, spec.Renew, cur, p.keepOldKey, r.now())
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
	// Rolled out: the pods of an older revision (an older certificate) are gone.
	return cur != nil && cur.Status.ObservedGeneration >= cur.Generation && cur.Status.AvailableReplicas > 0 &&
		cur.Status.UpdatedReplicas == cur.Status.Replicas &&
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

// sweepEntityRBAC deletes the entity operators' Roles and RoleBindings of cluster (in namespace)
// that keep does not list ("namespace/name"), in every namespace the operator watches. Only ours
// go: a RoleBinding carrying the cluster's labels that binds the Role of its own name to one of
// the cluster's entity operator ServiceAccounts in the Kafka's namespace, and the Role of that
// name with the same labels. Each delete is conditional on the UID that was read.
func (r *Reconciler) sweepEntityRBAC(ctx context.Context, namespace, cluster string, keep map[string]bool) error {
	sel := labels.SelectorFromSet(labels.Set{v1beta1.LabelCluster: cluster, v1beta1.LabelKind: v1beta1.KindKafka, v1beta1.LabelName: cluster})
	objs, err := r.Caches.RoleBindings.List(sel)
	if err != nil {
		return err
	}
	var errs []error
	for _, o := range objs {
		rb, ok := o.(*rbacv1.RoleBinding)
		if !ok || keep[rb.Namespace+"/"+rb.Name] || !entityBinding(rb, namespace, cluster) {
			continue
		}
		del := func(kind string, uid types.UID, fn func(metav1.DeleteOptions) error) {
			err := fn(metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("deleting %s %s/%s: %w", kind, rb.Namespace, rb.Name, err))
			}
		}
		del("RoleBinding", rb.UID, func(opts metav1.DeleteOptions) error {
			return r.Kube.RbacV1().RoleBindings(rb.Namespace).Delete(ctx, rb.Name, opts)
		})
		if role := get[rbacv1.Role](r.Caches.Roles, rb.Namespace, rb.Name); role != nil && sel.Matches(labels.Set(role.Labels)) {
			del("Role", role.UID, func(opts metav1.DeleteOptions) error {
				return r.Kube.RbacV1().Roles(rb.Namespace).Delete(ctx, role.Name, opts)
			})
		}
		klog.FromContext(ctx).Info("Deleted an entity operator's RBAC no longer needed", "roleBinding", klog.KObj(rb))
	}
	return errorsJoin(errs...)
}

// entityBinding reports whether rb is one of cluster's entity operator RoleBindings: it binds the
// Role of its own name (the operator's name, or that name with a suffix) to the operator's
// ServiceAccount in the Kafka's namespace.
func entityBinding(rb *rbacv1.RoleBinding, namespace, cluster string) bool {
	if rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != rb.Name || len(rb.Subjects) != 1 {
		return false
	}
	s := rb.Subjects[0]
	if s.Kind != rbacv1.ServiceAccountKind || s.Namespace != namespace || !strings.HasPrefix(rb.Name, s.Name) {
		return false
	}
	for _, o := range entityops.All(cluster) {
		if s.Name == o.Name {
			return true
		}
	}
	return false
}
