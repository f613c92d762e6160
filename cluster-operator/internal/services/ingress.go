package services

import (
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
)

// IngressPort is where clients reach an ingress listener: the ingress controller's TLS port.
const IngressPort = 443

// Ingress listeners rely on TLS passthrough (Kafka is not HTTP): these are ingress-nginx's
// annotations for it, as Strimzi uses; other controllers need their equivalent in the
// listener's bootstrap/broker annotations.
var passthrough = map[string]string{
	"nginx.ingress.kubernetes.io/ssl-passthrough":  "true",
	"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
}

// BrokerHost is a broker's host on an ingress listener: its override, else the host template
// with {nodeId} and {nodePodName} filled in; "" when neither is set.
func BrokerHost(cluster string, l v1beta1.GenericKafkaListener, n nodes.Node) string {
	c := l.Configuration
	if c == nil {
		return ""
	}
	for _, b := range c.Brokers {
		if b.Broker == n.ID && b.Host != "" {
			return b.Host
		}
	}
	if c.HostTemplate == "" {
		return ""
	}
	return strings.NewReplacer("{nodeId}", strconv.Itoa(int(n.ID)), "{nodePodName}", n.Name(cluster)).Replace(c.HostTemplate)
}

// BootstrapHost is an ingress listener's bootstrap host.
func BootstrapHost(l v1beta1.GenericKafkaListener) string {
	if l.Configuration == nil || l.Configuration.Bootstrap == nil {
		return ""
	}
	return l.Configuration.Bootstrap.Host
}

func ingress(k *v1beta1.Kafka, l v1beta1.GenericKafkaListener, name, host, service string, t *v1beta1.ResourceTemplate, ann, labels map[string]string) *networkingv1.Ingress {
	m := metav1.ObjectMeta{Name: name, Namespace: k.Namespace,
		Labels:          ownership.Labels(k.Name, v1beta1.KindKafka, k.Name, nodes.Component),
		Annotations:     overlay(passthrough, ann),
		OwnerReferences: []metav1.OwnerReference{ownership.ControllerRef(k, v1beta1.KindKafka)}}
	if t != nil && t.Metadata != nil {
		m.Labels = overlay(t.Metadata.Labels, m.Labels)
		m.Annotations = overlay(t.Metadata.Annotations, m.Annotations)
	}
	m.Labels = overlay(labels, m.Labels)
	pathType := networkingv1.PathTypePrefix
	in := &networkingv1.Ingress{ObjectMeta: m, Spec: networkingv1.IngressSpec{
		TLS: []networkingv1.IngressTLS{{Hosts: []string{host}}},
		Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pathType, Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Number: l.Port}}}}}}}}},
	}}
	if l.Configuration != nil && l.Configuration.Class != "" {
		in.Spec.IngressClassName = &l.Configuration.Class
	}
	return in
}

// ListenerBootstrapIngress routes an ingress listener's bootstrap host to its bootstrap Service.
func ListenerBootstrapIngress(k *v1beta1.Kafka, l v1beta1.GenericKafkaListener) *networkingv1.Ingress {
	var t *v1beta1.ResourceTemplate
	if k.Spec.Kafka.Template != nil {
		t = k.Spec.Kafka.Template.ExternalBootstrapIngress
	}
	var b v1beta1.ListenerBootstrap
	if l.Configuration != nil && l.Configuration.Bootstrap != nil {
		b = *l.Configuration.Bootstrap
	}
	name := v1beta1.ListenerBootstrapServiceName(k.Name, l.Name)
	return ingress(k, l, name, BootstrapHost(l), name, t, b.Annotations, b.Labels)
}

// PerBrokerIngress routes a broker's host to its Service.
func PerBrokerIngress(k *v1beta1.Kafka, l v1beta1.GenericKafkaListener, n nodes.Node) *networkingv1.Ingress {
	var t *v1beta1.ResourceTemplate
	if k.Spec.Kafka.Template != nil {
		t = k.Spec.Kafka.Template.PerPodIngress
	}
	var o v1beta1.ListenerBrokerOverride
	if l.Configuration != nil {
		for _, b := range l.Configuration.Brokers {
			if b.Broker == n.ID {
				o = b
			}
		}
	}
	name := v1beta1.PerBrokerServiceName(k.Name, n.Pool, l.Name, n.ID)
	return ingress(k, l, name, BrokerHost(k.Name, l, n), name, t, o.Annotations, o.Labels)
}
