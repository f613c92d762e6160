// Command bench-lag measures what the topic operator's consumer-lag export costs (kfake, 3
// brokers; Kafka is not what is measured): -groups consumer groups each committed on every one
// of -partitions partitions, read every -interval. It prints, per read of Kafka, the requests by
// kind and the read's duration, then the size and time of one /metrics scrape and the
// operator's RSS and CPU.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafkaplane/kafkaplane/e2e/bench"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
)

func main() {
	partitions := flag.Int("partitions", 1000, "partitions (in topics of 10)")
	groups := flag.Int("groups", 10, "consumer groups, each committed on every partition")
	interval := flag.Duration("interval", 5*time.Second, "the operator's --consumer-lag-interval")
	flag.Parse()
	if err := run(*partitions, *groups, *interval); err != nil {
		fmt.Fprintf(os.Stderr, "bench-lag: %v\n", err)
		os.Exit(1)
	}
}

func run(partitions, groups int, interval time.Duration) error {
	ctx := context.Background()
	e, dir, stop, err := bench.StartEnv(ctx)
	if err != nil {
		return err
	}
	defer stop()
	kf, err := kafkafake.Start(kafkafake.Options{Brokers: 3})
	if err != nil {
		return err
	}
	defer kf.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kf.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topics := (partitions + 9) / 10
	var names []string
	for i := range topics {
		names = append(names, fmt.Sprintf("lag-%04d", i))
	}
	if _, err := adm.CreateTopics(ctx, 10, 1, nil, names...); err != nil {
		return fmt.Errorf("creating topics: %w", err)
	}
	var records []*kgo.Record
	for _, t := range names {
		for p := range int32(10) {
			for range 3 {
				records = append(records, &kgo.Record{Topic: t, Partition: p, Value: []byte("x")})
			}
		}
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("producing: %w", err)
	}
	for g := range groups {
		offsets := kadm.Offsets{}
		for _, t := range names {
			for p := range int32(10) {
				offsets.Add(kadm.Offset{Topic: t, Partition: p, At: int64(g % 3), LeaderEpoch: -1})
			}
		}
		if _, err := adm.CommitOffsets(ctx, fmt.Sprintf("group-%03d", g), offsets); err != nil {
			return fmt.Errorf("committing: %w", err)
		}
	}
	var kreqs bench.KafkaRequests
	kreqs.Count(kf)

	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		return err
	}
	p, err := localcluster.StartProcess("bench-lag-topic-operator", dir, bench.OperatorEnv(), e.Binaries["topic-operator"],
		"--kubeconfig="+e.Cluster.Kubeconfig, "--watch-namespaces=default", "--resource-labels=kafkaplane.io/cluster=bench",
		"--bootstrap-servers="+kf.Bootstrap(), "--leader-elect=false", fmt.Sprintf("--http-address=127.0.0.1:%d", port),
		"--log-level=ERROR", "--consumer-lag", "--consumer-lag-interval="+interval.String(),
		"--consumer-lag-max-partitions="+strconv.Itoa(partitions*groups))
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop(10 * time.Second) }()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	series := regexp.MustCompile(`(?m)^kafka_consumergroup_lag\{`)
	want := topics * 10 * groups
	deadline := time.Now().Add(2 * time.Minute)
	for {
		body, _, err := scrape(url)
		if err == nil && len(series.FindAllStringIndex(body, -1)) == want {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d lag series never appeared (last error %v)", want, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Reads of Kafka over 4 intervals, from the first full one.
	k0 := kreqs.Snapshot()
	cpu0 := bench.CPUSeconds(p.Pid())
	time.Sleep(4 * interval)
	k1 := kreqs.Snapshot()
	cpu1 := bench.CPUSeconds(p.Pid())
	body, took, err := scrape(url)
	if err != nil {
		return err
	}
	fmt.Printf("%d groups × %d partitions (%d topics): %d lag series\n", groups, topics*10, topics, len(series.FindAllStringIndex(body, -1)))
	fmt.Printf("Kafka requests in 4 reads: %s\n", bench.Diff(k1, k0))
	fmt.Printf("last read took %s s (kafkaplane_lag_read_duration_seconds); operator CPU %.2f s per read\n",
		metric(body, "kafkaplane_lag_read_duration_seconds"), (cpu1-cpu0)/4)
	fmt.Printf("one /metrics scrape: %.0f KiB in %s\n", float64(len(body))/1024, took.Round(time.Millisecond))
	fmt.Printf("operator peak RSS %s\n", bench.PeakRSS(p.Pid()))
	return nil
}

func scrape(url string) (string, time.Duration, error) {
	start := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), time.Since(start), err
}

func metric(body, name string) string {
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return "?"
}
