package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/e2e/podinit"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// realKafka keeps, for the sandbox's real Kafka clusters, bootstrap.json (by
// namespace/cluster/listener, a broker address this machine reaches: pod IPs are routed to the
// pod bridge) and hosts (every cluster DNS name the cluster DNS answers, in the /etc/hosts
// format, so that a client started by hand follows the brokers' advertised names).
type realKafka struct {
	e                        *env.Env
	kp                       versioned.Interface
	bootstrapJSON, hostsFile string

	mu        sync.Mutex
	bootstrap map[string]string
	hosts     string
}

func (r *realKafka) run(ctx context.Context) {
	for {
		r.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (r *realKafka) refresh(ctx context.Context) {
	ks, err := r.kp.KafkaplaneV1beta1().Kafkas(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	boot := map[string]string{}
	for _, k := range ks.Items {
		name := fmt.Sprintf("%s.%s.svc", v1beta1.BootstrapServiceName(k.Name), k.Namespace)
		addrs, _ := r.e.DNS.Lookup(name)
		if len(addrs) == 0 {
			continue
		}
		for _, l := range k.Spec.Kafka.Listeners {
			boot[k.Namespace+"/"+k.Name+"/"+l.Name] = net.JoinHostPort(addrs[0].String(), strconv.Itoa(int(l.Port)))
		}
	}
	hosts := "# Cluster DNS names of the Kafkaplane sandbox (" + r.e.DNS.Addr + "), kept current.\n" + r.e.DNS.Hosts()
	r.mu.Lock()
	changed := fmt.Sprint(boot) != fmt.Sprint(r.bootstrap)
	hostsChanged := hosts != r.hosts
	r.bootstrap, r.hosts = boot, hosts
	r.mu.Unlock()
	if changed {
		if err := writeJSON(r.bootstrapJSON, boot); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		}
	}
	if hostsChanged {
		if err := os.WriteFile(r.hostsFile, []byte(hosts), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		}
	}
}

func (r *realKafka) snapshot() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.bootstrap {
		out[k] = v
	}
	return out
}

// realWalkthrough does what the README tells a user to do, on real Kafka: with my-user's
// certificate from .sandbox/users and the cluster CA, produce to topic test through the
// bootstrap Service's DNS name (the brokers' advertised names resolved by the cluster DNS) and
// consume it back; then show that a principal of the clients CA without ACLs is refused.
func realWalkthrough(ctx context.Context, e *env.Env, usersDir string) error {
	const ns, cluster, user, topic = "tls-kafka", "my-tls-cluster", "my-user", "test"
	bootstrap := fmt.Sprintf("%s.%s.svc:9093", v1beta1.BootstrapServiceName(cluster), ns)
	dir := filepath.Join(usersDir, ns, user)
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "user.crt"), filepath.Join(dir, "user.key"))
	if err != nil {
		return fmt.Errorf("loading %s's certificate: %w", user, err)
	}
	ca, err := e.Kube.CoreV1().Secrets(ns).Get(ctx, v1beta1.ClusterCACertSecretName(cluster), metav1.GetOptions{})
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.Data["ca.crt"])
	client := func(cert tls.Certificate, opts ...kgo.Opt) (*kgo.Client, error) {
		dialer := &net.Dialer{Resolver: e.DNS.Resolver(), Timeout: 10 * time.Second}
		dial := func(ctx context.Context, network, host string) (net.Conn, error) {
			server, _, _ := strings.Cut(host, ":")
			cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: server}
			return (&tls.Dialer{NetDialer: dialer, Config: cfg}).DialContext(ctx, network, host)
		}
		return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(bootstrap), kgo.Dialer(dial)}, opts...)...)
	}
	cl, err := client(pair, kgo.ConsumeTopics(topic), kgo.ConsumerGroup("my-group-sandbox"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	value := fmt.Sprintf("hello from the sandbox at %s", time.Now().Format(time.RFC3339))
	for {
		err := cl.ProduceSync(pctx, &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr()
		if err == nil {
			break
		}
		if pctx.Err() != nil {
			return fmt.Errorf("producing to %s at %s: %w", topic, bootstrap, err)
		}
		time.Sleep(2 * time.Second) // the user's ACLs may not be in Kafka yet
	}
	found := false
	for !found {
		fs := cl.PollFetches(pctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("consuming from %s: %w", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) { found = found || string(r.Value) == value })
	}
	// Another principal, with a certificate of the same clients CA but no ACLs.
	caCert, err := e.Kube.CoreV1().Secrets(ns).Get(ctx, v1beta1.ClientsCACertSecretName(cluster), metav1.GetOptions{})
	if err != nil {
		return err
	}
	caKey, err := e.Kube.CoreV1().Secrets(ns).Get(ctx, v1beta1.ClientsCAKeySecretName(cluster), metav1.GetOptions{})
	if err != nil {
		return err
	}
	clients, err := pki.LoadCA(pki.CAState{CertData: caCert.Data, KeyData: caKey.Data})
	if err != nil {
		return err
	}
	kp, err := clients.KeyPair.Issue(pki.Leaf{CommonName: "someone-else", Client: true, Validity: time.Hour}, time.Now())
	if err != nil {
		return err
	}
	other, err := client(tls.Certificate{Certificate: [][]byte{kp.Cert.Raw}, PrivateKey: kp.Key}, kgo.RecordRetries(2), kgo.UnknownTopicRetries(2))
	if err != nil {
		return err
	}
	defer other.Close()
	octx, ocancel := context.WithTimeout(ctx, 30*time.Second)
	defer ocancel()
	err = other.ProduceSync(octx, &kgo.Record{Topic: topic, Value: []byte("not allowed")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		return fmt.Errorf("User:CN=someone-else (no ACLs) producing to %s: %v, want TOPIC_AUTHORIZATION_FAILED", topic, err)
	}
	return nil
}

// sortedKeys lists a map's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// startWithClusterDNS starts a process of this machine's network whose resolver is the
// cluster DNS (podinit with a private /etc/resolv.conf).
func startWithClusterDNS(e *env.Env, logs string, args []string) (*localcluster.Process, error) {
	resolv := filepath.Join(logs, "..", "cluster-operator.resolv.conf")
	if err := os.WriteFile(resolv, []byte(e.DNS.ResolvConf("default")), 0o644); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "KAFKAPLANE_WATCH_NAMESPACES=*")
	spec := &podinit.Spec{Mounts: []podinit.Bind{{Source: resolv, Target: "/etc/resolv.conf", ReadOnly: true}}, Env: env, Args: args}
	specFile := filepath.Join(logs, "..", "cluster-operator.podinit.json")
	if err := podinit.Write(specFile, spec); err != nil {
		return nil, err
	}
	return localcluster.StartProcessNS("cluster-operator", logs, env, podinit.Cloneflags, e.Binaries["podinit"], specFile)
}

// memoryReport is the resident memory of the sandbox's Kafka JVMs (by pod) and of every process
// of the sandbox (this one and its children).
func memoryReport() string {
	var parts []string
	var kafka int64
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	total := rss(self)
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil || pid == self || !descends(pid, self) {
			continue
		}
		r := rss(pid)
		total += r
		cmd, _ := os.ReadFile(filepath.Join("/proc", en.Name(), "cmdline"))
		if strings.Contains(string(cmd), "kafka.Kafka") {
			kafka += r
			env, _ := os.ReadFile(filepath.Join("/proc", en.Name(), "environ"))
			host := "?"
			for _, kv := range strings.Split(string(env), "\x00") {
				if v, ok := strings.CutPrefix(kv, "HOSTNAME="); ok {
					host = v
				}
			}
			parts = append(parts, fmt.Sprintf("%s %d MiB", host, r>>20))
		}
	}
	sort.Strings(parts)
	return fmt.Sprintf("Kafka JVMs %d MiB (%s); the whole sandbox %d MiB", kafka>>20, strings.Join(parts, ", "), total>>20)
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// descends reports whether pid is a descendant of ancestor.
func descends(pid, ancestor int) bool {
	for i := 0; i < 64 && pid > 1; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		// The parent is the 4th field, after the command in parentheses.
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			return false
		}
		pid, _ = strconv.Atoi(f[1])
		if pid == ancestor {
			return true
		}
	}
	return false
}
