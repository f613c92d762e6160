package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

func scalePool(t *testing.T, f *framework.Framework, ns, pool string, n int) {
	t.Helper()
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n)
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaNodePools(ns).Patch(t.Context(), pool, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// brokerScaleDownAndRF adds a fourth broker, gives it a replica (a KafkaTopic of 12 partitions
// with RF 1, whose partition 0 is moved onto it with a reassignment), and scales back to 3: the scale-down is refused while the broker holds
// the replica, and done once the replica is moved (as a user would, with a reassignment); then
// the topic's replication factor goes 1 → 3 from the KafkaTopic and Kafka carries it out.
//
// Kafka's StripedReplicaPlacer visits the racks in an order it reshuffles every N partitions (N
// the unfenced brokers) and, within a rack the new broker shares, alternates from a random
// offset, so a new broker can get no replica of 12: a CI run saw 5/3/4 over brokers 0/1/2.
func brokerScaleDownAndRF(t *testing.T, f *framework.Framework, ns string) {
	ctx := t.Context()
	adminCl := realKafkaClient(t, f, ns, "c", "c-kafka-bootstrap."+ns+".svc:9091", operatorCert(t, f, ns, "c"))
	adm := kadm.NewClient(adminCl)
	scalePool(t, f, ns, "brokers", 4)
	var added int32 = -1
	framework.Eventually(t, 5*time.Minute, "a fourth broker registered", func() (bool, error) {
		bs, err := adm.ListBrokers(ctx)
		if err != nil || len(bs) != 4 {
			return false, fmt.Errorf("brokers %v: %v", bs.NodeIDs(), err)
		}
		for _, id := range bs.NodeIDs() {
			if !slices.Contains([]int32{0, 1, 2}, id) {
				added = id
			}
		}
		return true, nil
	})
	waitKafkaReady(t, f, ns, "c", readyAfterRoll)
	// The Kafka's generation does not change with a pool's replicas: its Ready may still be the
	// one from before the scale-up; the pool's Ready is for the pool's generation.
	framework.Eventually(t, readyAfterRoll, "pool brokers Ready with 4 nodes", func() (bool, error) {
		p, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaNodePools(ns).Get(ctx, "brokers", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(p.Status.Conditions, "Ready")
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != p.Generation || len(p.Status.NodeIDs) != 4 {
			return false, fmt.Errorf("pool status %+v", p.Status)
		}
		return true, nil
	})
	if _, err := f.Apply(ctx, ns, []byte(`
apiVersion: kafkaplane.io/v1beta1
kind: KafkaTopic
metadata: {name: moving, labels: {kafkaplane.io/cluster: c}}
spec: {partitions: 12, replicas: 1}
`)); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, f, ns, "moving", "Ready")
	partitionsOn := func() (on []int32, all string) {
		td, err := adm.ListTopics(ctx, "moving")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range td["moving"].Partitions {
			if slices.Contains(p.Replicas, added) {
				on = append(on, p.Partition)
			}
		}
		return on, fmt.Sprintf("%+v", td["moving"].Partitions)
	}
	// Partition 0 goes to the new broker whatever Kafka chose (a no-op where it is there), so
	// that the step does not depend on the placement.
	_, placed := partitionsOn()
	t.Logf("Kafka's placement of moving: %s", placed)
	req := kadm.AlterPartitionAssignmentsReq{}
	req.Assign("moving", 0, []int32{added})
	res, err := adm.AlterPartitionAssignments(ctx, req)
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	var onAdded []int32
	framework.Eventually(t, 2*time.Minute, fmt.Sprintf("partition 0 of moving on broker %d", added), func() (bool, error) {
		var all string
		onAdded, all = partitionsOn()
		return slices.Contains(onAdded, 0), fmt.Errorf("partitions %s", all)
	})

	scalePool(t, f, ns, "brokers", 3)
	framework.Eventually(t, 2*time.Minute, "the scale-down refused with the reason", func() (bool, error) {
		k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range k.Status.Conditions {
			if c.Type == "Ready" && strings.Contains(c.Message, fmt.Sprintf("broker %d still hosts a replica", added)) {
				return true, nil
			}
		}
		return false, fmt.Errorf("conditions %+v", k.Status.Conditions)
	})
	if bs, err := adm.ListBrokers(ctx); err != nil || !slices.Contains(bs.NodeIDs(), added) {
		t.Fatalf("broker %d went while it held replicas: %v %v", added, bs.NodeIDs(), err)
	}
	// Move the replicas off it, as a user would with kafka-reassign-partitions.
	req = kadm.AlterPartitionAssignmentsReq{}
	for _, p := range onAdded {
		req.Assign("moving", p, []int32{p % 3})
	}
	if _, err := adm.AlterPartitionAssignments(ctx, req); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	framework.Eventually(t, 5*time.Minute, fmt.Sprintf("broker %d removed once it holds nothing", added), func() (bool, error) {
		bs, err := adm.ListBrokers(ctx)
		if err != nil || len(bs) != 3 || slices.Contains(bs.NodeIDs(), added) {
			return false, fmt.Errorf("brokers %v: %v", bs.NodeIDs(), err)
		}
		return kafkaReady(t, f, ns, "c")()
	})
	t.Logf("broker %d removed %s after its replicas moved", added, time.Since(start).Round(time.Second))
	// Kafka keeps a removed broker's registration (fenced) until it is unregistered; a stale
	// registration keeps metadata.version from being raised past what it supported.
	framework.Eventually(t, 2*time.Minute, fmt.Sprintf("broker %d unregistered from Kafka's metadata", added), func() (bool, error) {
		ids, err := registeredBrokers(ctx, adminCl)
		if err != nil || slices.Contains(ids, added) {
			return false, fmt.Errorf("registered brokers (fenced included) %v: %v", ids, err)
		}
		k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
		if err != nil || slices.Contains(k.Status.RegisteredNodeIDs, added) {
			return false, fmt.Errorf("status.registeredNodeIds %v: %v", k.Status.RegisteredNodeIDs, err)
		}
		return true, nil
	})

	// Replication factor 1 → 3 from the KafkaTopic.
	patch := []byte(`{"spec":{"replicas":3}}`)
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns).Patch(ctx, "moving", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	framework.Eventually(t, 3*time.Minute, "moving at RF 3 with full ISR", func() (bool, error) {
		td, err := adm.ListTopics(ctx, "moving")
		if err != nil {
			return false, err
		}
		for _, p := range td["moving"].Partitions {
			if len(p.Replicas) != 3 || len(p.ISR) != 3 {
				return false, fmt.Errorf("partition %d replicas %v isr %v", p.Partition, p.Replicas, p.ISR)
			}
		}
		return true, nil
	})
	waitTopic(t, f, ns, "moving", "Ready")
	t.Logf("replication factor 1 → 3 carried out by Kafka in %s", time.Since(start).Round(time.Second))
}

// registeredBrokers are the brokers Kafka has registered, fenced ones included (DescribeCluster
// v2, KIP-1073).
func registeredBrokers(ctx context.Context, cl *kgo.Client) ([]int32, error) {
	req := kmsg.NewPtrDescribeClusterRequest()
	req.IncludeFencedBrokers = true
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		return nil, err
	}
	var ids []int32
	for _, b := range resp.Brokers {
		ids = append(ids, b.NodeID)
	}
	return ids, nil
}

// finalizedMetadataVersion is the cluster's finalized metadata.version level (ApiVersions).
func finalizedMetadataVersion(ctx context.Context, cl *kgo.Client) (int16, error) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "kafkaplane-e2e", "0"
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, err
	}
	for _, f := range resp.FinalizedFeatures {
		if f.Name == "metadata.version" {
			return f.MaxVersionLevel, nil
		}
	}
	return 0, fmt.Errorf("no finalized metadata.version")
}

// upgrade moves the cluster from Kafka 4.1.1 to 4.4.0 in Strimzi's two steps: the version first,
// with spec.kafka.metadataVersion held at 4.1-IV1 — every node rolls onto the new image
// (controllers first) while the producer keeps its acks=all sends, and metadata.version stays —
// then metadataVersion is raised to 4.3-IV0 on the running cluster without a roll, and finally
// removed, which raises it to the highest level every node supports. Each level is what Kafka
// reports, and the status reports Kafka's level.
func upgrade(t *testing.T, f *framework.Framework, ns string) {
	ctx := t.Context()
	adminCl := realKafkaClient(t, f, ns, "c", "c-kafka-bootstrap."+ns+".svc:9091", operatorCert(t, f, ns, "c"))
	before, err := finalizedMetadataVersion(ctx, adminCl)
	if err != nil {
		t.Fatal(err)
	}
	if before != 27 {
		t.Fatalf("metadata.version level %d before the upgrade, want 4.1.1's 27 (4.1-IV1)", before)
	}
	tr := startTraffic(t, f, ns)
	start := time.Now()
	patch := []byte(`{"spec":{"kafka":{"version":"4.4.0","metadataVersion":"4.1-IV1"}}}`)
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Patch(ctx, "c", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 12*time.Minute, "every node on apache/kafka:4.4.0 and the status at 4.4.0", func() (bool, error) {
		for name, p := range nodePods(t, f, ns) {
			if p.Spec.Containers[0].Image != "apache/kafka:4.4.0" || !serving(p) {
				return false, fmt.Errorf("%s: %s", name, p.Spec.Containers[0].Image)
			}
		}
		k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
		if err != nil || k.Status.KafkaVersion != "4.4.0" {
			return false, fmt.Errorf("status version %q: %v", k.Status.KafkaVersion, err)
		}
		return kafkaReady(t, f, ns, "c")()
	})
	rolled := time.Since(start).Round(time.Second)
	tr.check(t)
	if level, err := finalizedMetadataVersion(ctx, adminCl); err != nil || level != 27 {
		t.Fatalf("metadata.version level %d after the roll with metadataVersion 4.1-IV1, want 27: %v", level, err)
	}
	restarts := func() map[string]string {
		out := map[string]string{}
		for name, p := range nodePods(t, f, ns) {
			out[name] = string(p.UID)
		}
		return out
	}
	pods := restarts()

	raise := func(mv string, want int16, wantStatus string) {
		t.Helper()
		value := "null"
		if mv != "" {
			value = strconv.Quote(mv)
		}
		patch := fmt.Appendf(nil, `{"spec":{"kafka":{"metadataVersion":%s}}}`, value)
		if _, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Patch(ctx, "c", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 2*time.Minute, "metadata.version at "+wantStatus, func() (bool, error) {
			level, err := finalizedMetadataVersion(ctx, adminCl)
			if err != nil || level != want {
				return false, fmt.Errorf("level %d, want %d: %v", level, want, err)
			}
			k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, "c", metav1.GetOptions{})
			if err != nil || k.Status.KafkaMetadataVersion != wantStatus {
				return false, fmt.Errorf("status.kafkaMetadataVersion %q: %v", k.Status.KafkaMetadataVersion, err)
			}
			return kafkaReady(t, f, ns, "c")()
		})
	}
	raise("4.3-IV0", 30, "4.3-IV0")
	raise("", 33, "4.4-IV2")
	if now := restarts(); !maps.Equal(now, pods) {
		t.Errorf("nodes were replaced while only metadata.version changed: %v → %v", pods, now)
	}
	t.Logf("upgraded 4.1.1 → 4.4.0 in %s with metadata.version held at level 27; then raised to 30 (4.3-IV0) and 33 (4.4-IV2) without a restart, in %s",
		rolled, (time.Since(start) - rolled).Round(time.Second))
}
