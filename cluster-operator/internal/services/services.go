// Package services builds a Kafka cluster's Services: the bootstrap Service (a port per internal
// listener and the operators' replication port), the headless Service that gives every node a
// DNS name, and for cluster-ip, nodeport, loadbalancer and ingress listeners a bootstrap Service
// and one Service per broker (ingress listeners also get an Ingress for each).
package services

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
)

// External reports whether a listener has its own Services.
func External(l v1beta1.GenericKafkaListener) bool {
	switch l.Type {
	case v1beta1.ListenerClusterIP, v1beta1.ListenerNodePort, v1beta1.ListenerLoadBalancer, v1beta1.ListenerIngress:
		return true
	}
	return false
}

func meta(k *v1beta1.Kafka, name string, t *v1beta1.ServiceTemplate) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name, Namespace: k.Namespace,
		Labels:          ownership.Labels(k.Name, v1beta1.KindKafka, k.Name, nodes.Component),
		OwnerReferences: []metav1.OwnerReference{ownership.ControllerRef(k, v1beta1.KindKafka)}}
	if t != nil && t.Metadata != nil {
		m.Labels = overlay(t.Metadata.Labels, m.Labels)
		m.Annotations = overlay(t.Metadata.Annotations, nil)
	}
	return m
}

func port(name string, p int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: corev1.ProtocolTCP, Port: p, TargetPort: intstr.FromInt32(p)}
}

func template(k *v1beta1.Kafka, pick func(*v1beta1.KafkaClusterTemplate) *v1beta1.ServiceTemplate) *v1beta1.ServiceTemplate {
	if k.Spec.Kafka.Template == nil {
		return nil
	}
	return pick(k.Spec.Kafka.Template)
}

func families(s *corev1.ServiceSpec, t *v1beta1.ServiceTemplate) {
	if t != nil {
		s.IPFamilyPolicy, s.IPFamilies = t.IPFamilyPolicy, t.IPFamilies
	}
}

// Bootstrap is <cluster>-kafka-bootstrap: a ClusterIP Service over the brokers with the
// replication port (the operators' admin traffic) and a port per internal listener.
func Bootstrap(k *v1beta1.Kafka) *corev1.Service {
	t := template(k, func(t *v1beta1.KafkaClusterTemplate) *v1beta1.ServiceTemplate { return t.BootstrapService })
	s := &corev1.Service{ObjectMeta: meta(k, v1beta1.BootstrapServiceName(k.Name), t),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: nodes.BrokerSelector(k.Name),
			Ports: []corev1.ServicePort{port("tcp-replication", v1beta1.PortReplication)}}}
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Type == v1beta1.ListenerInternal {
			s.Spec.Ports = append(s.Spec.Ports, port(nodes.PortName(l), l.Port))
		}
	}
	families(&s.Spec, t)
	return s
}

// Brokers is <cluster>-kafka-brokers: headless, over every node, publishing addresses before
// the nodes are ready — nodes must find each other to become ready.
func Brokers(k *v1beta1.Kafka) *corev1.Service {
	t := template(k, func(t *v1beta1.KafkaClusterTemplate) *v1beta1.ServiceTemplate { return t.BrokersService })
	s := &corev1.Service{ObjectMeta: meta(k, v1beta1.BrokersServiceName(k.Name), t),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: corev1.ClusterIPNone,
			PublishNotReadyAddresses: true, Selector: nodes.Selector(k.Name),
			Ports: []corev1.ServicePort{port("tcp-ctrlplane", v1beta1.PortControlPlane), port("tcp-replication", v1beta1.PortReplication)}}}
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Type == v1beta1.ListenerInternal {
			s.Spec.Ports = append(s.Spec.Ports, port(nodes.PortName(l), l.Port))
		}
	}
	families(&s.Spec, t)
	return s
}

func serviceType(l v1beta1.GenericKafkaListener) corev1.ServiceType {
	switch l.Type {
	case v1beta1.ListenerNodePort:
		return corev1.ServiceTypeNodePort
	case v1beta1.ListenerLoadBalancer:
		return corev1.ServiceTypeLoadBalancer
	}
	return corev1.ServiceTypeClusterIP
}

func external(s *corev1.Service, l v1beta1.GenericKafkaListener, nodePort *int32, lbIP string, ann, labels map[string]string) {
	s.Spec.Type = serviceType(l)
	p := port(nodes.PortName(l), l.Port)
	if nodePort != nil && l.Type == v1beta1.ListenerNodePort {
		p.NodePort = *nodePort
	}
	s.Spec.Ports = []corev1.ServicePort{p}
	if c := l.Configuration; c != nil && (l.Type == v1beta1.ListenerNodePort || l.Type == v1beta1.ListenerLoadBalancer) {
		if c.ExternalTrafficPolicy != "" {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicy(c.ExternalTrafficPolicy)
		}
		if l.Type == v1beta1.ListenerLoadBalancer {
			s.Spec.LoadBalancerSourceRanges = c.LoadBalancerSourceRanges
			if c.Class != "" {
				s.Spec.LoadBalancerClass = &c.Class
			}
		}
		s.Spec.PublishNotReadyAddresses = c.PublishNotReadyAddresses
	}
	if lbIP != "" && l.Type == v1beta1.ListenerLoadBalancer {
		s.Spec.LoadBalancerIP = lbIP //nolint:staticcheck // still the only portable way to ask for an address
	}
	s.Annotations = overlay(s.Annotations, ann)
	s.Labels = overlay(labels, s.Labels)
}

// ListenerBootstrap is an external listener's bootstrap Service, over the brokers.
func ListenerBootstrap(k *v1beta1.Kafka, l v1beta1.GenericKafkaListener) *corev1.Service {
	t := template(k, func(t *v1beta1.KafkaClusterTemplate) *v1beta1.ServiceTemplate { return t.ExternalBootstrapService })
	s := &corev1.Service{ObjectMeta: meta(k, v1beta1.ListenerBootstrapServiceName(k.Name, l.Name), t),
		Spec: corev1.ServiceSpec{Selector: nodes.BrokerSelector(k.Name)}}
	var b v1beta1.ListenerBootstrap
	if l.Configuration != nil && l.Configuration.Bootstrap != nil {
		b = *l.Configuration.Bootstrap
	}
	external(s, l, b.NodePort, b.LoadBalancerIP, b.Annotations, b.Labels)
	families(&s.Spec, t)
	return s
}

// PerBroker is an external listener's Service for one broker, selecting its pod by name.
func PerBroker(k *v1beta1.Kafka, l v1beta1.GenericKafkaListener, n nodes.Node) *corev1.Service {
	t := template(k, func(t *v1beta1.KafkaClusterTemplate) *v1beta1.ServiceTemplate { return t.PerPodService })
	if n.PoolSpec.Spec.Template != nil && n.PoolSpec.Spec.Template.PerPodService != nil {
		t = n.PoolSpec.Spec.Template.PerPodService
	}
	s := &corev1.Service{ObjectMeta: meta(k, v1beta1.PerBrokerServiceName(k.Name, n.Pool, l.Name, n.ID), t),
		Spec: corev1.ServiceSpec{Selector: map[string]string{v1beta1.LabelPodName: n.Name(k.Name)}}}
	var o v1beta1.ListenerBrokerOverride
	if l.Configuration != nil {
		for _, b := range l.Configuration.Brokers {
			if b.Broker == n.ID {
				o = b
			}
		}
	}
	external(s, l, o.NodePort, o.LoadBalancerIP, o.Annotations, o.Labels)
	families(&s.Spec, t)
	return s
}

func overlay(base, over map[string]string) map[string]string {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
