// Package clusterdns is the harness's cluster DNS: it answers Kubernetes' DNS names from the API
// server, as CoreDNS's kubernetes plugin does, for the pods (their /etc/resolv.conf points at it),
// the operators and test clients on this machine, and tools started by hand (the sandbox's
// .sandbox/dns). Names under cluster.local:
//
//   - <service>.<ns>.svc: a headless Service's ready endpoints (with publishNotReadyAddresses,
//     all of them); a ClusterIP Service's ready endpoints as well, since the harness has no
//     kube-proxy to carry its virtual IP;
//   - <hostname>.<service>.<ns>.svc: the endpoint of that Service with that hostname (a pod's
//     hostname and subdomain);
//   - reverse lookups of endpoint addresses, to the first name above that holds them.
//
// Records come from EndpointSlices, which the real kube-controller-manager writes from the pods'
// readiness. Other names get NXDOMAIN: the machines have no upstream resolver to forward to.
package clusterdns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
)

// Domain is the cluster domain.
const Domain = "cluster.local"

// TTL of every answer, in seconds: short, so that a pod's new address is seen soon.
const TTL = 5

// Server is a running DNS server.
type Server struct {
	// Addr is the address it listens on (UDP and TCP).
	Addr string

	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	udp, tcp *dns.Server
}

// Start serves on addr (host:port) until ctx ends.
func Start(ctx context.Context, client kubernetes.Interface, addr string) (*Server, error) {
	factory := kubeinformers.NewSharedInformerFactory(client, 0)
	s := &Server{Addr: addr, services: factory.Core().V1().Services().Lister(),
		slices: factory.Discovery().V1().EndpointSlices().Lister()}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("clusterdns: cache of %v did not sync", typ)
		}
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("clusterdns: %w", err)
	}
	s.Addr = pc.LocalAddr().String() // the port chosen, when addr asks for any
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("clusterdns: %w", err)
	}
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: l, Handler: s}
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	go func() {
		<-ctx.Done()
		_ = s.udp.Shutdown()
		_ = s.tcp.Shutdown()
		factory.Shutdown()
	}()
	return s, nil
}

// ResolvConf is the /etc/resolv.conf of a pod in namespace ns (the kubelet's ClusterFirst).
func (s *Server) ResolvConf(ns string) string {
	host, _, _ := net.SplitHostPort(s.Addr)
	return fmt.Sprintf("nameserver %s\nsearch %s.svc.%s svc.%s %s\noptions ndots:5\n", host, ns, Domain, Domain, Domain)
}

// Resolver is a Go resolver that asks this server, for clients on this machine.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, s.Addr)
	}}
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	switch {
	case q.Qtype == dns.TypePTR:
		host, ok := s.reverse(name)
		if !ok {
			m.Rcode = dns.RcodeNameError
			break
		}
		m.Answer = append(m.Answer, &dns.PTR{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: TTL}, Ptr: host})
	default:
		addrs, ok := s.Lookup(strings.TrimSuffix(name, "."))
		if !ok {
			m.Rcode = dns.RcodeNameError
			break
		}
		for _, a := range addrs {
			switch {
			case a.Is4() && (q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY):
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: TTL}, A: a.AsSlice()})
			case a.Is6() && (q.Qtype == dns.TypeAAAA || q.Qtype == dns.TypeANY):
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: TTL}, AAAA: a.AsSlice()})
			}
		}
	}
	_ = w.WriteMsg(m)
}

// Lookup resolves a cluster name (without the trailing dot) to its addresses; ok is false when
// the name does not exist (an existing Service without ready endpoints has none).
func (s *Server) Lookup(name string) (addrs []netip.Addr, ok bool) {
	rest, found := strings.CutSuffix(name, ".svc."+Domain)
	if !found {
		// <service>.<ns>.svc, as a client outside the cluster writes it (its resolver has not
		// our search list): answered as well.
		if rest, found = strings.CutSuffix(name, ".svc"); !found {
			return nil, false
		}
	}
	parts := strings.Split(rest, ".")
	var hostname, svc, ns string
	switch len(parts) {
	case 2:
		svc, ns = parts[0], parts[1]
	case 3:
		hostname, svc, ns = parts[0], parts[1], parts[2]
	default:
		return nil, false
	}
	service, err := s.services.Services(ns).Get(svc)
	if apierrors.IsNotFound(err) || err != nil {
		return nil, false
	}
	if service.Spec.Type == corev1.ServiceTypeExternalName {
		return nil, false
	}
	found = hostname == ""
	for _, ep := range s.endpoints(ns, svc) {
		if hostname != "" {
			if ep.Hostname == nil || *ep.Hostname != hostname {
				continue
			}
			found = true
		}
		if !ready(ep) && !service.Spec.PublishNotReadyAddresses {
			continue
		}
		for _, a := range ep.Addresses {
			if ip, err := netip.ParseAddr(a); err == nil {
				addrs = append(addrs, ip)
			}
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
	return addrs, found
}

func (s *Server) endpoints(ns, svc string) []discoveryv1.Endpoint {
	list, err := s.slices.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc}))
	if err != nil {
		return nil
	}
	var out []discoveryv1.Endpoint
	for _, sl := range list {
		out = append(out, sl.Endpoints...)
	}
	return out
}

func ready(ep discoveryv1.Endpoint) bool {
	return ep.Conditions.Ready == nil || *ep.Conditions.Ready
}

// reverse answers a PTR question (in-addr.arpa) with an endpoint's name: its pod's
// hostname.subdomain when it has one.
func (s *Server) reverse(name string) (string, bool) {
	rest, ok := strings.CutSuffix(name, ".in-addr.arpa.")
	if !ok {
		return "", false
	}
	oct := strings.Split(rest, ".")
	if len(oct) != 4 {
		return "", false
	}
	ip := oct[3] + "." + oct[2] + "." + oct[1] + "." + oct[0]
	list, err := s.slices.List(labels.Everything())
	if err != nil {
		return "", false
	}
	fallback := ""
	for _, sl := range list {
		svc := sl.Labels[discoveryv1.LabelServiceName]
		for _, ep := range sl.Endpoints {
			if !slices.Contains(ep.Addresses, ip) {
				continue
			}
			if ep.Hostname != nil {
				return fmt.Sprintf("%s.%s.%s.svc.%s.", *ep.Hostname, svc, sl.Namespace, Domain), true
			}
			fallback = fmt.Sprintf("%s.%s.pod.%s.", strings.ReplaceAll(ip, ".", "-"), sl.Namespace, Domain)
		}
	}
	return fallback, fallback != ""
}

// Hosts lists every name this server answers with an address, and its addresses, in the
// /etc/hosts format: for the sandbox's .sandbox/hosts.
func (s *Server) Hosts() string {
	var lines []string
	services, err := s.services.List(labels.Everything())
	if err != nil {
		return ""
	}
	for _, svc := range services {
		base := svc.Name + "." + svc.Namespace + ".svc"
		if addrs, _ := s.Lookup(base + "." + Domain); len(addrs) > 0 {
			lines = append(lines, fmt.Sprintf("%s %s %s", addrs[0], base+"."+Domain, base))
		}
		for _, ep := range s.endpoints(svc.Namespace, svc.Name) {
			if ep.Hostname == nil || len(ep.Addresses) == 0 || (!ready(ep) && !svc.Spec.PublishNotReadyAddresses) {
				continue
			}
			host := *ep.Hostname + "." + base
			lines = append(lines, fmt.Sprintf("%s %s %s", ep.Addresses[0], host+"."+Domain, host))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
