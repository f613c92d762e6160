package kafkadist

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRealKafkaStarts runs real Apache Kafka from the laid-out distribution — Kafka's own jars
// from Maven Central, our bin scripts — for the default and the newest version: a KRaft node
// (controller and broker) is formatted with kafka-storage.sh, started with
// kafka-server-start.sh, and then asked by a Go client: DescribeQuorum shows it as the one voter
// with a directory ID, and a topic is created, produced to and consumed from. (Real Kafka;
// no kfake.)
func TestRealKafkaStarts(t *testing.T) {
	for _, v := range []string{DefaultVersion, Newest} {
		t.Run(v, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			start := time.Now()
			d, err := Ensure(ctx, Options{Version: v, Log: testWriter{t}})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("distribution ready in %s: %s", time.Since(start).Round(time.Millisecond), d.Home)
			for _, f := range []string{"bin/kafka-server-start.sh", "bin/kafka-storage.sh", "bin/kafka-run-class.sh", "config/log4j2.properties", "libs/kafka_2.13-" + v + ".jar"} {
				if _, err := os.Stat(filepath.Join(d.Home, f)); err != nil {
					t.Fatalf("the distribution lacks %s: %v", f, err)
				}
			}
			runNode(ctx, t, d)
		})
	}
}

func runNode(ctx context.Context, t *testing.T, d *Dist) {
	started := time.Now()
	n, err := StartNode(ctx, d, NodeOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Stop(30 * time.Second)
		if t.Failed() {
			t.Logf("Kafka's log:\n%s", tail(n.Log(), 6000))
		}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Bootstrap), kgo.ConsumeTopics("smoke"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for {
		if _, err := adm.ApiVersions(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("Kafka did not answer: %v", ctx.Err())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("Kafka %s answered %s after start", d.Version, time.Since(started).Round(time.Millisecond))

	req := kmsg.NewPtrDescribeQuorumRequest()
	qt := kmsg.NewDescribeQuorumRequestTopic()
	qt.Topic = "__cluster_metadata"
	qt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, qt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("DescribeQuorum: %+v", resp)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || len(p.CurrentVoters) != 1 || p.CurrentVoters[0].ReplicaID != 1 || p.CurrentVoters[0].ReplicaDirectoryID == ([16]byte{}) || p.LeaderID != 1 {
		t.Fatalf("quorum: leader %d, voters %+v, error %d", p.LeaderID, p.CurrentVoters, p.ErrorCode)
	}

	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "smoke"); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "smoke", Value: []byte("hello from " + d.Version)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fetches := cl.PollRecords(ctx, 1)
	if errs := fetches.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if recs := fetches.Records(); len(recs) != 1 || string(recs[0].Value) != "hello from "+d.Version {
		t.Fatalf("consumed %v", recs)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
