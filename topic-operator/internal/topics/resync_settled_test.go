package topics

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned/fake"
	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/kafka"
)

// snapshotDuring runs during the resync's snapshot: there, a reconcile settles resources.
type snapshotDuring struct{ fn func() }

func (s snapshotDuring) Snapshot(_ context.Context, names []string, fn func(string, kafka.Topic, error)) {
	s.fn()
	for _, n := range names {
		fn(n, kafka.Topic{Name: n, Exists: true, ID: "id-" + n}, nil)
	}
}

// TestResyncSkipsResourcesSettledDuringItsSnapshot: a resource that was not Ready when the
// resync listed it, and became Ready while the resync asked Kafka, is not queued again (in a
// creation burst, each such one cost a Metadata and a DescribeConfigs request for nothing); nor
// is one created less than Fresh ago and never reconciled (its informer event queued it); one
// still not Ready, reconciled before or older than that, is.
func TestResyncSkipsResourcesSettledDuringItsSnapshot(t *testing.T) {
	client := fake.NewSimpleClientset()
	ctx := t.Context()
	now := time.Now()
	mk := func(name string, ready bool, created ...time.Time) {
		kt := &v1beta1.KafkaTopic{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Generation: 1}}
		if len(created) > 0 {
			kt.CreationTimestamp = metav1.NewTime(created[0])
		}
		if ready {
			kt.Status.TopicID = "id-" + name
			conditions.Set(&kt.Status.Conditions, conditions.Ready(1, metav1.ConditionTrue, v1beta1.ReasonReady, ""))
		}
		if _, err := client.KafkaplaneV1beta1().KafkaTopics("ns").Create(ctx, kt, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk("ready", true)
	mk("settles", false)
	mk("pending", false, now.Add(-10*time.Minute))
	// Never reconciled, created a minute ago: its own informer event queued it.
	mk("new", false, now.Add(-time.Minute))
	p := informers.NewPerNamespace(informers.Namespaces{"ns"}, func(namespace string) kpinformers.SharedInformerFactory {
		return kpinformers.NewSharedInformerFactoryWithOptions(client, 0, kpinformers.WithNamespace(namespace))
	})
	m := informers.ForResource(p, func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().KafkaTopics().Informer()
	})
	p.Start(ctx)
	t.Cleanup(p.Shutdown)
	if err := informers.WaitForSync(ctx, m); err != nil {
		t.Fatal(err)
	}
	settle := func() {
		kt, err := client.KafkaplaneV1beta1().KafkaTopics("ns").Get(ctx, "settles", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		kt.Status.TopicID = "id-settles"
		conditions.Set(&kt.Status.Conditions, conditions.Ready(1, metav1.ConditionTrue, v1beta1.ReasonReady, ""))
		if _, err := client.KafkaplaneV1beta1().KafkaTopics("ns").UpdateStatus(ctx, kt, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			obj, _, _ := m.GetByKey("ns", "settles")
			if c := obj.(*v1beta1.KafkaTopic); conditions.IsReady(c.Status.Conditions, 1) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("the cache did not see the status write")
	}
	r := &Resync{Topics: m, Admin: snapshotDuring{settle}, Now: func() time.Time { return now }}
	keys, err := r.Keys()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Name)
	}
	if len(got) != 1 || got[0] != "pending" {
		t.Fatalf("resync queued %v, want only [pending]", got)
	}
}
