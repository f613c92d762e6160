package integration

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestDeletedTopicWhoseCreateLandedLate (kfake): the topic operator's CreateTopics for a topic
// gets no answer (its connection dies, each time, until the call gives up), the KafkaTopic is
// deleted meanwhile, and Kafka carries the create out after the client gave up (here the test
// makes the topic, as a controller processing the request from its queue would). The deletion
// must still leave no topic in Kafka: the finalizer used to go at once, after a delete by name
// of a topic that did not exist yet, and the late topic stayed with no resource declaring it.
func TestDeletedTopicWhoseCreateLandedLate(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	ctx := t.Context()
	kf, adm := startKafka(t, kafkafake.Options{})
	var lost atomic.Int32
	var carriedOut atomic.Bool
	kf.ControlKey(int16(kmsg.CreateTopics), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kf.KeepControl()
		if carriedOut.Load() {
			return nil, nil, false
		}
		for _, tp := range req.(*kmsg.CreateTopicsRequest).Topics {
			if tp.Topic == "late" {
				lost.Add(1)
				return nil, errors.New("answer lost"), true
			}
		}
		return nil, nil, false
	})
	startOperator(t, f, "topic-operator", ns, kf.Bootstrap())
	topics := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns)
	spec := v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](2), Replicas: ptr.To[int32](1)}
	// A first topic opens the operator's connection for CreateTopics (see
	// TestTopicCreateWhoseAnswerWasLost).
	if _, err := topics.Create(ctx, kafkaTopic("first", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, f, ns, "first", v1beta1.ReasonReady)
	if _, err := topics.Create(ctx, kafkaTopic("late", spec, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the operator's CreateTopics for late", func() (bool, error) { return lost.Load() > 0, nil })
	framework.Eventually(t, time.Minute, "the operator's create of late to fail", func() (bool, error) {
		kt, err := topics.Get(ctx, "late", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(kt.Status.Conditions, v1beta1.ConditionReady)
		return c != nil && c.Reason == v1beta1.ReasonKafkaError, nil
	})
	if err := topics.Delete(ctx, "late", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	carriedOut.Store(true)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "late"); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, time.Minute, "KafkaTopic late gone", func() (bool, error) {
		_, err := topics.Get(ctx, "late", metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	framework.Eventually(t, 10*time.Second, "no topic late left in Kafka", func() (bool, error) {
		td, err := adm.ListTopics(ctx, "late")
		if err != nil {
			return false, err
		}
		return !td.Has("late"), nil
	})
}
