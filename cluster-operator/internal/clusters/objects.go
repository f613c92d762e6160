package clusters

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/apply"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/policies"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/services"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
)

func ownerRef(k *v1beta1.Kafka) metav1.OwnerReference {
	return ownership.ControllerRef(k, v1beta1.KindKafka)
}

func serviceAccountName(k *v1beta1.Kafka) string { return policies.Name(k.Name) }

// applyClusterObjects applies the objects a cluster has once: the nodes' ServiceAccount, the
// Services, the disruption budget and the network policy; Services of removed listeners or
// brokers are deleted.
func (r *Reconciler) applyClusterObjects(ctx context.Context, k *v1beta1.Kafka, p *plan) error {
	ns := k.Namespace
	sa := policies.ServiceAccount(k)
	if _, err := apply.Apply(ctx, r.Kube.CoreV1().ServiceAccounts(ns), sa, get[corev1.ServiceAccount](r.Caches.ServiceAccounts, ns, sa.Name), r.Opts.FieldManager); err != nil {
		return err
	}
	want := []*corev1.Service{services.Bootstrap(k), services.Brokers(k)}
	for _, l := range k.Spec.Kafka.Listeners {
		if !services.External(l) {
			continue
		}
		want = append(want, services.ListenerBootstrap(k, l))
		for _, n := range p.all {
			if n.Broker {
				want = append(want, services.PerBroker(k, l, n))
			}
		}
	}
	keep := map[string]bool{}
	for _, s := range want {
		keep[s.Name] = true
		if _, err := apply.Apply(ctx, r.Kube.CoreV1().Services(ns), s, get[corev1.Service](r.Caches.Services, ns, s.Name), r.Opts.FieldManager); err != nil {
			return err
		}
	}
	for _, s := range list[corev1.Service](r.Caches.Services, ns, clusterSelector(k.Name)) {
		if !keep[s.Name] && ownership.IsControlledBy(s, k) {
			if err := r.Kube.CoreV1().Services(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting Service %s/%s: %w", ns, s.Name, err)
			}
			klog.FromContext(ctx).Info("Deleted a Service no listener needs", "service", s.Name)
		}
	}
	if err := r.applyIngresses(ctx, k, p); err != nil {
		return err
	}
	pdb := policies.PodDisruptionBudget(k, len(p.all))
	if _, err := apply.Apply(ctx, r.Kube.PolicyV1().PodDisruptionBudgets(ns), pdb, get[policyv1.PodDisruptionBudget](r.Caches.Budgets, ns, pdb.Name), r.Opts.FieldManager); err != nil {
		return err
	}
	np := policies.NetworkPolicy(k)
	_, err := apply.Apply(ctx, r.Kube.NetworkingV1().NetworkPolicies(ns), np, get[networkingv1.NetworkPolicy](r.Caches.NetworkPolicies, ns, np.Name), r.Opts.FieldManager)
	return err
}

// applyIngresses applies the Ingresses of ingress listeners and deletes those no listener needs.
func (r *Reconciler) applyIngresses(ctx context.Context, k *v1beta1.Kafka, p *plan) error {
	ns := k.Namespace
	var want []*networkingv1.Ingress
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Type != v1beta1.ListenerIngress {
			continue
		}
		want = append(want, services.ListenerBootstrapIngress(k, l))
		for _, n := range p.all {
			if n.Broker {
				want = append(want, services.PerBrokerIngress(k, l, n))
			}
		}
	}
	keep := map[string]bool{}
	for _, in := range want {
		keep[in.Name] = true
		if _, err := apply.Apply(ctx, r.Kube.NetworkingV1().Ingresses(ns), in, get[networkingv1.Ingress](r.Caches.Ingresses, ns, in.Name), r.Opts.FieldManager); err != nil {
			return err
		}
	}
	for _, in := range list[networkingv1.Ingress](r.Caches.Ingresses, ns, clusterSelector(k.Name)) {
		if !keep[in.Name] && ownership.IsControlledBy(in, k) {
			if err := r.Kube.NetworkingV1().Ingresses(ns).Delete(ctx, in.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting Ingress %s/%s: %w", ns, in.Name, err)
			}
		}
	}
	return nil
}
