package clusters

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/services"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// externalAddresses are what a broker advertises on its loadbalancer and nodeport listeners:
// the load balancer's address once assigned, or the node's address (filled in at start from the
// pod's host IP) with the Service's node port. why says what is still missing.
func (r *Reconciler) externalAddresses(k *v1beta1.Kafka, n nodes.Node) (map[string]kafkaconfig.Address, string) {
	out := map[string]kafkaconfig.Address{}
	if !n.Broker {
		return out, ""
	}
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Type == v1beta1.ListenerIngress {
			host := services.BrokerHost(k.Name, l, n)
			if host == "" {
				return nil, fmt.Sprintf("node %s has no host on ingress listener %s (configuration.hostTemplate or brokers[].host)", n.Name(k.Name), l.Name)
			}
			out[l.Name] = kafkaconfig.Address{Host: host, Port: services.IngressPort}
			continue
		}
		if l.Type != v1beta1.ListenerLoadBalancer && l.Type != v1beta1.ListenerNodePort {
			continue
		}
		override := l.Configuration.AdvertisedHost(n.ID, n.Name(k.Name))
		name := v1beta1.PerBrokerServiceName(k.Name, n.Pool, l.Name, n.ID)
		svc := get[corev1.Service](r.Caches.Services, k.Namespace, name)
		switch l.Type {
		case v1beta1.ListenerLoadBalancer:
			host := override
			if host == "" && svc != nil {
				for _, in := range svc.Status.LoadBalancer.Ingress {
					if host = in.Hostname; host == "" {
						host = in.IP
					}
					break
				}
			}
			if host == "" {
				return nil, fmt.Sprintf("node %s waits for the load balancer address of Service %s", n.Name(k.Name), name)
			}
			out[l.Name] = kafkaconfig.Address{Host: host, Port: l.Port}
		case v1beta1.ListenerNodePort:
			var port int32
			if svc != nil && len(svc.Spec.Ports) > 0 {
				port = svc.Spec.Ports[0].NodePort
			}
			if port == 0 {
				return nil, fmt.Sprintf("node %s waits for the node port of Service %s", n.Name(k.Name), name)
			}
			host := override
			if host == "" {
				host = nodes.NodeHostPlaceholder
			}
			out[l.Name] = kafkaconfig.Address{Host: host, Port: port}
		}
	}
	return out, ""
}

// unsupportedListenerSettings name settings the spec asks for that brokers do not honour yet,
// so that the status says so rather than the cluster silently doing something else.
func unsupportedListenerSettings(k *v1beta1.Kafka) []string {
	var out []string
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Type != v1beta1.ListenerNodePort || l.Configuration == nil {
			continue
		}
		if t := l.Configuration.PreferredNodePortAddressType; t != "" && t != "InternalIP" {
			out = append(out, fmt.Sprintf("listener %s: preferredNodePortAddressType %s is not supported yet: brokers advertise their node's primary address (the pod's hostIP); set configuration.advertisedHostTemplate or brokers[].advertisedHost to advertise another", l.Name, t))
		}
	}
	return out
}
