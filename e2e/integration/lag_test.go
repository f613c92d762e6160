package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
)

// TestTopicOperatorExportsConsumerLag (kfake): with --consumer-lag, the topic operator's
// /metrics carries each selected group's committed offset and lag per partition, with Kafka
// Exporter's metric names, read from Kafka by the operator's own connection; a group outside
// --consumer-lag-groups is not exported.
func TestTopicOperatorExportsConsumerLag(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	ctx := t.Context()
	kf, adm := startKafka(t, kafkafake.Options{})
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(kf.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 10 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Partition: int32(i % 2), Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for group, at := range map[string]int64{"billing": 2, "audit": 5} {
		offsets := kadm.Offsets{}
		offsets.Add(kadm.Offset{Topic: "orders", Partition: 0, At: at, LeaderEpoch: -1})
		offsets.Add(kadm.Offset{Topic: "orders", Partition: 1, At: at, LeaderEpoch: -1})
		if _, err := adm.CommitOffsets(ctx, group, offsets); err != nil {
			t.Fatal(err)
		}
	}
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	startOperator(t, f, "topic-operator", ns, kf.Bootstrap(), fmt.Sprintf("--http-address=127.0.0.1:%d", port),
		"--consumer-lag", "--consumer-lag-groups=bill.*", "--consumer-lag-interval=1s")
	var body string
	framework.Eventually(t, 30*time.Second, "billing's lag on /metrics", func() (bool, error) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `kafka_consumergroup_lag{consumergroup="billing",partition="0",topic="orders"} 3`), err
	})
	for _, want := range []string{
		`kafka_consumergroup_lag{consumergroup="billing",partition="1",topic="orders"} 3`,
		`kafka_consumergroup_current_offset{consumergroup="billing",partition="0",topic="orders"} 2`,
		`kafka_topic_partition_current_offset{partition="0",topic="orders"} 5`,
		`kafkaplane_lag_read_failed 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `consumergroup="audit"`) {
		t.Error("audit, outside --consumer-lag-groups, is exported")
	}
}
