package clusters

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// TestExternalListeners: loadbalancer and nodeport listeners get a bootstrap Service and one per
// broker; a broker starts once its addresses are known and advertises them, its certificate
// covers the load balancer address, and the status names the bootstrap addresses.
func TestExternalListeners(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil
	k.Spec.Kafka.Listeners = append(k.Spec.Kafka.Listeners,
		v1beta1.GenericKafkaListener{Name: "ext", Port: 9094, Type: v1beta1.ListenerLoadBalancer, TLS: true},
		v1beta1.GenericKafkaListener{Name: "np", Port: 9095, Type: v1beta1.ListenerNodePort})
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	broker := e.nodeNames(t, "brokers")[0]
	id := strings.TrimPrefix(broker, "c-brokers-")
	if _, ok := e.pods(t)[broker]; ok {
		t.Fatal("the broker started before its external addresses were known")
	}
	if c := findReady(e.kafka(t)); c == nil || !strings.Contains(c.Message, "waits for the load balancer address of Service c-brokers-ext-"+id) {
		t.Fatalf("condition: %+v", c)
	}
	ctx := context.Background()
	svcs := e.kube.CoreV1().Services(ns)
	for name, typ := range map[string]corev1.ServiceType{"c-kafka-ext-bootstrap": corev1.ServiceTypeLoadBalancer, "c-brokers-ext-" + id: corev1.ServiceTypeLoadBalancer,
		"c-kafka-np-bootstrap": corev1.ServiceTypeNodePort, "c-brokers-np-" + id: corev1.ServiceTypeNodePort} {
		s, err := svcs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Spec.Type != typ {
			t.Errorf("%s is %s, want %s", name, s.Spec.Type, typ)
		}
		// What the cloud and the service controller would fill in.
		if typ == corev1.ServiceTypeLoadBalancer {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113." + map[bool]string{true: "10", false: "11"}[strings.Contains(name, "bootstrap")]}}
			if _, err := svcs.UpdateStatus(ctx, s, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		} else {
			s.Spec.Ports[0].NodePort = 31000
			if _, err := svcs.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(200 * time.Millisecond)
	e.reconcile(t)
	pod, ok := e.pods(t)[broker]
	if !ok {
		t.Fatal("the broker was not created once its addresses were known")
	}
	if !strings.Contains(envNames(pod), "KAFKA_NODE_HOST") {
		t.Error("the broker pod lacks its node address for the nodeport listener")
	}
	cm, _ := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, broker, metav1.GetOptions{})
	props := cm.Data["server.properties"]
	for _, want := range []string{"EXT-9094://203.0.113.11:9094", "NP-9095://${KAFKA_NODE_HOST}:31000"} {
		if !strings.Contains(props, want) {
			t.Errorf("advertised listeners lack %s:\n%s", want, props)
		}
	}
	certs, err := pki.DecodeCerts(e.secretData(t, broker)["node.crt"])
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ip := range certs[0].IPAddresses {
		found = found || ip.Equal(net.ParseIP("203.0.113.11"))
	}
	if !found {
		t.Errorf("the broker certificate lacks the load balancer address: %v", certs[0].IPAddresses)
	}
	e.markReady(t)
	e.reconcile(t)
	var ext *v1beta1.ListenerStatus
	for i, l := range e.kafka(t).Status.Listeners {
		if l.Name == "ext" {
			ext = &e.kafka(t).Status.Listeners[i]
		}
	}
	if ext == nil || ext.BootstrapServers != "203.0.113.10:9094" || len(ext.Certificates) != 1 {
		t.Errorf("ext listener status: %+v", ext)
	}
}

// TestNodePortAdvertisedHostTemplate: a nodeport listener's advertisedHostTemplate is what the
// broker advertises, and its certificate covers it (before, the template was accepted and
// ignored); a preferredNodePortAddressType that is not honoured is named in the status.
func TestNodePortAdvertisedHostTemplate(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil
	k.Spec.Kafka.Listeners = append(k.Spec.Kafka.Listeners, v1beta1.GenericKafkaListener{Name: "np", Port: 9095, Type: v1beta1.ListenerNodePort, TLS: true,
		Configuration: &v1beta1.ListenerConfiguration{AdvertisedHostTemplate: "{nodePodName}.kafka.example.com", PreferredNodePortAddressType: "ExternalIP"}})
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	broker := e.nodeNames(t, "brokers")[0]
	id := strings.TrimPrefix(broker, "c-brokers-")
	ctx := context.Background()
	s, err := e.kube.CoreV1().Services(ns).Get(ctx, "c-brokers-np-"+id, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Spec.Ports[0].NodePort = 31000
	if _, err := e.kube.CoreV1().Services(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.reconcile(t)
	cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, broker, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	host := broker + ".kafka.example.com"
	if want := "NP-9095://" + host + ":31000"; !strings.Contains(cm.Data["server.properties"], want) {
		t.Errorf("advertised listeners lack %s:\n%s", want, cm.Data["server.properties"])
	}
	certs, err := pki.DecodeCerts(e.secretData(t, broker)["node.crt"])
	if err != nil {
		t.Fatal(err)
	}
	if err := certs[0].VerifyHostname(host); err != nil {
		t.Errorf("the broker certificate does not cover its advertised host: %v", err)
	}
	e.markReady(t)
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "preferredNodePortAddressType ExternalIP is not supported yet") {
		t.Errorf("condition: %+v", c)
	}
}

func envNames(p *corev1.Pod) string {
	var out []string
	for _, e := range p.Spec.Containers[0].Env {
		out = append(out, e.Name)
	}
	return strings.Join(out, ",")
}

func TestStorageTypeChangeIsRefused(t *testing.T) {
	e := readyCluster(t)
	patch := []byte(`{"spec":{"storage":{"type":"ephemeral","size":null,"deleteClaim":null}}}`)
	if _, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Patch(context.Background(), "brokers", "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.checker.restart = true
	e.reconcile(t)
	if n := len(e.pods(t)); n != 3 {
		t.Fatalf("%d pods: a node was restarted onto another storage type", n)
	}
	c := findReady(e.kafka(t))
	if c == nil || c.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(c.Message, "changing the storage type is not supported") {
		t.Fatalf("condition: %+v", c)
	}
}

// TestIngressListener: an ingress listener gets ClusterIP Services and Ingresses with TLS
// passthrough for the bootstrap and each broker host; brokers advertise host:443; their
// certificates cover the hosts; the status names the bootstrap host.
func TestIngressListener(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil
	k.Spec.Kafka.Listeners = append(k.Spec.Kafka.Listeners, v1beta1.GenericKafkaListener{Name: "ing", Port: 9096, Type: v1beta1.ListenerIngress, TLS: true,
		Configuration: &v1beta1.ListenerConfiguration{Class: "nginx", HostTemplate: "broker-{nodeId}.kafka.example.com",
			Bootstrap: &v1beta1.ListenerBootstrap{Host: "bootstrap.kafka.example.com"}}})
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	broker := e.nodeNames(t, "brokers")[0]
	id := strings.TrimPrefix(broker, "c-brokers-")
	ctx := context.Background()
	host := "broker-" + id + ".kafka.example.com"
	in, err := e.kube.NetworkingV1().Ingresses(ns).Get(ctx, "c-brokers-ing-"+id, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Spec.Rules[0].Host != host || in.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != "c-brokers-ing-"+id ||
		in.Annotations["nginx.ingress.kubernetes.io/ssl-passthrough"] != "true" || *in.Spec.IngressClassName != "nginx" {
		t.Errorf("broker ingress: %+v", in)
	}
	if _, err := e.kube.NetworkingV1().Ingresses(ns).Get(ctx, "c-kafka-ing-bootstrap", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
	svc, err := e.kube.CoreV1().Services(ns).Get(ctx, "c-brokers-ing-"+id, metav1.GetOptions{})
	if err != nil || svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("broker service: %v %v", err, svc)
	}
	cm, _ := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, broker, metav1.GetOptions{})
	if !strings.Contains(cm.Data["server.properties"], "ING-9096://"+host+":443") {
		t.Errorf("advertised listeners:\n%s", cm.Data["server.properties"])
	}
	certs, _ := pki.DecodeCerts(e.secretData(t, broker)["node.crt"])
	if err := certs[0].VerifyHostname(host); err != nil {
		t.Error(err)
	}
	if err := certs[0].VerifyHostname("bootstrap.kafka.example.com"); err != nil {
		t.Error(err)
	}
	var st *v1beta1.ListenerStatus
	for i, l := range e.kafka(t).Status.Listeners {
		if l.Name == "ing" {
			st = &e.kafka(t).Status.Listeners[i]
		}
	}
	if st == nil || st.BootstrapServers != "bootstrap.kafka.example.com:443" {
		t.Errorf("status: %+v", st)
	}
}

func TestIngressListenerNeedsHosts(t *testing.T) {
	k := testKafka()
	k.Spec.Kafka.Listeners = append(k.Spec.Kafka.Listeners, v1beta1.GenericKafkaListener{Name: "ing", Port: 9096, Type: v1beta1.ListenerIngress})
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	c := findReady(e.kafka(t))
	if c == nil || c.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(c.Message, "needs tls: true") || !strings.Contains(c.Message, "bootstrap.host") {
		t.Fatalf("condition: %+v", c)
	}
}
