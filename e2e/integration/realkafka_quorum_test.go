package integration

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

// quorumState is what DescribeQuorum reports: voters and observers by node ID with their
// metadata directory IDs.
type quorumState struct {
	leader    int32
	voters    map[int32][16]byte
	observers map[int32][16]byte
	// lastFetch is when the leader last heard from each voter.
	lastFetch map[int32]time.Time
}

func (q quorumState) voterIDs() []int32 {
	var ids []int32
	for id := range q.voters {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func describeQuorum(ctx context.Context, cl *kgo.Client) (quorumState, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	qt := kmsg.NewDescribeQuorumRequestTopic()
	qt.Topic = "__cluster_metadata"
	qt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, qt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return quorumState{}, err
	}
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		return quorumState{}, fmt.Errorf("DescribeQuorum: error codes %d", resp.ErrorCode)
	}
	p := resp.Topics[0].Partitions[0]
	q := quorumState{leader: p.LeaderID, voters: map[int32][16]byte{}, observers: map[int32][16]byte{}, lastFetch: map[int32]time.Time{}}
	for _, v := range p.CurrentVoters {
		q.voters[v.ReplicaID] = v.ReplicaDirectoryID
		q.lastFetch[v.ReplicaID] = time.UnixMilli(v.LastFetchTimestamp)
		if v.ReplicaID == p.LeaderID {
			q.lastFetch[v.ReplicaID] = time.Now()
		}
	}
	for _, o := range p.Observers {
		q.observers[o.ReplicaID] = o.ReplicaDirectoryID
	}
	return q, nil
}

// initialDirectoryID is the directory ID the operator gives an initial controller (sha256 of
// "<cluster ID>/<node ID>", 16 bytes): a node formatted as an initial voter carries it.
func initialDirectoryID(clusterID string, id int32) [16]byte {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", clusterID, id))
	var d [16]byte
	copy(d[:], sum[:16])
	return d
}

// traffic produces to topic rolling with acks=all until stopped, and reports failed sends.
type traffic struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	sent   atomic.Int64
	failed atomic.Int64
	first  atomic.Value
}

func startTraffic(t *testing.T, f *framework.Framework, ns string) *traffic {
	t.Helper()
	producer := realKafkaClient(t, f, ns, "c", "c-kafka-bootstrap."+ns+".svc:9093", userCertOf(t, f, ns, "app"),
		kgo.DefaultProduceTopic("rolling"), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(3*time.Minute))
	return startTrafficWith(producer)
}

// startTrafficWith produces with producer (its default topic and acks) until stopped.
func startTrafficWith(producer *kgo.Client) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	tr.wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-tr.stop:
				return
			default:
			}
			tr.sent.Add(1)
			if err := producer.ProduceSync(context.Background(), kgo.StringRecord(strconv.Itoa(i))).FirstErr(); err != nil {
				tr.failed.Add(1)
				tr.first.CompareAndSwap(nil, err.Error())
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	return tr
}

// acked is how many sends have been acknowledged so far.
func (tr *traffic) acked() int64 { return tr.sent.Load() - tr.failed.Load() }

func (tr *traffic) check(t *testing.T) {
	t.Helper()
	close(tr.stop)
	tr.wg.Wait()
	if tr.failed.Load() > 0 {
		t.Errorf("%d of %d sends failed (first: %v)", tr.failed.Load(), tr.sent.Load(), tr.first.Load())
	}
	t.Logf("%d records sent with acks=all, %d failed", tr.sent.Load(), tr.failed.Load())
}

func waitQuorum(t *testing.T, adminCl *kgo.Client, timeout time.Duration, what string, ok func(quorumState) error) quorumState {
	t.Helper()
	var q quorumState
	framework.Eventually(t, timeout, what, func() (bool, error) {
		var err error
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if q, err = describeQuorum(ctx, adminCl); err != nil {
			return false, err
		}
		if err := ok(q); err != nil {
			return false, fmt.Errorf("%w (voters %v, observers %d, leader %d)", err, q.voterIDs(), len(q.observers), q.leader)
		}
		return true, nil
	})
	return q
}

// controllerLosesDisk empties a running initial controller's disk (its claim and pod deleted,
// as when a volume is lost): it must come back as an observer with a new metadata directory,
// be made a voter in place of its old directory, and never format itself as an initial voter
// again; the cluster keeps its metadata (topics) and serves throughout.
func controllerLosesDisk(t *testing.T, f *framework.Framework, ns string) {
	ctx := t.Context()
	k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	adminCl := realKafkaClient(t, f, ns, "c", "c-kafka-bootstrap."+ns+".svc:9091", operatorCert(t, f, ns, "c"))
	// The quorum formed: the operator no longer formats its controllers as initial voters.
	framework.Eventually(t, time.Minute, "controllers' format args switched to --no-initial-controllers", func() (bool, error) {
		for _, id := range []int32{3, 4, 5} {
			cm, err := f.Kube.CoreV1().ConfigMaps(ns).Get(ctx, fmt.Sprintf("c-controllers-%d", id), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if cm.Data["format.args"] != "--no-initial-controllers" {
				return false, fmt.Errorf("controller %d: %q", id, cm.Data["format.args"])
			}
		}
		return true, nil
	})
	// The switch may roll the controllers: the disk is lost from a settled cluster.
	waitKafkaReady(t, f, ns, "c", readyAfterRoll)
	tr := startTraffic(t, f, ns)
	// Lose the disk of a controller that is not the leader.
	q, err := describeQuorum(ctx, adminCl)
	if err != nil {
		t.Fatal(err)
	}
	victim := int32(3)
	if q.leader == victim {
		victim = 4
	}
	name := fmt.Sprintf("c-controllers-%d", victim)
	if err := f.Kube.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, "data-"+name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// A pod the operator is replacing at this moment may be gone already (make test once found
	// it so): its next incarnation starts on the new, empty volume all the same.
	if err := f.Kube.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	start := time.Now()
	q = waitQuorum(t, adminCl, 6*time.Minute, fmt.Sprintf("controller %d back as a voter with a new directory", victim), func(q quorumState) error {
		d, ok := q.voters[victim]
		switch {
		case len(q.voters) != 3:
			return fmt.Errorf("%d voters", len(q.voters))
		case !ok:
			return fmt.Errorf("controller %d is not a voter", victim)
		case d == initialDirectoryID(k.Status.ClusterID, victim):
			return fmt.Errorf("controller %d still (or again) holds its initial directory", victim)
		}
		// (Kafka keeps listing the replica's observer entry for a while after it became a
		// voter; the voter itself must be the live replica.)
		if since := time.Since(q.lastFetch[victim]); since > 15*time.Second {
			return fmt.Errorf("the leader last heard from voter %d %s ago", victim, since.Round(time.Second))
		}
		return nil
	})
	t.Logf("controller %d rejoined the quorum with a new directory %s after losing its disk", victim, time.Since(start).Round(time.Second))
	waitKafkaReady(t, f, ns, "c", readyAfterRoll)
	tr.check(t)
	topics, err := kadm.NewClient(adminCl).ListTopics(ctx, "orders", "rolling")
	if err != nil || len(topics) != 2 || topics["orders"].Err != nil {
		t.Fatalf("the cluster's metadata after the controller lost its disk: %v %v", topics, err)
	}
}

// quorumScale grows the controller pool 3 → 5 and back to 3: the new controllers join as
// observers and become voters (AddRaftVoter); the removed ones leave the voters
// (RemoveRaftVoter) before their pods go; the voter set is checked after each step and the
// cluster serves acks=all traffic throughout.
func quorumScale(t *testing.T, f *framework.Framework, ns string) {
	ctx := t.Context()
	adminCl := realKafkaClient(t, f, ns, "c", "c-kafka-bootstrap."+ns+".svc:9091", operatorCert(t, f, ns, "c"))
	tr := startTraffic(t, f, ns)
	scale := func(n int) {
		patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n)
		if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaNodePools(ns).Patch(ctx, "controllers", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	scale(5)
	q := waitQuorum(t, adminCl, 6*time.Minute, "5 voters", func(q quorumState) error {
		if len(q.voters) != 5 {
			return fmt.Errorf("%d voters", len(q.voters))
		}
		return nil
	})
	t.Logf("3 → 5 controllers in %s: voters %v", time.Since(start).Round(time.Second), q.voterIDs())
	waitKafkaReady(t, f, ns, "c", readyAfterRoll)
	start = time.Now()
	scale(3)
	pool := func() []int32 {
		p, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaNodePools(ns).Get(ctx, "controllers", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids := slices.Clone(p.Status.NodeIDs)
		slices.Sort(ids)
		return ids
	}
	q = waitQuorum(t, adminCl, 6*time.Minute, "the pool's 3 controllers the live voters, one of them the leader", func(q quorumState) error {
		ids := pool()
		if len(ids) != 3 || !slices.Equal(ids, q.voterIDs()) {
			return fmt.Errorf("the pool's controllers %v are not the voters", ids)
		}
		if !slices.Contains(ids, q.leader) {
			return fmt.Errorf("leader %d is not one of them", q.leader)
		}
		for _, id := range ids {
			if since := time.Since(q.lastFetch[id]); since > 15*time.Second {
				return fmt.Errorf("the leader last heard from voter %d %s ago", id, since.Round(time.Second))
			}
		}
		return nil
	})
	waitKafkaReady(t, f, ns, "c", readyAfterRoll)
	t.Logf("5 → 3 controllers in %s: voters %v", time.Since(start).Round(time.Second), q.voterIDs())
	tr.check(t)
}
