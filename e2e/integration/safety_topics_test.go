package integration

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestTopicOwnershipAcrossNamespaces: two KafkaTopics in different namespaces for one topic of
// one cluster — the second is refused, and deleting it leaves the topic; a topic deleted and made
// again outside the operator (a new topic ID) is neither altered nor deleted by the resource that
// created the first one. (Before the fix, ownership was looked up per namespace, so the second
// resource managed the topic too and its deletion deleted it; and deletion went by name.)
func TestTopicOwnershipAcrossNamespaces(t *testing.T) {
	f := framework.Get(t)
	ns1, ns2 := f.Namespace(t), f.Namespace(t)
	kf, adm := startKafka(t, kafkafake.Options{Brokers: 3})
	kv := kafkaView{t, adm}
	ctx := t.Context()
	op := startOperator(t, f, "topic-operator", ns1+","+ns2, kf.Bootstrap())

	spec := v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](2), Replicas: ptr.To[int32](1),
		Config: map[string]v1beta1.ConfigValue{"retention.ms": "7200000"}}
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns1).Create(ctx, kafkaTopic("shared", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	first := waitTopic(t, f, ns1, "shared", v1beta1.ReasonReady)
	second := spec.DeepCopy()
	second.Config = map[string]v1beta1.ConfigValue{"retention.ms": "1000"}
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns2).Create(ctx, kafkaTopic("shared", *second, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, f, ns2, "shared", v1beta1.ReasonResourceConflict)
	if _, _, cfg, _ := kv.topic("shared"); cfg["retention.ms"] != "7200000" {
		t.Fatalf("the refused resource changed the topic: %v", cfg)
	}
	if err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns2).Delete(ctx, "shared", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f, ns2, "shared")
	if _, _, _, ok := kv.topic("shared"); !ok {
		t.Fatal("deleting the refused resource deleted the topic the other one declares")
	}

	// The topic is deleted and made again with Kafka tools while the operator is stopped (so
	// that it cannot recreate it from the spec first): another topic under the same name.
	if err := op.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.DeleteTopics(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	resp, err := adm.CreateTopic(ctx, 3, 1, map[string]*string{"retention.ms": ptr.To("1234")}, "shared")
	if err != nil {
		t.Fatal(err)
	}
	startOperator(t, f, "topic-operator", ns1+","+ns2, kf.Bootstrap())
	newID := resp.ID.String()
	if newID == first.Status.TopicID {
		t.Fatal("the recreated topic has the old ID")
	}
	kt := waitTopic(t, f, ns1, "shared", v1beta1.ReasonResourceConflict)
	if kt.Status.TopicID != first.Status.TopicID {
		t.Errorf("status topic ID %s, want the one it created, %s", kt.Status.TopicID, first.Status.TopicID)
	}
	if p, _, cfg, _ := kv.topic("shared"); p != 3 || cfg["retention.ms"] != "1234" {
		t.Fatalf("the operator altered a topic it did not create: %d partitions, configs %v", p, cfg)
	}
	if err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns1).Delete(ctx, "shared", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f, ns1, "shared")
	if _, _, _, ok := kv.topic("shared"); !ok {
		t.Fatal("deleting the resource deleted a topic of its name that it did not create")
	}
}

// TestTopicExistingNotTakenOver: a new KafkaTopic that meets a topic made with Kafka tools does
// not take it over (its unlisted configs stay, nothing is changed, deleting the resource leaves
// it) unless it is annotated kafkaplane.io/adopted: "true". (Before the fix it took the topic
// over silently and reset retention.ms, which the spec did not list.)
func TestTopicExistingNotTakenOver(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	kf, adm := startKafka(t, kafkafake.Options{Brokers: 3})
	kv := kafkaView{t, adm}
	ctx := t.Context()
	if _, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": ptr.To("-1")}, "precious"); err != nil {
		t.Fatal(err)
	}
	startTopicOperator(t, f, ns, kf.Bootstrap())
	api := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns)
	spec := v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](4), Replicas: ptr.To[int32](1),
		Config: map[string]v1beta1.ConfigValue{"cleanup.policy": "compact"}}
	if _, err := api.Create(ctx, kafkaTopic("precious", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kt := waitTopic(t, f, ns, "precious", v1beta1.ReasonResourceConflict)
	time.Sleep(3 * time.Second) // a resync
	if p, _, cfg, _ := kv.topic("precious"); p != 2 || cfg["retention.ms"] != "-1" || cfg["cleanup.policy"] != "" {
		t.Fatalf("the existing topic was changed: %d partitions, configs %v", p, cfg)
	}
	if kt.Status.TopicID != "" {
		t.Errorf("a refused resource recorded the topic ID %s", kt.Status.TopicID)
	}
	if err := api.Delete(ctx, "precious", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f, ns, "precious")
	if _, _, cfg, ok := kv.topic("precious"); !ok || cfg["retention.ms"] != "-1" {
		t.Fatalf("deleting the refused resource touched the topic: exists=%v configs %v", ok, cfg)
	}

	// Asked for explicitly, the take-over happens and the spec is applied.
	adopt := kafkaTopic("precious", spec, nil)
	adopt.Annotations = map[string]string{"kafkaplane.io/adopted": "true"}
	if _, err := api.Create(ctx, adopt, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kt = waitTopic(t, f, ns, "precious", v1beta1.ReasonReady)
	if kt.Status.TopicID == "" {
		t.Errorf("the adopting resource recorded no topic ID: %+v", kt.Status)
	}
	framework.Eventually(t, 30*time.Second, "the adopted topic to follow its spec", func() (bool, error) {
		p, _, cfg, _ := kv.topic("precious")
		_, retention := cfg["retention.ms"]
		return p == 4 && cfg["cleanup.policy"] == "compact" && !retention, fmt.Errorf("%d partitions, configs %v", p, cfg)
	})
}

// TestTopicDeleteWithoutAnswerIsAnError: a DeleteTopics answer that has no entry for the topic
// does not count as a deletion — the resource keeps its finalizer and reports the error until
// Kafka really answers. (Before the fix the finalizer went and the topic stayed.)
func TestTopicDeleteWithoutAnswerIsAnError(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	kf, adm := startKafka(t, kafkafake.Options{Brokers: 1})
	kv := kafkaView{t, adm}
	ctx := context.Background()
	startTopicOperator(t, f, ns, kf.Bootstrap())
	api := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns)
	if _, err := api.Create(ctx, kafkaTopic("t", v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](1), Replicas: ptr.To[int32](1)}, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, f, ns, "t", v1beta1.ReasonReady)
	var swallow atomic.Bool
	swallow.Store(true)
	var swallowed atomic.Int32
	kf.ControlKey(int16(kmsg.DeleteTopics), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kf.KeepControl()
		if !swallow.Load() {
			return nil, nil, false
		}
		swallowed.Add(1)
		resp := req.(*kmsg.DeleteTopicsRequest).ResponseKind().(*kmsg.DeleteTopicsResponse)
		return resp, nil, true // an answer without entries
	})
	if err := api.Delete(ctx, "t", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the resource to report the Kafka error", func() (bool, error) {
		kt, err := api.Get(ctx, "t", metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("the resource went (%v) while the topic was not deleted", err)
		}
		r, _ := readyReason(kt)
		return r == v1beta1.ReasonKafkaError && swallowed.Load() > 0, fmt.Errorf("status %+v", kt.Status)
	})
	if _, _, _, ok := kv.topic("t"); !ok {
		t.Fatal("the topic is gone though Kafka's answer did not say so")
	}
	swallow.Store(false)
	waitGone(t, f, ns, "t")
	framework.Eventually(t, 10*time.Second, "the topic deleted once Kafka answered", func() (bool, error) {
		td, err := adm.ListTopics(ctx, "t")
		return err == nil && td["t"].Err != nil, fmt.Errorf("%+v %v", td, err)
	})
}

func waitGone(t *testing.T, f *framework.Framework, ns, name string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, "KafkaTopic "+name+" gone", func() (bool, error) {
		_, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns).Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
}
