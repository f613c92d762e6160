package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

const rollClusterYAML = `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata:
  name: controllers
  labels: {kafkaplane.io/cluster: c}
spec:
  replicas: 1
  roles: [controller]
  storage: {type: ephemeral}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata:
  name: brokers
  labels: {kafkaplane.io/cluster: c}
spec:
  replicas: 3
  roles: [broker]
  storage: {type: ephemeral}
---
apiVersion: kafkaplane.io/v1beta1
kind: Kafka
metadata:
  name: c
spec:
  kafka:
    listeners:
      - {name: plain, port: 9092, type: internal, tls: false}
    config:
      min.insync.replicas: 2
`

// TestClusterOperatorRollsWithKafka: a manual rolling update of the broker pool rolls the
// brokers one at a time, each restart allowed by Kafka (the stand-in, reached over mutual TLS
// with the operator's own certificate). Then a config change: the controller waits, because
// kfake cannot describe the quorum, and the condition says so — and no broker restarts while it
// waits (controllers all go first).
func TestClusterOperatorRollsWithKafka(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	ctx := context.Background()
	if _, err := f.Apply(ctx, ns, []byte(rollClusterYAML)); err != nil {
		t.Fatal(err)
	}
	overrides := filepath.Join(t.TempDir(), "bootstrap.json")
	_, _ = startClusterOperator(t, f, ns, "--kafka-bootstrap-overrides="+overrides)

	standin := startStandIn(t, f, ns, overrides)
	framework.Eventually(t, 2*time.Minute, "Kafka c Ready", kafkaReady(t, f, ns, "c"))
	// A replicated topic, created over TLS with the cluster operator's own certificate.
	adm := operatorAdmin(t, f, ns, standin.Bootstrap())
	if _, err := adm.CreateTopic(ctx, 3, 3, map[string]*string{"min.insync.replicas": ptrTo("2")}, "orders"); err != nil {
		t.Fatal(err)
	}

	before := podUIDs(t, f, ns)
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaNodePools(ns).Patch(ctx, "brokers", types.MergePatchType,
		fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"true"}}}`, v1beta1.AnnotationManualRollingUpdate), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// Watch the roll: never more than one broker away at a time.
	brokers := func(m map[string]string) int {
		n := 0
		for name := range m {
			if strings.Contains(name, "-brokers-") {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		now := podUIDs(t, f, ns)
		if n := brokers(readyOnly(t, f, ns, now)); n < 2 {
			t.Fatalf("%d brokers ready during the roll: two were away at once", n)
		}
		rolled := 0
		for name, uid := range now {
			if strings.Contains(name, "-brokers-") && before[name] != "" && uid != before[name] {
				rolled++
			}
		}
		if rolled == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rolled %d brokers of 3 in 2 minutes", rolled)
		}
		time.Sleep(100 * time.Millisecond)
	}
	framework.Eventually(t, time.Minute, "Kafka c Ready after the brokers' roll", kafkaReady(t, f, ns, "c"))
	// Each node has Events of its own on the Kafka: events.k8s.io folds one reason's Events into
	// one series with the first note unless they relate to different objects.
	var nodes, brokerNodes []string
	for name := range before {
		nodes = append(nodes, name)
		if strings.Contains(name, "-brokers-") {
			brokerNodes = append(brokerNodes, name)
		}
	}
	for reason, want := range map[string][]string{"NodeCreated": nodes, "NodeRestarted": brokerNodes} {
		framework.Eventually(t, 30*time.Second, reason+" Events for every node", func() (bool, error) {
			list, err := f.Kube.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			var notes []string
			for _, e := range list.Items {
				if e.Reason == reason && e.Regarding.Kind == "Kafka" && e.Regarding.Name == "c" {
					notes = append(notes, e.Note)
				}
			}
			for _, node := range want {
				if !slices.ContainsFunc(notes, func(n string) bool {
					return strings.Contains(n, "node "+node+" ") || strings.Contains(n, "node "+node+":")
				}) {
					return false, fmt.Errorf("no %s Event names %s: %q", reason, node, notes)
				}
			}
			return true, nil
		})
	}

	// A config change: the controller is not restarted (kfake has no DescribeQuorum, and
	// unknown is not safe), and the brokers wait for it.
	before = podUIDs(t, f, ns)
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Patch(ctx, "c", types.MergePatchType,
		[]byte(`{"spec":{"kafka":{"config":{"log.retention.hours":100}}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the condition to say why the controller waits", func() (bool, error) {
		k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range k.Status.Conditions {
			if c.Type == v1beta1.ConditionReady {
				return c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "describing the quorum") &&
					strings.Contains(c.Message, "waits until the controllers have restarted"), fmt.Errorf("%s", c.Message)
			}
		}
		return false, nil
	})
	time.Sleep(5 * time.Second)
	for name, uid := range podUIDs(t, f, ns) {
		if strings.Contains(name, "-controllers-") && uid != before[name] {
			t.Errorf("controller %s restarted although the quorum could not be checked", name)
		}
		if strings.Contains(name, "-brokers-") && uid != before[name] {
			t.Errorf("broker %s restarted while the controller waits to restart", name)
		}
	}
}

func ptrTo(s string) *string { return &s }

// operatorAdmin is an admin client with the cluster operator's certificate for cluster c.
func operatorAdmin(t *testing.T, f *framework.Framework, ns, bootstrap string) *kadm.Client {
	t.Helper()
	s, err := f.Kube.CoreV1().Secrets(ns).Get(context.Background(), "c-cluster-operator-certs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(s.Data["tls.crt"], s.Data["tls.key"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.Data["ca.crt"])
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// podUIDs are the node pods' UIDs by name.
func podUIDs(t *testing.T, f *framework.Framework, ns string) map[string]string {
	t.Helper()
	l, err := f.Kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: v1beta1.LabelPool})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil {
			out[p.Name] = string(p.UID)
		}
	}
	return out
}

// readyOnly keeps the pods of names that are Ready.
func readyOnly(t *testing.T, f *framework.Framework, ns string, names map[string]string) map[string]string {
	t.Helper()
	l, err := f.Kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: v1beta1.LabelPool})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range l.Items {
		if _, ok := names[p.Name]; !ok || p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				out[p.Name] = string(p.UID)
			}
		}
	}
	return out
}
