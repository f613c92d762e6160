package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// outageLimit is how soon after an attempt a resource must say Kafka is unreachable.
const outageLimit = 10 * time.Second

// TestTopicOperatorUnderKafkaOutage (kfake, its connections closed while "down"): while Kafka is
// unreachable, a new KafkaTopic and a changed one say so (KafkaError, with the client's error)
// within outageLimit; once Kafka is back, both converge by themselves: the new topic exists, the
// change is in Kafka.
func TestTopicOperatorUnderKafkaOutage(t *testing.T) {
	for _, mode := range []string{"down", "hanging"} {
		t.Run(mode, func(t *testing.T) { topicOperatorUnderOutage(t, mode) })
	}
}

// topicOperatorUnderOutage: mode down closes every connection (brokers gone), hanging reads
// requests and never answers (a broker cut off or stuck).
func topicOperatorUnderOutage(t *testing.T, mode string) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	ctx := t.Context()
	kf, adm := startKafka(t, kafkafake.Options{})
	startOperator(t, f, "topic-operator", ns, kf.Bootstrap())
	api := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns)
	spec := v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](1), Replicas: ptr.To[int32](1), Config: map[string]v1beta1.ConfigValue{"retention.ms": "1000"}}
	if _, err := api.Create(ctx, kafkaTopic("before", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, f, ns, "before", v1beta1.ReasonReady)

	set := kf.SetDown
	if mode == "hanging" {
		set = kf.SetHanging
	}
	set(true)
	start := time.Now()
	if _, err := api.Create(ctx, kafkaTopic("during", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Patch(ctx, "before", types.MergePatchType, []byte(`{"spec":{"config":{"retention.ms":"2000"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"during", "before"} {
		framework.Eventually(t, 2*outageLimit, name+" to say Kafka is unreachable", func() (bool, error) {
			kt, err := api.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			c := meta.FindStatusCondition(kt.Status.Conditions, v1beta1.ConditionReady)
			if c == nil || c.ObservedGeneration != kt.Generation || c.Reason != v1beta1.ReasonKafkaError || c.Message == "" {
				return false, fmt.Errorf("condition %+v", c)
			}
			return true, nil
		})
		took := time.Since(start)
		kt, _ := api.Get(ctx, name, metav1.GetOptions{})
		t.Logf("%s: KafkaError %s after the change: %s", name, took.Round(100*time.Millisecond), meta.FindStatusCondition(kt.Status.Conditions, v1beta1.ConditionReady).Message)
		if took > outageLimit {
			t.Errorf("%s said why only %s after the change, want within %s", name, took.Round(time.Second), outageLimit)
		}
	}

	set(false)
	start = time.Now()
	waitTopic(t, f, ns, "during", v1beta1.ReasonReady)
	waitTopic(t, f, ns, "before", v1beta1.ReasonReady)
	t.Logf("both Ready %s after Kafka came back", time.Since(start).Round(100*time.Millisecond))
	rc, err := adm.DescribeTopicConfigs(context.Background(), "before")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rc {
		for _, c := range r.Configs {
			if c.Key == "retention.ms" && (c.Value == nil || *c.Value != "2000") {
				t.Errorf("before's retention.ms in Kafka: %v, want 2000", c.MaybeValue())
			}
		}
	}
	if td, err := adm.ListTopics(context.Background(), "during"); err != nil || !td.Has("during") {
		t.Errorf("during not in Kafka: %v", err)
	}
}

// TestUserOperatorUnderKafkaOutage (kfake): while Kafka is unreachable, a new SCRAM user says so
// within outageLimit (its Secret may already exist: credentials are the API server's part);
// once Kafka is back it converges by itself, with its credential and ACL in Kafka.
func TestUserOperatorUnderKafkaOutage(t *testing.T) {
	for _, mode := range []string{"down", "hanging"} {
		t.Run(mode, func(t *testing.T) { userOperatorUnderOutage(t, mode) })
	}
}

func userOperatorUnderOutage(t *testing.T, mode string) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, t.Context()
	kf := e.kf
	e.startOperator(t, ns)
	set := kf.SetDown
	if mode == "hanging" {
		set = kf.SetHanging
	}
	set(true)
	start := time.Now()
	spec := v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512},
		Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders"}, Operations: []v1beta1.ACLOperation{"Write"}}}}}
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Create(ctx, kafkaUser("olga", spec), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ku := waitUser(t, f, ns, "olga", v1beta1.ReasonKafkaError)
	took := time.Since(start)
	t.Logf("olga: KafkaError %s after creation: %s", took.Round(100*time.Millisecond), meta.FindStatusCondition(ku.Status.Conditions, v1beta1.ConditionReady).Message)
	if took > outageLimit {
		t.Errorf("olga said why only %s after creation, want within %s", took.Round(time.Second), outageLimit)
	}
	set(false)
	start = time.Now()
	waitUser(t, f, ns, "olga", v1beta1.ReasonReady)
	t.Logf("olga Ready %s after Kafka came back", time.Since(start).Round(100*time.Millisecond))
	if !hasSCRAM(t, e.adm, "olga") || len(aclsOf(t, e.cl, "User:olga")) != 1 {
		t.Error("olga's credential or ACL is not in Kafka")
	}
}
