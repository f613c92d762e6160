// Package policies builds what protects a cluster's nodes: the PodDisruptionBudget that lets
// voluntary evictions take one node at a time, the NetworkPolicy that opens the operator ports to
// the cluster's own pods and operators only, and the nodes' ServiceAccount (no API access).
package policies

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
)

// Name of the nodes' ServiceAccount and PodDisruptionBudget.
func Name(cluster string) string { return cluster + "-kafka" }

// NetworkPolicyName is the name of the nodes' NetworkPolicy.
func NetworkPolicyName(cluster string) string { return cluster + "-network-policy-kafka" }

func meta(k *v1beta1.Kafka, name string, t *v1beta1.MetadataTemplate) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name, Namespace: k.Namespace,
		Labels:          ownership.Labels(k.Name, v1beta1.KindKafka, k.Name, nodes.Component),
		OwnerReferences: []metav1.OwnerReference{ownership.ControllerRef(k, v1beta1.KindKafka)}}
	if t != nil {
		for key, v := range t.Labels {
			if _, ours := m.Labels[key]; !ours {
				m.Labels[key] = v
			}
		}
		m.Annotations = t.Annotations
	}
	return m
}

// ServiceAccount is the nodes' ServiceAccount. Kafka needs no Kubernetes API access: pods do not
// mount its token.
func ServiceAccount(k *v1beta1.Kafka) *corev1.ServiceAccount {
	var t *v1beta1.MetadataTemplate
	if k.Spec.Kafka.Template != nil && k.Spec.Kafka.Template.ServiceAccount != nil {
		t = k.Spec.Kafka.Template.ServiceAccount.Metadata
	}
	return &corev1.ServiceAccount{ObjectMeta: meta(k, Name(k.Name), t), AutomountServiceAccountToken: ptr.To(false)}
}

// PodDisruptionBudget lets voluntary disruptions (node drains) take one node at a time, or the
// template's maxUnavailable. It is written as minAvailable (nodes - maxUnavailable): the pods'
// controller is a Kafka, which has no scale subresource for the disruption controller to read.
// The operator's own rolls go through its Kafka-aware checks instead.
func PodDisruptionBudget(k *v1beta1.Kafka, nodeCount int) *policyv1.PodDisruptionBudget {
	maxUnavailable := int32(1)
	var mt *v1beta1.MetadataTemplate
	if t := k.Spec.Kafka.Template; t != nil && t.PodDisruptionBudget != nil {
		mt = t.PodDisruptionBudget.Metadata
		if t.PodDisruptionBudget.MaxUnavailable != nil {
			maxUnavailable = *t.PodDisruptionBudget.MaxUnavailable
		}
	}
	minAvailable := intstr.FromInt32(max(int32(nodeCount)-maxUnavailable, 0))
	return &policyv1.PodDisruptionBudget{ObjectMeta: meta(k, Name(k.Name), mt),
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable,
			Selector: &metav1.LabelSelector{MatchLabels: nodes.Selector(k.Name)}}}
}

// OperatorPeers are the pods allowed on the operator ports besides the nodes: the cluster
// operator (any namespace) and this cluster's entity operators.
func OperatorPeers(cluster string) []networkingv1.NetworkPolicyPeer {
	return []networkingv1.NetworkPolicyPeer{
		{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{v1beta1.LabelAppName: v1beta1.BinaryClusterOperator}},
			NamespaceSelector: &metav1.LabelSelector{}},
		{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{v1beta1.LabelCluster: cluster, v1beta1.LabelAppName: v1beta1.BinaryTopicOperator}}},
		{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{v1beta1.LabelCluster: cluster, v1beta1.LabelAppName: v1beta1.BinaryUserOperator}}},
	}
}

// NetworkPolicy allows: the quorum port from the cluster's nodes; the replication port from the
// nodes and the operators; each listener from its networkPolicyPeers (everyone when none); the
// metrics port from everyone.
func NetworkPolicy(k *v1beta1.Kafka) *networkingv1.NetworkPolicy {
	nodesPeer := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: nodes.Selector(k.Name)}}
	tcp := corev1.ProtocolTCP
	rule := func(p int32, from []networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicyIngressRule {
		port := intstr.FromInt32(p)
		return networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}, From: from}
	}
	rules := []networkingv1.NetworkPolicyIngressRule{
		rule(v1beta1.PortControlPlane, []networkingv1.NetworkPolicyPeer{nodesPeer}),
		rule(v1beta1.PortReplication, append([]networkingv1.NetworkPolicyPeer{nodesPeer}, OperatorPeers(k.Name)...)),
	}
	for _, l := range k.Spec.Kafka.Listeners {
		rules = append(rules, rule(l.Port, l.NetworkPolicyPeers))
	}
	rules = append(rules, rule(v1beta1.PortMetrics, nil))
	return &networkingv1.NetworkPolicy{ObjectMeta: meta(k, NetworkPolicyName(k.Name), nil),
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: nodes.Selector(k.Name)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, Ingress: rules}}
}
