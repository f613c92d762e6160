package integration

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkastandin"
	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
	"github.com/kafkaplane/kafkaplane/pkg/rbac"
)

// startClusterOperator runs the built cluster-operator binary watching ns; it returns the
// process and its metrics address.
func startClusterOperator(t *testing.T, f *framework.Framework, ns string, extra ...string) (*localcluster.Process, string) {
	t.Helper()
	dir, bins, kc := localOperators(t, f)
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--kubeconfig=" + kc, "--watch-namespaces=" + ns, "--leader-elect=false", "--log-level=DEBUG",
		fmt.Sprintf("--http-address=127.0.0.1:%d", port), "--resync-period=2s"}, extra...)
	p, err := localcluster.StartProcess("cluster-operator", dir, nil, bins["cluster-operator"], args...)
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
	return p, fmt.Sprintf("127.0.0.1:%d", port)
}

const tlsClusterYAML = `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata:
  name: controllers
  labels: {kafkaplane.io/cluster: c}
spec:
  replicas: 3
  roles: [controller]
  storage: {type: persistent-claim, size: 1Gi, deleteClaim: true}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata:
  name: brokers
  labels: {kafkaplane.io/cluster: c}
spec:
  replicas: 3
  roles: [broker]
  storage:
    type: jbod
    volumes:
      - {id: 0, type: persistent-claim, size: 2Gi, deleteClaim: true, kraftMetadata: shared}
  resources:
    requests: {cpu: 100m, memory: 256Mi}
---
apiVersion: kafkaplane.io/v1beta1
kind: Kafka
metadata:
  name: c
spec:
  kafka:
    version: 4.1.1
    listeners:
      - {name: plain, port: 9092, type: internal, tls: false}
      - {name: tls, port: 9093, type: internal, tls: true, authentication: {type: tls}}
    authorization:
      type: simple
      superUsers: [User:CN=admin]
    config:
      min.insync.replicas: 2
      default.replication.factor: 3
    rack: {topologyKey: topology.kubernetes.io/zone}
  entityOperator:
    topicOperator: {}
    userOperator: {}
`

func kafkaReady(t *testing.T, f *framework.Framework, ns, name string) func() (bool, error) {
	return func() (bool, error) {
		k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(k.Status.Conditions, v1beta1.ConditionReady)
		if c == nil {
			return false, fmt.Errorf("no Ready condition")
		}
		return c.Status == metav1.ConditionTrue && c.ObservedGeneration == k.Generation, fmt.Errorf("%s: %s", c.Reason, c.Message)
	}
}

// TestClusterOperatorTLSCluster: a KRaft cluster with TLS, mTLS and ACLs comes up on the real API
// server and scheduler (pods simulated, entity operators run as process pods), with the objects'
// contents checked; a no-op resync writes nothing.
func TestClusterOperatorTLSCluster(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	ctx := context.Background()
	// The API server's Pod Security admission enforces the restricted standard on everything the
	// operator creates here (node pods and entity operator pods).
	if _, err := f.Kube.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// (It is enforced: a pod that is not restricted is refused.)
	bad := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "unrestricted"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := f.Kube.CoreV1().Pods(ns).Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("an unrestricted pod was not refused: %v", err)
	}
	if _, err := f.Apply(ctx, ns, []byte(tlsClusterYAML)); err != nil {
		t.Fatal(err)
	}
	overrides := filepath.Join(t.TempDir(), "bootstrap.json")
	_, addr := startClusterOperator(t, f, ns, "--kafka-bootstrap-overrides="+overrides)
	standin := startStandIn(t, f, ns, overrides)
	framework.Eventually(t, 3*time.Minute, "Kafka c Ready", kafkaReady(t, f, ns, "c"))
	// min.insync.replicas is a cluster-wide dynamic config: set in Kafka at runtime.
	rcs, err := operatorAdmin(t, f, ns, standin.Bootstrap()).DescribeBrokerConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := rcs.On("", nil); err != nil || !slices.ContainsFunc(v.Configs, func(c kadm.Config) bool {
		return c.Key == "min.insync.replicas" && c.Value != nil && *c.Value == "2"
	}) {
		t.Errorf("min.insync.replicas not applied dynamically: %+v %v", v, err)
	}

	k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kube := f.Kube.CoreV1()
	secret := func(name string) *corev1.Secret {
		t.Helper()
		s, err := kube.Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// CAs, as Strimzi names and fills them.
	for _, name := range []string{"c-cluster-ca-cert", "c-clients-ca-cert"} {
		s := secret(name)
		for _, key := range []string{"ca.crt", "ca.p12", "ca.password"} {
			if len(s.Data[key]) == 0 {
				t.Errorf("%s has no %s", name, key)
			}
		}
	}
	for _, name := range []string{"c-cluster-ca", "c-clients-ca"} {
		if len(secret(name).Data["ca.key"]) == 0 {
			t.Errorf("%s has no ca.key", name)
		}
	}
	clusterCA, err := pki.DecodeCerts(secret("c-cluster-ca-cert").Data["ca.crt"])
	if err != nil {
		t.Fatal(err)
	}

	// Node IDs are recorded in the pools' status and unique.
	ids := map[string][]int32{}
	for _, pool := range []string{"controllers", "brokers"} {
		p, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaNodePools(ns).Get(ctx, pool, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Status.NodeIDs) != 3 || p.Status.ClusterID != k.Status.ClusterID || p.Status.Replicas != 3 {
			t.Fatalf("pool %s status: %+v", pool, p.Status)
		}
		if !meta.IsStatusConditionTrue(p.Status.Conditions, v1beta1.ConditionReady) {
			t.Errorf("pool %s not Ready: %+v", pool, p.Status.Conditions)
		}
		ids[pool] = p.Status.NodeIDs
	}
	broker := v1beta1.NodeName("c", "brokers", ids["brokers"][0])
	controllerNode := v1beta1.NodeName("c", "controllers", ids["controllers"][0])

	// The broker's certificate covers its own name and the services, for server and client use.
	nodeSecret := secret(broker)
	certs, err := pki.DecodeCerts(nodeSecret.Data["node.crt"])
	if err != nil {
		t.Fatal(err)
	}
	for _, dns := range []string{broker + ".c-kafka-brokers." + ns + ".svc", "c-kafka-bootstrap." + ns + ".svc.cluster.local", "c-kafka-bootstrap"} {
		if err := verify(certs[0], dns, x509.ExtKeyUsageServerAuth, time.Now(), clusterCA...); err != nil {
			t.Errorf("node certificate for %s: %v", dns, err)
		}
	}
	if got := certs[0].Subject.String(); got != "CN=c-kafka,O=kafkaplane.io" {
		t.Errorf("node certificate subject %q", got)
	}
	if !strings.Contains(string(nodeSecret.Data["node.pem"]), "PRIVATE KEY") || !strings.Contains(string(nodeSecret.Data["cluster-ca.crt"]), "CERTIFICATE") {
		t.Error("the node Secret lacks its PEM keystore or trust bundle")
	}

	// Configuration.
	cm, err := kube.ConfigMaps(ns).Get(ctx, broker, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	props := cm.Data["server.properties"]
	for _, want := range []string{
		"process.roles=broker\n",
		fmt.Sprintf("node.id=%d\n", ids["brokers"][0]),
		"listener.name.tls-9093.ssl.client.auth=required\n",
		"listener.name.tls-9093.ssl.truststore.location=/opt/kafka/certs/clients-ca.crt\n",
		"listener.name.replication-9091.ssl.client.auth=required\n",
		"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n",
		"User:CN=admin",
		"min.insync.replicas=2\n",
		"log.dirs=/var/lib/kafka/data-0/kafka-log",
	} {
		if !strings.Contains(props, want) {
			t.Errorf("server.properties of %s lacks %q:\n%s", broker, want, props)
		}
	}
	for _, p := range []string{"User:CN=c-entity-topic-operator,O=kafkaplane.io", "User:CN=c-entity-user-operator,O=kafkaplane.io", "User:CN=c-kafka,O=kafkaplane.io"} {
		if !strings.Contains(props, p) {
			t.Errorf("super.users lacks %s", p)
		}
	}
	if voters := strings.Count(props[strings.Index(props, "controller.quorum.bootstrap.servers="):], ":9090"); voters < 3 {
		t.Errorf("controller.quorum.bootstrap.servers names %d controllers", voters)
	}
	if cm.Data["cluster.id"] != k.Status.ClusterID || k.Status.ClusterID == "" {
		t.Errorf("cluster.id %q, status %q", cm.Data["cluster.id"], k.Status.ClusterID)
	}
	ccm, err := kube.ConfigMaps(ns).Get(ctx, controllerNode, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if args := ccm.Data["format.args"]; !strings.Contains(args, "--initial-controllers") || strings.Count(args, "@") != 3 {
		t.Errorf("controller format args: %q", args)
	}
	if cm.Data["format.args"] != "" {
		t.Errorf("broker format args: %q", cm.Data["format.args"])
	}

	// Pods: identity, placement inputs, restricted security.
	pod, err := kube.Pods(ns).Get(ctx, broker, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Spec.Hostname != broker || pod.Spec.Subdomain != "c-kafka-brokers" || pod.Labels[v1beta1.LabelBrokerRole] != "true" ||
		pod.Labels[v1beta1.LabelPool] != "brokers" || pod.Spec.Containers[0].Image != "apache/kafka:4.1.1" {
		t.Errorf("broker pod: hostname %q subdomain %q labels %v image %q", pod.Spec.Hostname, pod.Spec.Subdomain, pod.Labels, pod.Spec.Containers[0].Image)
	}
	sc := pod.Spec.Containers[0].SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
		!slices.Contains(sc.Capabilities.Drop, "ALL") || pod.Spec.SecurityContext.RunAsNonRoot == nil || !*pod.Spec.SecurityContext.RunAsNonRoot {
		t.Errorf("broker security context is not restricted: %+v / %+v", sc, pod.Spec.SecurityContext)
	}
	if !slices.ContainsFunc(pod.Spec.Containers[0].Env, func(e corev1.EnvVar) bool {
		return e.Name == "KAFKA_BROKER_RACK" && e.ValueFrom != nil && strings.Contains(e.ValueFrom.FieldRef.FieldPath, "topology.kubernetes.io/zone")
	}) {
		t.Error("broker pod has no rack from its zone label")
	}
	// The API server copies the node's zone label onto the pod when binding it (PodTopologyLabels
	// admission), which is where the downward API reads broker.rack from.
	framework.Eventually(t, 30*time.Second, "the broker pod's zone label", func() (bool, error) {
		p, err := kube.Pods(ns).Get(ctx, broker, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return p.Labels["topology.kubernetes.io/zone"] != "", fmt.Errorf("labels %v", p.Labels)
	})
	if !slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool {
		return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "data-0-"+broker
	}) {
		t.Errorf("broker pod volumes: %+v", pod.Spec.Volumes)
	}
	if _, err := kube.PersistentVolumeClaims(ns).Get(ctx, "data-"+controllerNode, metav1.GetOptions{}); err != nil {
		t.Errorf("controller PVC: %v", err)
	}

	// Services.
	bs, err := kube.Services(ns).Get(ctx, "c-kafka-bootstrap", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ports []int32
	for _, p := range bs.Spec.Ports {
		ports = append(ports, p.Port)
	}
	if !slices.Equal(ports, []int32{9091, 9092, 9093}) {
		t.Errorf("bootstrap service ports %v", ports)
	}
	hs, err := kube.Services(ns).Get(ctx, "c-kafka-brokers", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hs.Spec.ClusterIP != corev1.ClusterIPNone || !hs.Spec.PublishNotReadyAddresses {
		t.Errorf("brokers service: clusterIP %q publishNotReady %v", hs.Spec.ClusterIP, hs.Spec.PublishNotReadyAddresses)
	}
	if _, err := f.Kube.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "c-kafka", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
	if _, err := f.Kube.NetworkingV1().NetworkPolicies(ns).Get(ctx, "c-network-policy-kafka", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}

	// Entity operators: their own Deployments, least-privilege Roles, client certificates.
	for _, eo := range []struct {
		name  string
		rules int
	}{{"c-entity-topic-operator", len(rbac.TopicOperatorRules())}, {"c-entity-user-operator", len(rbac.UserOperatorRules())}} {
		d, err := f.Kube.AppsV1().Deployments(ns).Get(ctx, eo.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status.AvailableReplicas != 1 || !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--bootstrap-servers=c-kafka-bootstrap."+ns+".svc:9091") {
			t.Errorf("%s: available %d args %v", eo.name, d.Status.AvailableReplicas, d.Spec.Template.Spec.Containers[0].Args)
		}
		role, err := f.Kube.RbacV1().Roles(ns).Get(ctx, eo.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(role.Rules) != eo.rules {
			t.Errorf("%s Role has %d rules, want %d", eo.name, len(role.Rules), eo.rules)
		}
		cs := secret(eo.name + "-certs")
		c, err := pki.DecodeCerts(cs.Data["tls.crt"])
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(c[0], "", x509.ExtKeyUsageClientAuth, time.Now(), clusterCA...); err != nil || c[0].Subject.CommonName != eo.name {
			t.Errorf("%s certificate %s: %v", eo.name, c[0].Subject, err)
		}
	}

	// Status tells clients where to connect.
	if len(k.Status.Listeners) != 2 || k.Status.Listeners[0].BootstrapServers != "c-kafka-bootstrap."+ns+".svc:9092" ||
		len(k.Status.Listeners[1].Certificates) != 1 || k.Status.KafkaVersion != "4.1.1" || len(k.Status.NodePools) != 2 {
		t.Errorf("status: %+v", k.Status)
	}

	// Certificate expiry times are exported per CA and per certificate.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, cert := range []string{"cluster-ca", "clients-ca", broker, "c-entity-user-operator-certs"} {
		want := fmt.Sprintf(`kafkaplane_cluster_operator_certificate_expiry_timestamp_seconds{certificate=%q,cluster="c",namespace=%q}`, cert, ns)
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A resync where nothing changed writes nothing.
	before := resourceVersions(t, f, ns)
	time.Sleep(7 * time.Second) // more than three resyncs
	after := resourceVersions(t, f, ns)
	for key, rv := range before {
		if after[key] != rv {
			t.Errorf("%s changed during idle resyncs (%s → %s)", key, rv, after[key])
		}
	}
}

// resourceVersions lists the resource versions of the Kafka, its pools and what the operator
// created.
func resourceVersions(t *testing.T, f *framework.Framework, ns string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	opts := metav1.ListOptions{LabelSelector: v1beta1.LabelCluster + "=c"}
	add := func(kind string, items []metav1.Object) {
		for _, o := range items {
			out[kind+"/"+o.GetName()] = o.GetResourceVersion()
		}
	}
	k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out["Kafka/c"] = k.ResourceVersion
	pools, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaNodePools(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pools.Items {
		out["KafkaNodePool/"+pools.Items[i].Name] = pools.Items[i].ResourceVersion
	}
	secrets, err := f.Kube.CoreV1().Secrets(ns).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var objs []metav1.Object
	for i := range secrets.Items {
		objs = append(objs, &secrets.Items[i])
	}
	add("Secret", objs)
	objs = nil
	cms, err := f.Kube.CoreV1().ConfigMaps(ns).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cms.Items {
		objs = append(objs, &cms.Items[i])
	}
	add("ConfigMap", objs)
	objs = nil
	svcs, err := f.Kube.CoreV1().Services(ns).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range svcs.Items {
		objs = append(objs, &svcs.Items[i])
	}
	add("Service", objs)
	objs = nil
	ds, err := f.Kube.AppsV1().Deployments(ns).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ds.Items {
		objs = append(objs, &ds.Items[i])
	}
	add("Deployment", objs)
	return out
}

// startStandIn starts the Kafka stand-in of cluster c once its CAs exist and points the cluster
// operator at it through its overrides file.
func startStandIn(t *testing.T, f *framework.Framework, ns, overrides string) *kafkastandin.StandIn {
	t.Helper()
	return startStandInFor(t, f, ns, "c", overrides)
}

// startStandInFor is startStandIn for the Kafka named cluster.
func startStandInFor(t *testing.T, f *framework.Framework, ns, cluster, overrides string) *kafkastandin.StandIn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	si, err := kafkastandin.Start(ctx, f.Kube, ns, cluster, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(si.Close)
	b, _ := json.Marshal(map[string]string{ns + "/" + cluster: si.ListenAddrs()[0]})
	if err := os.WriteFile(overrides, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return si
}

// verify checks a certificate against CA certificates for a usage (and a DNS name when given).
func verify(cert *x509.Certificate, dns string, usage x509.ExtKeyUsage, at time.Time, roots ...*x509.Certificate) error {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	_, err := cert.Verify(x509.VerifyOptions{DNSName: dns, Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

var _ = appsv1.Deployment{}
var _ = kubelet.FaultAnnotation
