// Command bench-topics measures the topic operator against a floor: a bare client making only
// the essential calls. For each N it applies N KafkaTopics (as a user would) and prints the time
// until all are Ready, topics/s, API writes per topic, Kafka requests, the operator's peak RSS,
// and the idle cost of a resync; then the same for the floor, and the ratio.
//
// Usage: bench-topics -n 1000,10000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
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
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
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

type bench struct {
	e     *env.Env
	kp    versioned.Interface
	kf    *kafkafake.Cluster
	kreqs [128]atomic.Int64
	bin   string
}

func run(counts string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kafkaplane-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	e, err := env.Start(ctx, env.Options{Dir: dir, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer e.Stop()
	root, _ := build.RepoRoot()
	if err := framework.NewApplier(e.Dynamic, e.Kube.Discovery()).InstallCRDs(ctx, filepath.Join(root, "deploy", "crds")); err != nil {
		return err
	}
	b := &bench{e: e, bin: e.Binaries["topic-operator"]}
	if b.kp, err = versioned.NewForConfig(e.Config); err != nil {
		return err
	}
	if b.kf, err = kafkafake.Start(kafkafake.Options{Brokers: 3}); err != nil {
		return err
	}
	defer b.kf.Close()
	b.kf.Control(func(req kmsg.Request) (kmsg.Response, error, bool) {
		b.kreqs[req.Key()].Add(1)
		return nil, nil, false
	})
	fmt.Printf("%-8s %-8s %9s %9s %12s %14s %10s %s\n", "run", "N", "seconds", "topics/s", "writes/topic", "kafka requests", "peak RSS", "idle resync")
	for _, s := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad count %q", s)
		}
		floor, err := b.floor(ctx, n)
		if err != nil {
			return fmt.Errorf("floor %d: %w", n, err)
		}
		op, err := b.operator(ctx, n, dir)
		if err != nil {
			return fmt.Errorf("operator %d: %w", n, err)
		}
		fmt.Printf("ratio operator/floor for N=%d: %.2fx\n\n", n, op.Seconds()/floor.Seconds())
	}
	return nil
}

func (b *bench) kafkaRequests() map[string]int64 {
	out := map[string]int64{}
	for k := range b.kreqs {
		if v := b.kreqs[k].Load(); v > 0 {
			out[kmsg.NameForKey(int16(k))] = v
		}
	}
	return out
}

func diff(after, before map[string]int64) string {
	var parts []string
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, d))
		}
	}
	return strings.Join(sortStrings(parts), " ")
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// writes reads the API server's count of mutating requests on kafkatopics.
func writes(ctx context.Context, kube kubernetes.Interface) (int64, error) {
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading API server metrics: %w", err)
	}
	var total int64
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") || !strings.Contains(line, `resource="kafkatopics"`) {
			continue
		}
		mutating := false
		for _, v := range []string{`verb="POST"`, `verb="PUT"`, `verb="PATCH"`, `verb="DELETE"`, `verb="APPLY"`} {
			mutating = mutating || strings.Contains(line, v)
		}
		if !mutating {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		total += int64(v)
	}
	return total, nil
}

func (b *bench) namespace(ctx context.Context, name string) error {
	_, err := b.e.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	return err
}

// createAll creates n KafkaTopics with userWorkers parallel clients, sending each name to out.
func (b *bench) createAll(ctx context.Context, ns string, n int, out chan<- string) error {
	names := make(chan string, n)
	for i := range n {
		names <- fmt.Sprintf("topic-%06d", i)
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
func (b *bench) floor(ctx context.Context, n int) (time.Duration, error) {
	ns := fmt.Sprintf("floor-%d", n)
	if err := b.namespace(ctx, ns); err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.kf.ListenAddrs()...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	w0, err := writes(ctx, b.e.Kube)
	if err != nil {
		return 0, err
	}
	k0 := b.kafkaRequests()
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
	d := time.Since(start)
	w1, _ := writes(ctx, b.e.Kube)
	fmt.Printf("%-8s %-8d %9.1f %9.0f %12.2f %14s %10s %s\n", "floor", n, d.Seconds(), float64(n)/d.Seconds(),
		float64(w1-w0)/float64(n), diff(b.kafkaRequests(), k0), "-", "-")
	return d, nil
}

// operator runs the topic-operator binary and measures the same.
func (b *bench) operator(ctx context.Context, n int, dir string) (time.Duration, error) {
	ns := fmt.Sprintf("operator-%d", n)
	if err := b.namespace(ctx, ns); err != nil {
		return 0, err
	}
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		return 0, err
	}
	const resync = 10 * time.Second
	p, err := localcluster.StartProcess("bench-topic-operator-"+strconv.Itoa(n), dir, nil, b.bin,
		"--kubeconfig="+b.e.Cluster.Kubeconfig, "--watch-namespaces="+ns, "--resource-labels=kafkaplane.io/cluster=bench",
		"--bootstrap-servers="+b.kf.Bootstrap(), "--leader-elect=false", fmt.Sprintf("--http-address=127.0.0.1:%d", port),
		"--resync-period="+resync.String(), "--log-level=ERROR")
	if err != nil {
		return 0, err
	}
	defer func() { _ = p.Stop(10 * time.Second) }()
	time.Sleep(2 * time.Second) // caches synced; the operator is idle
	w0, err := writes(ctx, b.e.Kube)
	if err != nil {
		return 0, err
	}
	k0 := b.kafkaRequests()
	start := time.Now()
	if err := b.createAll(ctx, ns, n, nil); err != nil {
		return 0, err
	}
	for {
		list, err := b.kp.KafkaplaneV1beta1().KafkaTopics(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return 0, err
		}
		ready := 0
		for i := range list.Items {
			if conditions.IsReady(list.Items[i].Status.Conditions, list.Items[i].Generation) {
				ready++
			}
		}
		if ready == n {
			break
		}
		if exited, _ := p.Exited(); exited {
			return 0, fmt.Errorf("the operator exited (log %s)", p.LogFile)
		}
		if time.Since(start) > 30*time.Minute {
			return 0, fmt.Errorf("only %d of %d Ready after 30 minutes", ready, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	d := time.Since(start)
	w1, _ := writes(ctx, b.e.Kube)
	k1 := b.kafkaRequests()
	rss := peakRSS(p.Pid())
	if os.Getenv("BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "writes by verb and code after the run:\n%s\n", breakdown(ctx, b.e.Kube))
		if log, err := os.ReadFile(p.LogFile); err == nil {
			lines := strings.Split(string(log), "\n")
			fmt.Fprintf(os.Stderr, "operator log (%d lines), first lines:\n%s\n", len(lines), strings.Join(lines[:min(12, len(lines))], "\n"))
		}
	}

	// Idle: two resync intervals with nothing to do.
	time.Sleep(2*resync + time.Second)
	w2, _ := writes(ctx, b.e.Kube)
	idle := fmt.Sprintf("%d writes, %s in %s", w2-w1, diff(b.kafkaRequests(), k1), 2*resync+time.Second)
	if w2 != w1 {
		fmt.Fprintf(os.Stderr, "idle writes by verb and code: %s\n", breakdown(ctx, b.e.Kube))
	}
	if os.Getenv("BENCH_DEBUG") != "" {
		if log, err := os.ReadFile(p.LogFile); err == nil {
			fmt.Fprintf(os.Stderr, "operator log after idle, last 3000 bytes:\n%s\n", string(log[max(0, len(log)-3000):]))
		}
	}
	fmt.Printf("%-8s %-8d %9.1f %9.0f %12.2f %14s %10s %s\n", "operator", n, d.Seconds(), float64(n)/d.Seconds(),
		float64(w1-w0)/float64(n), diff(k1, k0), rss, idle)
	return d, nil
}

// peakRSS is a process's peak resident set size (VmHWM).
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.Atoi(f[1])
			return fmt.Sprintf("%d MiB", kb/1024)
		}
	}
	return "?"
}

// breakdown lists the API server's kafkatopics request counters by verb, subresource and code.
func breakdown(ctx context.Context, kube kubernetes.Interface) string {
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "apiserver_request_total{") && strings.Contains(line, `resource="kafkatopics"`) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
