package clusters

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkalane"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
)

// hangingDynamic is a Kafka that does not answer until released.
type hangingDynamic struct{ release chan struct{} }

func (h *hangingDynamic) Apply(ctx context.Context, _ *v1beta1.Kafka, _ map[string]v1beta1.ConfigValue) ([]string, error) {
	select {
	case <-h.release:
		return []string{"log.retention.ms"}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestHangingKafkaNeitherHoldsTheWorkerNorFlipsReady: a Ready cluster whose Kafka stops
// answering is reconciled in about the lanes' wait, not the call's timeout, and its Ready
// condition for the generation stays as it was; a new generation says what it waits for, and the
// late answer queues the cluster, whose next reconcile uses it.
func TestHangingKafkaNeitherHoldsTheWorkerNorFlipsReady(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil // no Deployment controller here to make entity operators available
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 2, v1beta1.RoleBroker))
	e.reconcile(t)
	e.markReady(t)
	e.reconcile(t)
	requeued := make(chan string, 4)
	lanes := kafkalane.New(func(ns, name string) { requeued <- ns + "/" + name })
	lanes.Wait = 100 * time.Millisecond
	h := &hangingDynamic{release: make(chan struct{})}
	e.rec.Dynamic = &kafkalane.Dynamic{Lanes: lanes, Next: h}
	ready := findReady(e.kafka(t))
	if ready == nil || ready.Status != metav1.ConditionTrue {
		t.Fatalf("the cluster is not Ready to begin with: %+v", ready)
	}

	start := time.Now()
	res, err := e.rec.Reconcile(context.Background(), controller.Key{Namespace: ns, Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a reconcile with a hanging Kafka took %s", d)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > 10*time.Second {
		t.Fatalf("requeue after %s, want a recheck", res.RequeueAfter)
	}
	time.Sleep(300 * time.Millisecond)
	if c := findReady(e.kafka(t)); c == nil || c.Status != metav1.ConditionTrue || c.Message != ready.Message {
		t.Fatalf("Ready changed while Kafka's answer was awaited: %+v", c)
	}

	// A spec change is reported at once, with the wait (the fake clientset keeps no
	// generations: the patch sets it).
	patch := []byte(`{"metadata":{"generation":2},"spec":{"kafka":{"config":{"log.retention.ms":"3600000"}}}}`)
	if _, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).Patch(context.Background(), "c", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.reconcile(t)
	k = e.kafka(t)
	c := findReady(k)
	if c == nil || c.ObservedGeneration != k.Generation || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "has not answered yet") {
		t.Fatalf("a new generation with Kafka's answer awaited: %+v (generation %d)", c, k.Generation)
	}

	close(h.release)
	select {
	case key := <-requeued:
		if key != ns+"/c" {
			t.Fatalf("queued %s", key)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Kafka's late answer did not queue the cluster")
	}
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("after the answer: %+v", c)
	}
}
