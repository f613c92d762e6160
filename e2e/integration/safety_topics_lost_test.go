package integration

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestTopicCreateWhoseAnswerWasLost (kfake): Kafka carries out the operator's CreateTopics but
// the answer never comes back (the connection dies, as with a broker cut off mid-batch on real
// Kafka). The resource must end Ready with the topic it made, not refused it as someone else's:
// retried inside the client, the request came back TOPIC_ALREADY_EXISTS and the resource said
// "exists in Kafka and this resource did not create it".
func TestTopicCreateWhoseAnswerWasLost(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	ctx := t.Context()
	kf, adm := startKafka(t, kafkafake.Options{})
	var lost atomic.Bool
	kf.ControlKey(int16(kmsg.CreateTopics), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.CreateTopicsRequest)
		if len(r.Topics) != 1 || r.Topics[0].Topic != "lost" {
			kf.KeepControl()
			return nil, nil, false
		}
		if lost.Swap(true) {
			kf.KeepControl()
			return nil, nil, false // the side request below, or a retry: Kafka answers
		}
		// Kafka makes the topic (the side request, served while this one sleeps), and the
		// operator's connection dies before any answer.
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = adm.CreateTopic(context.Background(), 2, 1, nil, "lost")
		}()
		kf.SleepControl(func() { <-done })
		return nil, errors.New("answer lost"), true
	})
	startOperator(t, f, "topic-operator", ns, kf.Bootstrap())
	spec := v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](2), Replicas: ptr.To[int32](1)}
	// A first topic opens the operator's connection for CreateTopics: a connection that dies at
	// its very first request reads as a protocol mismatch to the client, not as a lost answer.
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns).Create(ctx, kafkaTopic("first", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, f, ns, "first", v1beta1.ReasonReady)
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns).Create(ctx, kafkaTopic("lost", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kt := waitTopic(t, f, ns, "lost", v1beta1.ReasonReady)
	if !lost.Load() {
		t.Fatal("the fault was not injected")
	}
	td, err := adm.ListTopics(ctx, "lost")
	if err != nil || !td.Has("lost") {
		t.Fatalf("topic lost not in Kafka: %v", err)
	}
	if kt.Status.TopicID == "" {
		t.Error("status.topicId is empty: the resource did not record the topic as its own")
	}
}
