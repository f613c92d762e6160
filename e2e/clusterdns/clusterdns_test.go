package clusterdns

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func slice(ns, svc string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: svc + "-x", Namespace: ns,
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}}, AddressType: discoveryv1.AddressTypeIPv4, Endpoints: eps}
}

func ep(host, ip string, ready bool) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}
	if host != "" {
		e.Hostname = ptr.To(host)
	}
	return e
}

// Service and pod names resolve from EndpointSlices, through a real resolver talking to the
// server over UDP: ready endpoints only, unless the Service publishes not-ready addresses; a
// pod's hostname.subdomain whatever its readiness there; unknown names do not exist.
func TestLookups(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "c-kafka-bootstrap", Namespace: "ns"}, Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "c-kafka-brokers", Namespace: "ns"}, Spec: corev1.ServiceSpec{ClusterIP: "None", PublishNotReadyAddresses: true}},
		slice("ns", "c-kafka-bootstrap", ep("", "10.200.0.3", true), ep("", "10.200.0.4", false)),
		slice("ns", "c-kafka-brokers", ep("c-brokers-0", "10.200.0.3", true), ep("c-brokers-1", "10.200.0.4", false)),
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Start(ctx, client, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := s.Resolver()
	for name, want := range map[string][]string{
		"c-kafka-bootstrap.ns.svc.cluster.local":           {"10.200.0.3"},
		"c-kafka-bootstrap.ns.svc":                         {"10.200.0.3"},
		"c-kafka-brokers.ns.svc.cluster.local":             {"10.200.0.3", "10.200.0.4"},
		"c-brokers-1.c-kafka-brokers.ns.svc.cluster.local": {"10.200.0.4"},
		"c-brokers-0.c-kafka-brokers.ns.svc":               {"10.200.0.3"},
	} {
		got, err := r.LookupHost(ctx, name)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s = %v, %v; want %v", name, got, err, want)
		}
	}
	for _, name := range []string{"nothing.ns.svc.cluster.local", "c-brokers-9.c-kafka-brokers.ns.svc.cluster.local", "example.com"} {
		if got, err := r.LookupHost(ctx, name); err == nil {
			t.Errorf("%s = %v, want no such host", name, got)
		} else if dnsErr, ok := err.(*net.DNSError); !ok || !dnsErr.IsNotFound {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
	if names, err := r.LookupAddr(ctx, "10.200.0.4"); err != nil || len(names) == 0 || !strings.HasSuffix(names[0], ".svc.cluster.local.") {
		t.Errorf("reverse 10.200.0.4 = %v, %v", names, err)
	}
	if h := s.Hosts(); !strings.Contains(h, "10.200.0.3 c-kafka-bootstrap.ns.svc.cluster.local c-kafka-bootstrap.ns.svc") ||
		!strings.Contains(h, "10.200.0.4 c-brokers-1.c-kafka-brokers.ns.svc.cluster.local") {
		t.Errorf("hosts:\n%s", h)
	}
	if rc := s.ResolvConf("ns"); !strings.Contains(rc, "search ns.svc.cluster.local svc.cluster.local cluster.local") {
		t.Errorf("resolv.conf:\n%s", rc)
	}
}
