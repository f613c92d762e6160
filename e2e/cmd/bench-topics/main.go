// Command bench-topics measures the topic operator against a floor: a bare client making only
// the essential calls. For each N it applies N KafkaTopics (as a user would) and prints the time
// until all are Ready, topics/s, API writes per topic, Kafka requests, the operator's peak RSS,
// and the idle cost of a resync; then the same for the floor, and the ratio. Floor and operator
// runs take turns, $BENCH_RUNS of each (default 3); per N it prints each run's ratio and the
// median, the operator's CPU seconds per 1,000 topics, and the time from starting the operator
// to its first KafkaTopic Ready (one created before the start).
//
// Usage: bench-topics -n 1000,10000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/bench"
	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
)

const userWorkers = 32

func main() {
	ns := flag.String("n", "1000", "comma-separated topic counts")
	flag.Parse()
	if err := run(*ns); err != nil {
		fmt.Fprintf(os.Stderr, "bench-topics: %v\n", err)
		os.Exit(1)
	}
}

type runner struct {
	e     *env.Env
	kp    versioned.Interface
	kf    *kafkafake.Cluster
	kreqs bench.KafkaRequests
	bin   string
}

func run(counts string) error {
	ctx := context.Background()
	e, dir, stop, err := bench.StartEnv(ctx)
	if err != nil {
		return err
	}
	defer stop()
	b := &runner{e: e, bin: e.Binaries["topic-operator"]}
	if b.kp, err = versioned.NewForConfig(e.Config); err != nil {
		return err
	}
	if b.kf, err = kafkafake.Start(kafkafake.Options{Brokers: 3}); err != nil {
		return err
	}
	defer b.kf.Close()
	b.kreqs.Count(b.kf)
	runs := bench.Runs()
	fmt.Printf("%-10s %-8s %9s %9s %12s %14s %10s %s\n", "run", "N", "seconds", "topics/s", "writes/topic", "kafka requests", "peak RSS", "idle resync")
	for _, s := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad count %q", s)
		}
		var ratios, cpus, startups bench.Series
		// Floor and operator runs take turns, so that a slower stretch of the machine falls on
		// both.
		for run := 1; run <= runs; run++ {
			floor := time.Duration(0)
			if os.Getenv("BENCH_SKIP_FLOOR") == "" {
				if floor, err = b.floor(ctx, n, run); err != nil {
					return fmt.Errorf("floor %d: %w", n, err)
				}
			}
			op, err := b.operator(ctx, n, run, dir)
			if err != nil {
				return fmt.Errorf("operator %d: %w", n, err)
			}
			cpus = append(cpus, op.cpu/float64(n)*1000)
			startups = append(startups, op.startup.Seconds())
			if floor > 0 {
				ratios = append(ratios, op.d.Seconds()/floor.Seconds())
			}
		}
		fmt.Printf("N=%d, %d runs:\n", n, runs)
		if len(ratios) > 0 {
			fmt.Printf("  ratio operator/floor: %s\n", ratios.String("%.2fx"))
		}
		fmt.Printf("  operator CPU per 1,000 topics: %s\n", cpus.String("%.2fs"))
		fmt.Printf("  process start to its first KafkaTopic Ready: %s\n\n", startups.String("%.3fs"))
	}
	return nil
}

func (b *runner) namespace(ctx context.Context, name string) error {
	_, err := b.e.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	return err
}

// createAll creates n KafkaTopics with userWorkers parallel clients, sending each name to out.
func (b *runner) createAll(ctx context.Context, ns string, n int, out chan<- string) error {
	names := make(chan string, n)
	for i := range n {
		names <- fmt.Sprintf("%s-%06d", ns, i) // topics differ between runs: each run creates its own
	}
	close(names)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range userWorkers {
		wg.Go(func() {
			for name := range names {
				kt := &v1beta1.KafkaTopic{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1beta1.LabelCluster: "bench"}},
					Spec: v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](3), Replicas: ptr.To[int32](1),
						Config: map[string]v1beta1.ConfigValue{"retention.ms": "3600000"}}}
				if _, err := b.kp.KafkaplaneV1beta1().KafkaTopics(ns).Create(ctx, kt, metav1.CreateOptions{}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				if out != nil {
					out <- name
				}
			}
		})
	}
	wg.Wait()
	if out != nil {
		close(out)
	}
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	return nil
}

// floor makes only the essential calls: the user's creates, CreateTopics in batches, and per
// topic one finalizer patch and one status write.
func (b *runner) floor(ctx context.Context, n, run int) (time.Duration, error) {
	ns := fmt.Sprintf("floor-%d-%d", n, run)
	if err := b.namespace(ctx, ns); err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.kf.ListenAddrs()...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ready, err := b.watchReady(ctx, ns)
	if err != nil {
		return 0, err
	}
	defer ready.Stop()
	w0, err := bench.Writes(ctx, b.e.Kube, "kafkatopics")
	if err != nil {
		return 0, err
	}
	k0 := b.kreqs.Snapshot()
	start := time.Now()
	created := make(chan string, n)
	errc := make(chan error, 1)
	go func() { errc <- b.createAll(ctx, ns, n, created) }()
	todo := make(chan string, n)
	var wg sync.WaitGroup
	var writeErr atomic.Value
	for range userWorkers {
		wg.Go(func() {
			for name := range todo {
				api := b.kp.KafkaplaneV1beta1().KafkaTopics(ns)
				patch := `[{"op":"add","path":"/metadata/finalizers","value":["kafkaplane.io/topic-operator"]}]`
				kt, err := api.Patch(ctx, name, types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
				if err == nil {
					kt.Status.TopicName, kt.Status.ObservedGeneration = name, kt.Generation
					conditions.Set(&kt.Status.Conditions, conditions.Ready(kt.Generation, metav1.ConditionTrue, "Ready", ""))
					_, err = api.UpdateStatus(ctx, kt, metav1.UpdateOptions{})
				}
				if err != nil {
					writeErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	// Batch the creates: whatever has arrived, up to 1000 topics a request.
	for {
		name, ok := <-created
		if !ok {
			break
		}
		batch := []string{name}
	fill:
		for len(batch) < 1000 {
			select {
			case nm, ok := <-created:
				if !ok {
					break fill
				}
				batch = append(batch, nm)
			default:
				break fill
			}
		}
		req := kmsg.NewPtrCreateTopicsRequest()
		for _, nm := range batch {
			t := kmsg.NewCreateTopicsRequestTopic()
			t.Topic, t.NumPartitions, t.ReplicationFactor = nm, 3, 1
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name, c.Value = "retention.ms", kmsg.StringPtr("3600000")
			t.Configs = append(t.Configs, c)
			req.Topics = append(req.Topics, t)
		}
		if _, err := req.RequestWith(ctx, cl); err != nil {
			return 0, err
		}
		for _, nm := range batch {
			todo <- nm
		}
	}
	close(todo)
	wg.Wait()
	if err := <-errc; err != nil {
		return 0, err
	}
	if err, _ := writeErr.Load().(error); err != nil {
		return 0, err
	}
	if err := ready.Wait(ctx, n, nil); err != nil {
		return 0, err
	}
	d := time.Since(start)
	w1, _ := bench.Writes(ctx, b.e.Kube, "kafkatopics")
	fmt.Printf("%-10s %-8d %9.1f %9.0f %12.2f %14s %10s %s\n", fmt.Sprintf("floor#%d", run), n, d.Seconds(), float64(n)/d.Seconds(),
		float64(w1-w0)/float64(n), bench.Diff(b.kreqs.Snapshot(), k0), "-", "-")
	return d, nil
}

// opRun is what an operator run measured.
type opRun struct {
	d time.Duration
	// cpu is the operator's CPU seconds for the run; startup the time from starting the process
	// to its first KafkaTopic Ready.
	cpu     float64
	startup time.Duration
}

// probe is a KafkaTopic created before the operator starts, to time its start.
const probe = "probe"

// operator runs the topic-operator binary and measures the same.
func (b *runner) operator(ctx context.Context, n, run int, dir string) (opRun, error) {
	var res opRun
	ns := fmt.Sprintf("operator-%d-%d", n, run)
	if err := b.namespace(ctx, ns); err != nil {
		return res, err
	}
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		return res, err
	}
	const resync = 10 * time.Second
	args := []string{"--kubeconfig=" + b.e.Cluster.Kubeconfig, "--watch-namespaces=" + ns, "--resource-labels=kafkaplane.io/cluster=bench",
		"--bootstrap-servers=" + b.kf.Bootstrap(), "--leader-elect=false", fmt.Sprintf("--http-address=127.0.0.1:%d", port),
		"--resync-period=" + resync.String(), "--log-level=" + logLevel(), "--profiling"}
	if w := os.Getenv("BENCH_WORKERS"); w != "" {
		args = append(args, "--workers="+w)
	}
	api := b.kp.KafkaplaneV1beta1().KafkaTopics(ns)
	if _, err := api.Create(ctx, &v1beta1.KafkaTopic{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%s", ns, probe), Labels: map[string]string{v1beta1.LabelCluster: "bench"}},
		Spec: v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](1), Replicas: ptr.To[int32](1)}}, metav1.CreateOptions{}); err != nil {
		return res, err
	}
	started := time.Now()
	p, err := localcluster.StartProcess(fmt.Sprintf("bench-topic-operator-%d-%d", n, run), dir, bench.OperatorEnv(), b.bin, args...)
	if err != nil {
		return res, err
	}
	defer func() {
		_ = p.Stop(10 * time.Second)
		bench.KeepLog(p)
	}()
	if res.startup, err = bench.Started(p, started, func() bool {
		kt, err := api.Get(ctx, fmt.Sprintf("%s-%s", ns, probe), metav1.GetOptions{})
		return err == nil && conditions.IsReady(kt.Status.Conditions, kt.Generation)
	}); err != nil {
		return res, err
	}
	time.Sleep(time.Second) // the operator is idle
	cpu0 := bench.CPUSeconds(p.Pid())
	ready, err := b.watchReady(ctx, ns)
	if err != nil {
		return res, err
	}
	defer ready.Stop()
	w0, err := bench.Writes(ctx, b.e.Kube, "kafkatopics")
	if err != nil {
		return res, err
	}
	k0 := b.kreqs.Snapshot()
	start := time.Now()
	if path := os.Getenv("BENCH_CPU_PROFILE"); path != "" {
		go bench.CPUProfile(port, 30*time.Second, path)
	}
	if err := b.createAll(ctx, ns, n, nil); err != nil {
		return res, err
	}
	if err := ready.Wait(ctx, n, p); err != nil {
		return res, err
	}
	d := time.Since(start)
	w1, _ := bench.Writes(ctx, b.e.Kube, "kafkatopics")
	k1 := b.kreqs.Snapshot()
	rss := bench.PeakRSS(p.Pid())
	res.d = d
	res.cpu = bench.CPUSeconds(p.Pid()) - cpu0
	if path := os.Getenv("BENCH_HEAP_PROFILE"); path != "" {
		bench.HeapProfile(port, path)
	}
	if os.Getenv("BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "writes by verb and code after the run:\n%s\n", bench.Breakdown(ctx, b.e.Kube, "kafkatopics"))
		if log, err := os.ReadFile(p.LogFile); err == nil {
			lines := strings.Split(string(log), "\n")
			fmt.Fprintf(os.Stderr, "operator log (%d lines), first lines:\n%s\n", len(lines), strings.Join(lines[:min(12, len(lines))], "\n"))
		}
	}

	// Idle: after one resync interval for the last reconciles to finish (its figures are printed
	// too, so nothing is hidden), two resync intervals with nothing to do.
	time.Sleep(resync)
	ws, _ := bench.Writes(ctx, b.e.Kube, "kafkatopics")
	ks := b.kreqs.Snapshot()
	time.Sleep(2*resync + time.Second)
	w2, _ := bench.Writes(ctx, b.e.Kube, "kafkatopics")
	idle := fmt.Sprintf("settling %s: %d writes, %s; idle: %d writes, %s in %s", resync, ws-w1, bench.Diff(ks, k1),
		w2-ws, bench.Diff(b.kreqs.Snapshot(), ks), 2*resync+time.Second)
	if w2 != w1 {
		fmt.Fprintf(os.Stderr, "idle writes by verb and code: %s\n", bench.Breakdown(ctx, b.e.Kube, "kafkatopics"))
	}
	if os.Getenv("BENCH_DEBUG") != "" {
		if log, err := os.ReadFile(p.LogFile); err == nil {
			fmt.Fprintf(os.Stderr, "operator log after idle, last 3000 bytes:\n%s\n", string(log[max(0, len(log)-3000):]))
		}
	}
	lines, size := bench.LogVolume(p.LogFile)
	fmt.Printf("%-10s %-8d %9.1f %9.0f %12.2f %14s %10s %s / operator CPU %.1fs / start to first Ready %s / log at %s: %d lines, %.1f KiB\n",
		fmt.Sprintf("operator#%d", run), n, d.Seconds(), float64(n)/d.Seconds(),
		float64(w1-w0)/float64(n), bench.Diff(k1, k0), rss, idle, res.cpu, res.startup.Round(time.Millisecond), logLevel(), lines, float64(size)/1024)
	return res, nil
}

// logLevel is the operator's --log-level: $BENCH_LOG_LEVEL, ERROR by default.
func logLevel() string {
	if l := os.Getenv("BENCH_LOG_LEVEL"); l != "" {
		return l
	}
	return "ERROR"
}

// watchReady counts the Ready KafkaTopics in ns, from a watch.
func (b *runner) watchReady(ctx context.Context, ns string) (*bench.Ready, error) {
	inf := kpinformers.NewSharedInformerFactoryWithOptions(b.kp, 0, kpinformers.WithNamespace(ns)).Kafkaplane().V1beta1().KafkaTopics().Informer()
	return bench.WatchReady(ctx, inf, func(obj any) bool {
		kt, ok := obj.(*v1beta1.KafkaTopic)
		return ok && !strings.HasSuffix(kt.Name, "-"+probe) && conditions.IsReady(kt.Status.Conditions, kt.Generation)
	})
}
