package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/e2e/podinit"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// realClusterYAML is the README's example cluster (deploy/examples/tls-cluster.yaml: 3
// controllers, 3 brokers, a TLS listener with mTLS, simple authorization, rack awareness, the
// entity operators, metrics from the example's ConfigMap kafka-metrics) with smaller memory limits, so that six JVMs fit a 2-core CI machine, plus
// a second mTLS listener serving a certificate of the user's own (brokerCertChainAndKey), topics and users.
const realClusterYAML = `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata: {name: controllers, labels: {kafkaplane.io/cluster: c}}
spec:
  replicas: 3
  roles: [controller]
  storage: {type: persistent-claim, size: 1Gi, deleteClaim: true}
  resources: {requests: {cpu: 100m, memory: 640Mi}, limits: {memory: 640Mi}}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata: {name: brokers, labels: {kafkaplane.io/cluster: c}}
spec:
  replicas: 3
  roles: [broker]
  storage:
    type: jbod
    volumes: [{id: 0, type: persistent-claim, size: 2Gi, deleteClaim: true, kraftMetadata: shared}]
  resources: {requests: {cpu: 100m, memory: 768Mi}, limits: {memory: 768Mi}}
---
apiVersion: kafkaplane.io/v1beta1
kind: Kafka
metadata: {name: c}
spec:
  kafka:
    version: 4.1.1
    listeners:
      - {name: tls, port: 9093, type: internal, tls: true, authentication: {type: tls}}
      - name: external
        port: 9094
        type: internal
        tls: true
        authentication: {type: tls}
        configuration: {brokerCertChainAndKey: {secretName: c-external-cert, certificate: tls.crt, key: tls.key}}
      - name: managed
        port: 9095
        type: internal
        tls: true
        authentication: {type: tls}
        configuration: {certManager: {issuerRef: {name: kafka-issuer}}}
    authorization: {type: simple}
    config:
      offsets.topic.replication.factor: 3
      transaction.state.log.replication.factor: 3
      transaction.state.log.min.isr: 2
      default.replication.factor: 3
      min.insync.replicas: 2
    rack: {topologyKey: topology.kubernetes.io/zone}
    metricsConfig:
      type: jmxPrometheusExporter
      valueFrom: {configMapKeyRef: {name: kafka-metrics, key: kafka-metrics-config.yml}}
  entityOperator:
    topicOperator: {}
    userOperator: {}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaTopic
metadata: {name: orders, labels: {kafkaplane.io/cluster: c}}
spec: {partitions: 3, replicas: 3, config: {min.insync.replicas: 2}}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaTopic
metadata: {name: rolling, labels: {kafkaplane.io/cluster: c}}
spec: {partitions: 3, replicas: 3, config: {min.insync.replicas: 2}}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaUser
metadata: {name: app, labels: {kafkaplane.io/cluster: c}}
spec:
  authentication: {type: tls}
  authorization:
    type: simple
    acls:
      - {resource: {type: topic, name: rolling}, operations: [Describe, Read, Write]}
      - {resource: {type: group, name: app, patternType: prefix}, operations: [Read]}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaUser
metadata: {name: my-user, labels: {kafkaplane.io/cluster: c}}
spec:
  authentication: {type: tls}
  authorization:
    type: simple
    acls:
      - {resource: {type: topic, name: orders}, operations: [Describe, Read, Write]}
      - {resource: {type: group, name: my-group, patternType: prefix}, operations: [Read]}
`

// startClusterOperatorDNS runs the cluster operator as the tests do, but resolving cluster names
// through the cluster DNS (its own /etc/resolv.conf in a mount namespace of its own), as it
// would in a pod: no bootstrap overrides.
func startClusterOperatorDNS(t *testing.T, f *framework.Framework, ns string, extra ...string) *localcluster.Process {
	t.Helper()
	dir, bins, kc := localOperators(t, f)
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte(fmt.Sprintf("nameserver %s\nsearch %s.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
		strings.Split(f.DNSAddr(), ":")[0], ns)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{bins["cluster-operator"], "--kubeconfig=" + kc, "--watch-namespaces=" + ns, "--leader-elect=false", "--log-level=DEBUG",
		fmt.Sprintf("--http-address=127.0.0.1:%d", port), "--resync-period=5s"}, extra...)
	spec := &podinit.Spec{Mounts: []podinit.Bind{{Source: resolv, Target: "/etc/resolv.conf", ReadOnly: true}},
		Env: os.Environ(), Args: args}
	specFile := filepath.Join(dir, "podinit.json")
	if err := podinit.Write(specFile, spec); err != nil {
		t.Fatal(err)
	}
	p, err := localcluster.StartProcessNS("cluster-operator", dir, os.Environ(), podinit.Cloneflags, f.Podinit(), specFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop(10 * time.Second)
		if t.Failed() || os.Getenv("SHOW_OPERATOR_LOG") != "" {
			b, _ := os.ReadFile(p.LogFile)
			t.Logf("cluster-operator log:\n%s", tail(string(b), 12000))
		}
	})
	return p
}

// realKafkaClient is a client of a real cluster's listener at host:port (a cluster name,
// resolved by the cluster DNS, as are the brokers' advertised names) over TLS with the given
// client certificate, trusting the cluster CA.
func realKafkaClient(t *testing.T, f *framework.Framework, ns, cluster, hostPort string, cert tls.Certificate, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	caSecret, err := f.Kube.CoreV1().Secrets(ns).Get(t.Context(), v1beta1.ClusterCACertSecretName(cluster), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caSecret.Data["ca.crt"]) {
		t.Fatal("no cluster CA certificate")
	}
	d := &tls.Dialer{NetDialer: f.Dialer(), Config: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	dial := func(ctx context.Context, network, host string) (net.Conn, error) {
		cfg := d.Config.Clone()
		cfg.ServerName, _, _ = strings.Cut(host, ":")
		return (&tls.Dialer{NetDialer: d.NetDialer, Config: cfg}).DialContext(ctx, network, host)
	}
	// A broker that has just become ready on a loaded machine (a cold make test builds images
	// beside it) took more than kgo's 10 s to answer a first TLS handshake: the test waits
	// longer, as a client would retry; what is asserted is Kafka's behaviour, not its latency.
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(hostPort), kgo.Dialer(dial),
		kgo.DialTimeout(30 * time.Second), kgo.RequestTimeoutOverhead(30 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// operatorCert is a client certificate for the cluster operator's principal (a super user),
// issued here from the cluster CA's key: the test's admin access on the replication listener.
func operatorCert(t *testing.T, f *framework.Framework, ns, cluster string) tls.Certificate {
	t.Helper()
	cert, err := f.Kube.CoreV1().Secrets(ns).Get(t.Context(), v1beta1.ClusterCACertSecretName(cluster), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := f.Kube.CoreV1().Secrets(ns).Get(t.Context(), v1beta1.ClusterCAKeySecretName(cluster), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadCA(pki.CAState{CertData: cert.Data, KeyData: key.Data})
	if err != nil {
		t.Fatal(err)
	}
	return issued(t, ca, cluster+"-cluster-operator", "kafkaplane.io")
}

func issued(t *testing.T, ca *pki.CA, cn, org string) tls.Certificate {
	t.Helper()
	kp, err := ca.KeyPair.Issue(pki.Leaf{CommonName: cn, Organization: org, Client: true, Validity: 24 * time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{kp.Cert.Raw}, PrivateKey: kp.Key, Leaf: kp.Cert}
}

// readyAfterRoll bounds a wait for Ready after a change that rolls the nodes: up to 8 real
// JVMs one at a time, each down for 30–60 s on a loaded 2-core machine (a CI run timed out at 3
// min with two brokers still to restart after the quorum grew to 5).
const readyAfterRoll = 8 * time.Minute

// waitKafkaReady waits until the Kafka is Ready for its generation.
func waitKafkaReady(t *testing.T, f *framework.Framework, ns, name string, timeout time.Duration) {
	t.Helper()
	framework.Eventually(t, timeout, "Kafka "+name+" to be Ready", kafkaReady(t, f, ns, name))
}

// TestRealKafkaExampleCluster runs the example cluster's six pods as real Kafka JVMs, each in
// its own network and mount namespace, found through the cluster DNS; the cluster operator,
// and the topic and user operators it deploys, reach it by its Service names. Checked against
// what Kafka itself reports: the quorum has 3 voters with their directory IDs, 3 brokers are
// registered, the KafkaTopic is a topic with 3 partitions of 3 in-sync replicas; my-user's
// certificate produces and consumes under its ACLs; a principal without ACLs is refused, and so
// is my-user once its ACL is gone from the spec.
//
// Then, on the same cluster, each step checked against Kafka (subtests, in order; a failed step
// ends the test): see the subtests' functions.
func TestRealKafkaExampleCluster(t *testing.T) {
	f := framework.Get(t)
	ns := f.RealKafkaNamespace(t)
	start := time.Now()
	if _, err := f.Kube.CoreV1().ConfigMaps(ns).Create(t.Context(), exampleMetricsConfigMap(t, ns), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	userCA := externalListenerSecret(t, f, ns)
	startCertManager(t, f)
	issuerCA := certManagerIssuer(t, f, ns)
	if _, err := f.Apply(t.Context(), ns, []byte(realClusterYAML)); err != nil {
		t.Fatal(err)
	}
	// Started by the parent test, so that it runs through every step; Prometheus scrapes it.
	coPort, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	coAddr := fmt.Sprintf("127.0.0.1:%d", coPort)
	startClusterOperatorDNS(t, f, ns, "--http-address="+coAddr)
	if !t.Run("forms and enforces ACLs", func(t *testing.T) { exampleClusterForms(t, f, ns, start) }) {
		return
	}
	if !t.Run("a listener serves the user's own certificate", func(t *testing.T) { listenerServesOwnCert(t, f, ns, userCA.Cert) }) {
		return
	}
	if !t.Run("a renewed listener certificate is served without a restart", func(t *testing.T) { listenerCertRenewed(t, f, ns, userCA) }) {
		return
	}
	if !t.Run("cert-manager issues a listener's certificate and its renewal is served without a restart", func(t *testing.T) {
		certManagerListener(t, f, ns, issuerCA)
	}) {
		return
	}
	if !t.Run("every node serves Prometheus metrics", func(t *testing.T) { nodesServeMetrics(t, f, ns) }) {
		return
	}
	prom := startPrometheus(t, f, ns, coAddr)
	if !t.Run("a real Prometheus: every dashboard query and alert has data", func(t *testing.T) { liveQueries(t, prom) }) {
		return
	}
	if !t.Run("a broker cut off fires the alerts", func(t *testing.T) { brokerCutFiresAlerts(t, f, ns, prom) }) {
		return
	}
	if !t.Run("logger levels changed without a restart", func(t *testing.T) { loggingWithoutRestart(t, f, ns) }) {
		return
	}
	if !t.Run("rolling restart under acks=all traffic", func(t *testing.T) { rollingRestart(t, f, ns) }) {
		return
	}
	if !t.Run("cluster CA key replaced under reconnecting clients", func(t *testing.T) { clusterCAKeyReplaced(t, f, ns) }) {
		return
	}
	if !t.Run("a controller loses its disk", func(t *testing.T) { controllerLosesDisk(t, f, ns) }) {
		return
	}
	// A broker removed by a scale-down is unregistered from Kafka: before the operator did so,
	// Kafka 4.4.0 refused every metadata.version above 4.1.1's after it (INVALID_UPDATE_VERSION).
	if !t.Run("broker scale-down and replication factor", func(t *testing.T) { brokerScaleDownAndRF(t, f, ns) }) {
		return
	}
	// The quorum changes after the upgrade: a removed controller's registration stays in
	// Kafka before 4.4 (UnregisterController needs metadata.version 4.4-IV2), and Kafka then
	// refuses to raise metadata.version past what it supported.
	if !t.Run("upgrade 4.1.1 to 4.4.0", func(t *testing.T) { upgrade(t, f, ns) }) {
		return
	}
	if !t.Run("controller quorum 3 to 5 to 3", func(t *testing.T) { quorumScale(t, f, ns) }) {
		return
	}
	if !t.Run("a broker cut off mid topic batch", func(t *testing.T) { brokerCutMidTopicBatch(t, f, ns) }) {
		return
	}
	if !t.Run("Prometheus still scrapes every node", func(t *testing.T) { stillScraped(t, prom, 6) }) {
		return
	}
}

func exampleClusterForms(t *testing.T, f *framework.Framework, ns string, start time.Time) {
	ctx := t.Context()
	waitKafkaReady(t, f, ns, "c", 10*time.Minute)
	t.Logf("the example cluster was Ready %s after apply", time.Since(start).Round(time.Second))
	pods, err := f.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "kafkaplane.io/cluster=c,kafkaplane.io/kind=Kafka"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		t.Logf("pod %s ip %s restarts %d", p.Name, p.Status.PodIP, restarts(p))
	}

	admin := realKafkaClient(t, f, ns, "c", "c-kafka-bootstrap."+ns+".svc:9091", operatorCert(t, f, ns, "c"))
	adm := kadm.NewClient(admin)
	// The quorum: 3 voters, each with a directory ID, one leader.
	req := kmsg.NewPtrDescribeQuorumRequest()
	qt := kmsg.NewDescribeQuorumRequestTopic()
	qt.Topic = "__cluster_metadata"
	qt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, qt)
	resp, err := req.RequestWith(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("DescribeQuorum: %+v", resp)
	}
	qp := resp.Topics[0].Partitions[0]
	var voters []int32
	for _, v := range qp.CurrentVoters {
		voters = append(voters, v.ReplicaID)
		if v.ReplicaDirectoryID == [16]byte{} {
			t.Errorf("voter %d has no directory ID", v.ReplicaID)
		}
	}
	slices.Sort(voters)
	if len(voters) != 3 || !slices.Contains(voters, qp.LeaderID) {
		t.Fatalf("quorum voters %v leader %d, want 3 voters and a leader among them", voters, qp.LeaderID)
	}
	t.Logf("quorum: voters %v, leader %d, high watermark %d", voters, qp.LeaderID, qp.HighWatermark)
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(brokers) != 3 {
		t.Fatalf("brokers %v, want 3", brokers.NodeIDs())
	}
	for _, b := range brokers {
		if b.Rack == nil || !strings.HasPrefix(*b.Rack, "zone-") {
			t.Errorf("broker %d has rack %v, want its node's zone", b.NodeID, b.Rack)
		}
	}
	// The topic operator started with the cluster and failed while it formed (minutes on a
	// slow machine): its next attempt is at most controller.DefaultMaxDelay (30 s) away.
	waitTopicWithin(t, f, ns, "orders", v1beta1.ReasonReady, controller.DefaultMaxDelay+30*time.Second)
	framework.Eventually(t, 2*time.Minute, "topic orders with 3 partitions of 3 in-sync replicas", func() (bool, error) {
		td, err := adm.ListTopics(ctx, "orders")
		if err != nil {
			return false, err
		}
		d := td["orders"]
		if d.Err != nil || len(d.Partitions) != 3 {
			return false, fmt.Errorf("orders: %v, %d partitions", d.Err, len(d.Partitions))
		}
		for _, p := range d.Partitions {
			if len(p.Replicas) != 3 || len(p.ISR) != 3 {
				return false, fmt.Errorf("partition %d replicas %v isr %v", p.Partition, p.Replicas, p.ISR)
			}
		}
		return true, nil
	})

	// my-user, with the certificate the user operator wrote, on the TLS listener.
	var userSecret *corev1.Secret
	framework.Eventually(t, 2*time.Minute, "my-user's Secret", func() (bool, error) {
		userSecret, err = f.Kube.CoreV1().Secrets(ns).Get(ctx, "my-user", metav1.GetOptions{})
		return err == nil, err
	})
	userCert, err := tls.X509KeyPair(userSecret.Data["user.crt"], userSecret.Data["user.key"])
	if err != nil {
		t.Fatal(err)
	}
	tlsBootstrap := "c-kafka-bootstrap." + ns + ".svc:9093"
	// A new producer per attempt: an idempotent producer refused at InitProducerId (before the
	// user's ACLs reach Kafka, CLUSTER_AUTHORIZATION_FAILED) stays failed.
	framework.Eventually(t, 2*time.Minute, "my-user to produce to orders (its ACLs in place)", func() (bool, error) {
		producer := realKafkaClient(t, f, ns, "c", tlsBootstrap, userCert, kgo.DefaultProduceTopic("orders"), kgo.RequiredAcks(kgo.AllISRAcks()))
		defer producer.Close()
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		err := producer.ProduceSync(pctx, kgo.StringRecord("hello from my-user")).FirstErr()
		return err == nil, err
	})
	// A consumer started once the ACLs are in place reads it back in group my-group-1.
	consumer := realKafkaClient(t, f, ns, "c", tlsBootstrap, userCert, kgo.ConsumeTopics("orders"), kgo.ConsumerGroup("my-group-1"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	fetches := consumer.PollRecords(fctx, 1)
	cancel()
	if err := fetches.Err(); err != nil || fetches.NumRecords() == 0 {
		t.Fatalf("my-user consuming orders: %v (%d records)", err, fetches.NumRecords())
	}
	if got := string(fetches.Records()[0].Value); got != "hello from my-user" {
		t.Fatalf("my-user consumed %q", got)
	}

	// A principal of the clients CA without ACLs is refused.
	clientsCert, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, v1beta1.ClientsCACertSecretName("c"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clientsKey, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, v1beta1.ClientsCAKeySecretName("c"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clientsCA, err := pki.LoadCA(pki.CAState{CertData: clientsCert.Data, KeyData: clientsKey.Data})
	if err != nil {
		t.Fatal(err)
	}
	intruder := realKafkaClient(t, f, ns, "c", tlsBootstrap, issued(t, clientsCA, "intruder", ""), kgo.DefaultProduceTopic("orders"),
		kgo.RecordRetries(2), kgo.UnknownTopicRetries(2))
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err = intruder.ProduceSync(pctx, kgo.StringRecord("not allowed")).FirstErr()
	cancel()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("a principal without ACLs producing: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}

	// my-user's Write ACL removed from the spec: Kafka refuses its next produce.
	ku, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Get(ctx, "my-user", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ku.Spec.Authorization.ACLs[0].Operations = []v1beta1.ACLOperation{"Describe", "Read"}
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Update(ctx, ku, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// (Real Kafka refuses an idempotent producer without any Write ACL at InitProducerId, with
	// CLUSTER_AUTHORIZATION_FAILED; both refusals are checked.)
	writer := realKafkaClient(t, f, ns, "c", tlsBootstrap, userCert, kgo.DefaultProduceTopic("orders"), kgo.RecordRetries(2),
		kgo.DisableIdempotentWrite())
	idempotent := realKafkaClient(t, f, ns, "c", tlsBootstrap, userCert, kgo.DefaultProduceTopic("orders"), kgo.RecordRetries(2))
	framework.Eventually(t, 2*time.Minute, "my-user to be refused writing once its ACL is gone", func() (bool, error) {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		err := writer.ProduceSync(pctx, kgo.StringRecord("after the ACL went")).FirstErr()
		return errors.Is(err, kerr.TopicAuthorizationFailed), err
	})
	pctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	err = idempotent.ProduceSync(pctx, kgo.StringRecord("after the ACL went")).FirstErr()
	cancel()
	if !errors.Is(err, kerr.ClusterAuthorizationFailed) && !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("an idempotent producer of my-user without Write: %v, want an authorization failure", err)
	}
}

func restarts(p corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}
