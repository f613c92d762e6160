package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkadist"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestTopicBadInputOnRealKafka: KafkaTopics the schema admits but Kafka (real Apache Kafka, one
// node) or the operator refuses end Ready=False with the reason and Kafka's own message, with a
// Warning Event, and nothing is made or changed in Kafka: no topic for a refused new one, the old
// configs of a refused change.
func TestTopicBadInputOnRealKafka(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	n, adm := startRealKafka(t, kafkadist.NodeOptions{})
	kv := kafkaView{t, adm}
	ctx := t.Context()
	startOperator(t, f, "topic-operator", ns, n.Bootstrap)
	api := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns)
	one := func(cfg map[string]v1beta1.ConfigValue) v1beta1.KafkaTopicSpec {
		return v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](1), Replicas: ptr.To[int32](1), Config: cfg}
	}
	cases := []struct {
		name   string
		spec   v1beta1.KafkaTopicSpec
		topic  string // spec.topicName
		reason string
		want   string // in the condition's message
	}{
		{name: "retention-abc", spec: one(map[string]v1beta1.ConfigValue{"retention.ms": "abc"}), reason: v1beta1.ReasonKafkaError, want: "retention.ms"},
		{name: "unknown-key", spec: one(map[string]v1beta1.ConfigValue{"retention.mss": "1000"}), reason: v1beta1.ReasonKafkaError, want: "retention.mss"},
		{name: "bad-cleanup-policy", spec: one(map[string]v1beta1.ConfigValue{"cleanup.policy": "delete,shred"}), reason: v1beta1.ReasonKafkaError, want: "shred"},
		{name: "rf-over-brokers", spec: v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](1), Replicas: ptr.To[int32](3)}, reason: v1beta1.ReasonKafkaError, want: "replication factor"},
		{name: "internal-topic", spec: one(nil), topic: "__consumer_offsets", reason: v1beta1.ReasonNotSupported, want: "internal Kafka topic"},
		// Kafka refuses a name that collides with another once '.' and '_' are the same (metrics).
		{name: "metrics-underscore", spec: one(nil), topic: "metrics_cpu", reason: v1beta1.ReasonKafkaError, want: "collides"},
	}
	if _, err := api.Create(ctx, func() *v1beta1.KafkaTopic {
		kt := kafkaTopic("metrics-dot", one(nil), nil)
		kt.Spec.TopicName = "metrics.cpu"
		return kt
	}(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, f, ns, "metrics-dot", v1beta1.ReasonReady)
	for _, tc := range cases {
		kt := kafkaTopic(tc.name, tc.spec, nil)
		kt.Spec.TopicName = tc.topic
		if _, err := api.Create(ctx, kt, metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: the API server refused it (this test is about specs it admits): %v", tc.name, err)
		}
	}
	// A raw object value, which the typed client cannot write.
	raw := `{"apiVersion":"kafkaplane.io/v1beta1","kind":"KafkaTopic","metadata":{"name":"object-value","labels":{"kafkaplane.io/cluster":"c"}},"spec":{"config":{"retention.ms":{"days":7}}}}`
	if _, err := f.ApplyObject(ctx, ns, obj(t, raw)); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, struct {
		name   string
		spec   v1beta1.KafkaTopicSpec
		topic  string
		reason string
		want   string
	}{name: "object-value", reason: v1beta1.ReasonInvalidSpec, want: "spec.config.retention.ms"})

	// A valid topic, then a refused change to it.
	if _, err := api.Create(ctx, kafkaTopic("orders", one(map[string]v1beta1.ConfigValue{"retention.ms": "7200000"}), nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, f, ns, "orders", v1beta1.ReasonReady)
	patch := `{"spec":{"config":{"retention.ms":"forever"}}}`
	if _, err := api.Patch(ctx, "orders", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, struct {
		name   string
		spec   v1beta1.KafkaTopicSpec
		topic  string
		reason string
		want   string
	}{name: "orders", reason: v1beta1.ReasonKafkaError, want: "forever"})

	for _, tc := range cases {
		kt := waitTopic(t, f, ns, tc.name, tc.reason)
		c := findTopicReady(kt)
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, tc.want) {
			t.Errorf("%s: condition %+v, want %s with %q", tc.name, c, tc.reason, tc.want)
		}
		t.Logf("%s: %s: %s", tc.name, c.Reason, c.Message)
		framework.Eventually(t, 30*time.Second, "a Warning event for "+tc.name, func() (bool, error) {
			evs, err := f.Kube.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			for _, ev := range evs.Items {
				if ev.Regarding.Name == tc.name && ev.Type == corev1.EventTypeWarning && ev.Reason == tc.reason {
					return true, nil
				}
			}
			return false, fmt.Errorf("no event among %d", len(evs.Items))
		})
		if tc.name != "orders" && tc.topic != "__consumer_offsets" {
			name := tc.name
			if tc.topic != "" {
				name = tc.topic
			}
			if _, _, _, ok := kv.topic(name); ok {
				t.Errorf("%s: a refused topic exists in Kafka", tc.name)
			}
		}
	}
	if _, _, cfg, ok := kv.topic("orders"); !ok || cfg["retention.ms"] != "7200000" {
		t.Errorf("orders after a refused change: exists=%v configs=%v, want retention.ms 7200000 kept", ok, cfg)
	}
}

func findTopicReady(kt *v1beta1.KafkaTopic) *metav1.Condition {
	for i := range kt.Status.Conditions {
		if kt.Status.Conditions[i].Type == v1beta1.ConditionReady {
			return &kt.Status.Conditions[i]
		}
	}
	return nil
}

var _ = context.Background
