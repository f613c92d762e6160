// Command bench-cluster measures the cluster operator on the real API server with simulated
// pods: the time from applying a 3-controller + 3-broker cluster (with its topic and user
// operators) to Ready and the API writes it took; the writes and reconcile time of idle resyncs;
// the time to roll the brokers after a config change (against the Kafka stand-in); and the
// operator's RSS idle and with -clusters small clusters; and, with a tenth of those clusters'
// Kafka hanging or answering 10 s late, how long a healthy cluster's spec change takes to Ready.
//
// Usage: bench-cluster -clusters 100
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/bench"
	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkastandin"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
)

// resources are those whose writes count.
var resources = []string{"pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "poddisruptionbudgets",
	"networkpolicies", "serviceaccounts", "roles", "rolebindings", "deployments", "kafkas", "kafkanodepools"}

const resync = 10 * time.Second

func main() {
	clusters := flag.Int("clusters", 100, "number of small clusters for the memory figure")
	flag.Parse()
	if err := run(*clusters); err != nil {
		fmt.Fprintf(os.Stderr, "bench-cluster: %v\n", err)
		os.Exit(1)
	}
}

func run(many int) error {
	ctx := context.Background()
	e, dir, stop, err := bench.StartEnv(ctx)
	if err != nil {
		return err
	}
	defer stop()
	applier := framework.NewApplier(e.Dynamic, e.Kube.Discovery())
	kp, err := versioned.NewForConfig(e.Config)
	if err != nil {
		return err
	}
	overrides := filepath.Join(dir, "overrides.json")
	if err := os.WriteFile(overrides, []byte("{}"), 0o600); err != nil {
		return err
	}
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	op, err := localcluster.StartProcess("cluster-operator", dir, []string{"KAFKAPLANE_WATCH_NAMESPACES=*"}, e.Binaries["cluster-operator"],
		"--kubeconfig="+e.Cluster.Kubeconfig, "--leader-elect=false", "--http-address="+addr, "--resync-period="+resync.String(),
		"--kafka-bootstrap-overrides="+overrides)
	if err != nil {
		return err
	}
	defer func() {
		_ = op.Stop(10 * time.Second)
		bench.KeepLog(op)
	}()
	time.Sleep(2 * time.Second)
	idleRSS := rss(op.Pid())

	// 1. A 3 + 3 cluster with both entity operators, from apply to Ready.
	if _, err := e.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	w0, err := bench.Writes(ctx, e.Kube, resources...)
	if err != nil {
		return err
	}
	start := time.Now()
	if _, err := applier.Apply(ctx, "bench", []byte(clusterYAML("c", 3, 3, true))); err != nil {
		return err
	}
	// The Kafka stand-in, as soon as the cluster's CAs exist: the operator asks Kafka for the
	// dynamic configs and metadata.version before it calls the cluster Ready.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	si, err := kafkastandin.Start(wctx, e.Kube, "bench", "c", 3)
	cancel()
	if err != nil {
		return err
	}
	defer si.Close()
	b, _ := json.Marshal(map[string]string{"bench/c": si.ListenAddrs()[0]})
	if err := os.WriteFile(overrides, b, 0o600); err != nil {
		return err
	}
	if err := waitReady(ctx, kp, op, "bench", []string{"c"}); err != nil {
		return err
	}
	createTime := time.Since(start)
	w1, _ := bench.Writes(ctx, e.Kube, resources...)

	// 2. Idle resyncs.
	time.Sleep(2 * time.Second)
	w2, _ := bench.Writes(ctx, e.Kube, resources...)
	sum0, n0 := reconcileStats(addr)
	time.Sleep(3*resync + 2*time.Second)
	w3, _ := bench.Writes(ctx, e.Kube, resources...)
	sum1, n1 := reconcileStats(addr)
	avgIdle := time.Duration(0)
	if n1 > n0 {
		avgIdle = time.Duration((sum1 - sum0) / (n1 - n0) * float64(time.Second))
	}

	// 3. A roll of the brokers after a change of their pool, against the Kafka stand-in.
	before := brokerUIDs(ctx, e, "bench")
	start = time.Now()
	// A change of the broker pool only: kfake cannot describe the quorum, so controllers would
	// never be allowed to restart, and brokers wait for the controllers.
	if _, err := kp.KafkaplaneV1beta1().KafkaNodePools("bench").Patch(ctx, "c-brokers", types.MergePatchType,
		[]byte(`{"spec":{"resources":{"requests":{"memory":"600Mi"}}}}`), metav1.PatchOptions{}); err != nil {
		return err
	}
	for {
		now := brokerUIDs(ctx, e, "bench")
		rolled := 0
		for name, uid := range now {
			if before[name] != "" && before[name] != uid && podReady(ctx, e, "bench", name) {
				rolled++
			}
		}
		if rolled == len(before) {
			break
		}
		if time.Since(start) > 2*time.Minute {
			msg := ""
			if k, err := kp.KafkaplaneV1beta1().Kafkas("bench").Get(ctx, "c", metav1.GetOptions{}); err == nil {
				if c := conditions.Find(k.Status.Conditions, v1beta1.ConditionReady); c != nil {
					msg = fmt.Sprintf(" (Ready %s: %s)", c.Status, c.Message)
				}
			}
			return fmt.Errorf("rolled %d brokers of %d in 2 minutes%s", rolled, len(before), msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rollTime := time.Since(start)

	// 4. Many small clusters (one dual-role node each, no entity operators).
	var standIns []*kafkastandin.StandIn
	defer func() {
		for _, s := range standIns {
			s.Close()
		}
	}()
	var names []string
	start = time.Now()
	for i := 0; i < many; i++ {
		name := fmt.Sprintf("s%d", i)
		names = append(names, name)
		if _, err := applier.Apply(ctx, "bench", []byte(clusterYAML(name, 0, 1, false))); err != nil {
			return err
		}
	}
	// Each gets its stand-in (kfake, one broker) once its CAs exist.
	addrs := map[string]string{"bench/c": si.ListenAddrs()[0]}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, many)
	for _, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			defer cancel()
			s, err := kafkastandin.Start(wctx, e.Kube, "bench", name, 1)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			standIns = append(standIns, s)
			addrs["bench/"+name] = s.ListenAddrs()[0]
			b, _ := json.Marshal(addrs)
			if err := os.WriteFile(overrides, b, 0o600); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	if err := waitReady(ctx, kp, op, "bench", names); err != nil {
		return err
	}
	manyTime := time.Since(start)
	time.Sleep(2 * resync)
	manyRSS := rss(op.Pid())

	// 5. A healthy cluster's spec change while a tenth of the clusters' Kafka hangs or answers
	// 10 s late.
	bad := max(2, many/10)
	var blocking blockingResult
	if many >= bad+5 {
		if blocking, err = measureBlocking(ctx, kp, overrides, addrs, names, bad, 5); err != nil {
			return fmt.Errorf("measuring cross-cluster blocking: %w", err)
		}
	}

	fmt.Println()
	fmt.Println("cluster operator (real API server, simulated pods)")
	fmt.Printf("  3 controllers + 3 brokers + topic and user operators: Ready in %s, %d API writes\n", createTime.Round(10*time.Millisecond), w1-w0)
	fmt.Printf("  idle: %d API writes over %d resyncs; average reconcile %s\n", w3-w2, 3, avgIdle.Round(100*time.Microsecond))
	fmt.Printf("  roll of 3 brokers after a change of their pool's resources (Kafka checks against the stand-in):\n")
	fmt.Printf("    %s (%s per broker, pod start included)\n",
		rollTime.Round(10*time.Millisecond), (rollTime / time.Duration(max(len(before), 1))).Round(10*time.Millisecond))
	fmt.Printf("  RSS: idle %s; with %d more clusters of one node each (Ready in %s): %s (peak %s)\n",
		idleRSS, many, manyTime.Round(10*time.Millisecond), manyRSS, bench.PeakRSS(op.Pid()))
	if len(blocking.changes) > 0 {
		fmt.Printf("  a dynamic config change of a healthy cluster to Ready, with %d of %d clusters' Kafka hanging or\n", blocking.bad, many+1)
		fmt.Printf("    answering 10 s late: %s\n", blocking)
	}
	return nil
}

func clusterYAML(name string, controllers, brokers int, entity bool) string {
	var b strings.Builder
	if controllers > 0 {
		fmt.Fprintf(&b, `apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata: {name: %[1]s-controllers, labels: {kafkaplane.io/cluster: %[1]s}}
spec: {replicas: %[2]d, roles: [controller], storage: {type: persistent-claim, size: 1Gi, deleteClaim: true}}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata: {name: %[1]s-brokers, labels: {kafkaplane.io/cluster: %[1]s}}
spec: {replicas: %[3]d, roles: [broker], storage: {type: persistent-claim, size: 1Gi, deleteClaim: true}}
---
`, name, controllers, brokers)
	} else {
		fmt.Fprintf(&b, `apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata: {name: %[1]s-dual, labels: {kafkaplane.io/cluster: %[1]s}}
spec: {replicas: %[2]d, roles: [controller, broker], storage: {type: ephemeral}}
---
`, name, brokers)
	}
	fmt.Fprintf(&b, `apiVersion: kafkaplane.io/v1beta1
kind: Kafka
metadata: {name: %s}
spec:
  kafka:
    listeners:
      - {name: tls, port: 9093, type: internal, tls: true, authentication: {type: tls}}
    authorization: {type: simple}
`, name)
	if entity {
		b.WriteString("  entityOperator: {topicOperator: {}, userOperator: {}}\n")
	}
	return b.String()
}

func waitReady(ctx context.Context, kp versioned.Interface, op *localcluster.Process, ns string, names []string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	inf := kpinformers.NewSharedInformerFactoryWithOptions(kp, 0, kpinformers.WithNamespace(ns)).Kafkaplane().V1beta1().Kafkas().Informer()
	ready, err := bench.WatchReady(ctx, inf, func(obj any) bool {
		k, ok := obj.(*v1beta1.Kafka)
		return ok && want[k.Name] && conditions.IsReady(k.Status.Conditions, k.Generation)
	})
	if err != nil {
		return err
	}
	defer ready.Stop()
	return ready.Wait(ctx, len(names), op)
}

func brokerUIDs(ctx context.Context, e *env.Env, ns string) map[string]string {
	l, err := e.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: v1beta1.LabelCluster + "=c," + v1beta1.LabelBrokerRole + "=true"})
	out := map[string]string{}
	if err != nil {
		return out
	}
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil {
			out[p.Name] = string(p.UID)
		}
	}
	return out
}

func podReady(ctx context.Context, e *env.Env, ns, name string) bool {
	p, err := e.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// reconcileStats reads the kafka controller's reconcile duration sum and count from /metrics.
func reconcileStats(addr string) (float64, float64) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	var sum, count float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `controller="kafka"`) {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		switch {
		case strings.HasPrefix(line, "kafkaplane_reconcile_duration_seconds_sum"):
			sum = v
		case strings.HasPrefix(line, "kafkaplane_reconcile_duration_seconds_count"):
			count = v
		}
	}
	return sum, count
}

// rss is a process's current resident set size.
func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return fmt.Sprintf("%d MiB", kb/1024)
		}
	}
	return "?"
}
