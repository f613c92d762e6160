package clusters

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkacheck"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// fakeQuorum is a quorum whose voters and observers the test controls; adds and removes act
// on it as Kafka would.
type fakeQuorum struct {
	voters, observers []int32
	added, removed    []int32
	addedHost         string
	// dirs overrides a replica's directory ID (by node ID; voters and observers alike unless
	// voterDirs says otherwise).
	dirs, voterDirs map[int32]byte
	inVoters        bool
	// stale voters are not heard from (a directory that no longer exists); staleObservers
	// are observer entries that linger after their replica stopped or became a voter.
	stale, staleObservers map[int32]bool
}

func (q *fakeQuorum) dir(id int32) [16]byte {
	if q.inVoters {
		if d, ok := q.voterDirs[id]; ok {
			return [16]byte{d}
		}
	}
	if d, ok := q.dirs[id]; ok {
		return [16]byte{d}
	}
	return [16]byte{byte(id)}
}

func (q *fakeQuorum) QuorumMembers(context.Context, *v1beta1.Kafka) ([]kafkacheck.Replica, []kafkacheck.Replica, error) {
	conv := func(ids []int32) []kafkacheck.Replica {
		var out []kafkacheck.Replica
		for _, id := range ids {
			r := kafkacheck.Replica{ID: id, DirectoryID: q.dir(id), LastFetch: time.Now()}
			if q.inVoters && q.stale[id] || !q.inVoters && q.staleObservers[id] {
				r.LastFetch = time.Now().Add(-time.Minute)
			}
			out = append(out, r)
		}
		return out
	}
	q.inVoters = true
	voters := conv(q.voters)
	q.inVoters = false
	return voters, conv(q.observers), nil
}

func (q *fakeQuorum) AddVoter(_ context.Context, _ *v1beta1.Kafka, r kafkacheck.Replica, listener, host string, port int) error {
	q.added = append(q.added, r.ID)
	q.addedHost = listener + "://" + host
	q.observers = slices.DeleteFunc(q.observers, func(id int32) bool { return id == r.ID })
	q.voters = append(q.voters, r.ID)
	return nil
}

func (q *fakeQuorum) RemoveVoter(_ context.Context, _ *v1beta1.Kafka, r kafkacheck.Replica) error {
	q.removed = append(q.removed, r.ID)
	q.voters = slices.DeleteFunc(q.voters, func(id int32) bool { return id == r.ID })
	delete(q.voterDirs, r.ID)
	delete(q.stale, r.ID)
	return nil
}

func (e *env) scalePool(t *testing.T, pool string, replicas int) {
	t.Helper()
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	if _, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Patch(context.Background(), pool, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
}

// TestControllerScaleUpAndDown: a controller added to a running cluster is formatted as an
// observer and made a voter once it runs; a controller removed leaves the voters before its pod
// and objects go.
func TestControllerScaleUpAndDown(t *testing.T) {
	e := readyCluster(t) // one controller
	q := &fakeQuorum{}
	e.rec.Quorum = q
	first := e.pool(t, "controllers").Status.NodeIDs[0]
	q.voters = []int32{first}

	e.scalePool(t, "controllers", 2)
	e.reconcile(t)
	ids := e.pool(t, "controllers").Status.NodeIDs
	if len(ids) != 2 {
		t.Fatalf("controller IDs %v", ids)
	}
	joiner := ids[1]
	if ids[0] != first {
		joiner = ids[0]
	}
	name := v1beta1.NodeName("c", "controllers", joiner)
	cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data["format.args"], "--no-initial-controllers") {
		t.Fatalf("a joining controller's format args: %q", cm.Data["format.args"])
	}
	e.markReady(t)
	q.observers = []int32{joiner}
	e.reconcile(t)
	if !slices.Equal(q.added, []int32{joiner}) || !strings.HasPrefix(q.addedHost, "CONTROLPLANE-9090://"+name+".c-kafka-brokers.ns.svc") {
		t.Fatalf("added %v at %s", q.added, q.addedHost)
	}
	e.reconcile(t)
	if p := e.pods(t)[name]; p.Annotations[AnnotationQuorumVoter] != "true" {
		t.Fatalf("the new voter is not marked: %v", p.Annotations)
	}
	// Nothing more to ask of the quorum now.
	q.added = nil
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || strings.Contains(c.Message, "quorum") {
		t.Fatalf("condition: %+v", c)
	}

	// Scale down: the removed controller leaves the voters first, then goes.
	e.scalePool(t, "controllers", 1)
	e.reconcile(t)
	gone := e.pool(t, "controllers").Status.NodeIDs
	removedID := joiner
	if gone[0] == joiner {
		removedID = first
	}
	removedName := v1beta1.NodeName("c", "controllers", removedID)
	if !slices.Equal(q.removed, []int32{removedID}) {
		t.Fatalf("removed %v, want [%d]", q.removed, removedID)
	}
	if _, ok := e.pods(t)[removedName]; !ok {
		t.Fatal("the controller's pod went in the same reconcile as its removal from the voters")
	}
	e.reconcile(t)
	if _, ok := e.pods(t)[removedName]; ok {
		t.Fatal("the controller that left the quorum was not removed")
	}
}

func (e *env) pool(t *testing.T, name string) *v1beta1.KafkaNodePool {
	t.Helper()
	p, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestQuorumFormedAndDiskLost: once the quorum exists, a controller formatted with the initial
// voters is switched to --no-initial-controllers (an emptied disk must not format itself as an
// initial voter again, claiming a voter's place with an empty log). When it then comes back
// with a new metadata directory, the old (ID, directory) voter leaves the quorum first and the
// new directory is added next — matching voters by node ID alone left the node an observer for
// good, beside a voter that no longer existed.
func TestQuorumFormedAndDiskLost(t *testing.T) {
	e := readyCluster(t) // one controller, formatted with the initial quorum
	first := e.pool(t, "controllers").Status.NodeIDs[0]
	name := v1beta1.NodeName("c", "controllers", first)
	cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data["format.args"], "--initial-controllers") {
		t.Fatalf("the first controller's format args: %q", cm.Data["format.args"])
	}
	// Two other voters stand for the rest of a three-controller quorum.
	q := &fakeQuorum{voters: []int32{first, 50, 51}}
	e.rec.Quorum = q
	e.reconcile(t)
	e.reconcile(t)
	cm, err = e.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if args := cm.Data["format.args"]; strings.Contains(args, "--initial-controllers") || !strings.Contains(args, "--no-initial-controllers") {
		t.Fatalf("format args once the quorum formed: %q", args)
	}
	if p := e.pods(t)[name]; p.Annotations[AnnotationQuorumVoter] != "true" {
		t.Fatalf("the initial voter's pod is not marked: %v", p.Annotations)
	}
	if len(q.added)+len(q.removed) != 0 {
		t.Fatalf("the quorum changed: added %v removed %v", q.added, q.removed)
	}

	// The disk is lost: a new pod, formatted as an observer with a new directory, starts a
	// moment after the old one stopped.
	if err := e.kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.reconcile(t)
	e.markReady(t)
	e.startedNow(t, name)
	q.voterDirs = map[int32]byte{first: byte(first)}
	q.dirs = map[int32]byte{first: 99}
	q.observers = []int32{first}
	// The leader heard from the old directory a moment ago: it is not this pod, and it may not
	// be removed yet either.
	e.reconcile(t)
	if len(q.removed)+len(q.added) != 0 {
		t.Fatalf("removed %v added %v while the old directory was still heard from", q.removed, q.added)
	}
	if p := e.pods(t)[name]; p.Annotations[AnnotationQuorumVoter] == "true" {
		t.Fatal("the new pod was taken for the old directory's voter (it stays an observer forever)")
	}
	if c := findReady(e.kafka(t)); c == nil || !strings.Contains(c.Message, "waits to replace its old metadata directory") {
		t.Fatalf("Ready while the directory waits: %+v", c)
	}
	// The old directory falls silent.
	q.stale = map[int32]bool{first: true}
	e.reconcile(t)
	if !slices.Equal(q.removed, []int32{first}) || len(q.added) != 0 {
		t.Fatalf("removed %v added %v, want the old directory of %d removed first", q.removed, q.added, first)
	}
	e.reconcile(t)
	if !slices.Equal(q.added, []int32{first}) {
		t.Fatalf("added %v, want %d with its new directory", q.added, first)
	}
	// The observer entry lingers beside the new voter, as Kafka lists it for a while: the
	// live voter is not removed again (that looped on real Kafka: add, remove, add…).
	q.observers = []int32{first}
	q.voterDirs = nil
	q.staleObservers = map[int32]bool{first: true}
	e.reconcile(t)
	e.reconcile(t)
	if !slices.Equal(q.removed, []int32{first}) || !slices.Equal(q.added, []int32{first}) {
		t.Fatalf("removed %v added %v after the new voter was added", q.removed, q.added)
	}
	// An entry of an older directory lingers too: it is not fresh, so it changes nothing.
	q.dirs = map[int32]byte{first: 98}
	q.voterDirs = map[int32]byte{first: 99}
	e.reconcile(t)
	if !slices.Equal(q.removed, []int32{first}) || !slices.Equal(q.added, []int32{first}) {
		t.Fatalf("removed %v added %v for a lingering entry", q.removed, q.added)
	}
	if p := e.pods(t)[name]; p.Annotations[AnnotationQuorumVoter] == "true" {
		t.Fatal("the pod is marked a moment after it started")
	}
	// Once the pod has run long enough, the voter the leader hears from is this pod.
	e.rec.Opts.Now = func() time.Time { return time.Now().Add(time.Minute) }
	e.reconcile(t)
	if p := e.pods(t)[name]; p.Annotations[AnnotationQuorumVoter] != "true" {
		t.Fatalf("the replaced voter is not marked: %v", p.Annotations)
	}
}

// startedNow records that the pod's container started now.
func (e *env) startedNow(t *testing.T, name string) {
	t.Helper()
	p := e.pods(t)[name]
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "kafka", Ready: true,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}
	if _, err := e.kube.CoreV1().Pods(ns).UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
}
