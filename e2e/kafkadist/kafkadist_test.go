package kafkadist

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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
	dir := t.TempDir()
	broker, controller := freePort(t), freePort(t)
	props := fmt.Sprintf(`process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:%[2]d
listeners=PLAINTEXT://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=%[3]s/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
`, broker, controller, dir)
	cfg := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(cfg, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "KAFKA_HEAP_OPTS=-Xmx256m -Xms256m", "LOG_DIR="+filepath.Join(dir, "logs"))
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, filepath.Join(d.Home, "bin", args[0]), args[1:]...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	id := run("kafka-storage.sh", "random-uuid")
	run("kafka-storage.sh", "format", "--cluster-id", id, "--config", cfg, "--standalone")

	var log bytes.Buffer
	srv := exec.Command(filepath.Join(d.Home, "bin", "kafka-server-start.sh"), cfg)
	srv.Env, srv.Stdout, srv.Stderr = env, &log, &log
	srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	started := time.Now()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-srv.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-srv.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("Kafka's log:\n%s", tail(log.String(), 6000))
		}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(fmt.Sprintf("127.0.0.1:%d", broker)), kgo.ConsumeTopics("smoke"),
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

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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
