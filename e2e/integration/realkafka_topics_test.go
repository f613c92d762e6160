package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkadist"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// startRealKafka starts real Apache Kafka (the default version, from e2e/kafkadist) as one
// KRaft node on loopback, and an admin client for it; both stop with the test.
func startRealKafka(t *testing.T, o kafkadist.NodeOptions, opts ...kgo.Opt) (*kafkadist.Node, *kadm.Client) {
	t.Helper()
	o.Dir, o.HeapMB = t.TempDir(), 384
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := kafkadist.Ensure(ctx, kafkadist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := kafkadist.StartNode(ctx, d, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Stop(30 * time.Second)
		if t.Failed() {
			t.Logf("Kafka's log:\n%s", tail(n.Log(), 6000))
		}
	})
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(n.Bootstrap)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	framework.Eventually(t, 2*time.Minute, "real Kafka to answer", func() (bool, error) {
		_, err := adm.ListBrokers(ctx)
		return err == nil, err
	})
	return n, adm
}

// TestTopicOperatorOnRealKafka runs the topic-operator binary against real Apache Kafka: a
// KafkaTopic becomes a topic with its partitions, configs and topic ID; a topic deleted and made
// again with Kafka tools while the operator is down is refused (another ID) and survives the
// resource's deletion — real Kafka's answer to a DeleteTopics by an unknown topic ID; an existing
// topic is not taken over; a managed topic is deleted with its resource.
func TestTopicOperatorOnRealKafka(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	n, adm := startRealKafka(t, kafkadist.NodeOptions{})
	kv := kafkaView{t, adm}
	ctx := t.Context()
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": ptr.To("-1")}, "legacy"); err != nil {
		t.Fatal(err)
	}
	op := startOperator(t, f, "topic-operator", ns, n.Bootstrap)
	api := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns)
	spec := v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](3), Replicas: ptr.To[int32](1),
		Config: map[string]v1beta1.ConfigValue{"retention.ms": "7200000"}}
	for _, name := range []string{"orders", "payments", "legacy"} {
		if _, err := api.Create(ctx, kafkaTopic(name, spec, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	orders := waitTopic(t, f, ns, "orders", v1beta1.ReasonReady)
	waitTopic(t, f, ns, "payments", v1beta1.ReasonReady)
	waitTopic(t, f, ns, "legacy", v1beta1.ReasonResourceConflict)
	td, err := adm.ListTopics(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if id := td["orders"].ID.String(); id != orders.Status.TopicID {
		t.Errorf("status topic ID %s, Kafka's %s", orders.Status.TopicID, id)
	}
	if p, rf, cfg, ok := kv.topic("orders"); !ok || p != 3 || rf != 1 || cfg["retention.ms"] != "7200000" {
		t.Fatalf("orders in Kafka: exists=%v partitions=%d rf=%d configs=%v", ok, p, rf, cfg)
	}
	if _, _, cfg, _ := kv.topic("legacy"); cfg["retention.ms"] != "-1" {
		t.Fatalf("the existing topic was taken over: %v", cfg)
	}

	// orders is deleted and made again with Kafka tools while the operator is down.
	if err := op.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.DeleteTopics(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "orders deleted in Kafka", func() (bool, error) {
		_, err := adm.CreateTopic(ctx, 5, 1, map[string]*string{"retention.ms": ptr.To("1234")}, "orders")
		return err == nil, err
	})
	startOperator(t, f, "topic-operator", ns, n.Bootstrap)
	waitTopic(t, f, ns, "orders", v1beta1.ReasonResourceConflict)
	for _, name := range []string{"orders", "legacy", "payments"} {
		if err := api.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitGone(t, f, ns, name)
	}
	if p, _, cfg, ok := kv.topic("orders"); !ok || p != 5 || cfg["retention.ms"] != "1234" {
		t.Errorf("the topic made again outside the operator was touched: exists=%v partitions=%d configs=%v", ok, p, cfg)
	}
	if _, _, _, ok := kv.topic("legacy"); !ok {
		t.Error("the refused resource's deletion deleted the existing topic")
	}
	framework.Eventually(t, 30*time.Second, "payments deleted in Kafka", func() (bool, error) {
		_, _, _, ok := kv.topic("payments")
		return !ok, fmt.Errorf("still there")
	})
}
