// Package chaos drives seeded fault scenarios against the operators and checks the final state
// exactly against Kafka and the API server. `make chaos` runs them (e2e/cmd/chaos); a short
// fixed-seed slice runs in make test.
package chaos

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

// Env is where a scenario runs: the API server's clients and the operator binary to start.
type Env struct {
	KP         versioned.Interface
	Kube       kubernetes.Interface
	Kubeconfig string
	// Handover runs two replicas of the operator with leader election, and each fault kills
	// the leader: the standby must take over, and the final state stay exact.
	Handover bool
	// RestartAPIServer, when set, makes each fault an API-server restart (etcd kept) instead of
	// an operator kill.
	RestartAPIServer func(ctx context.Context, down time.Duration) error
	// Binary of the topic operator, UserBinary of the user operator; LogDir keeps each
	// incarnation's log.
	Binary, UserBinary, LogDir string
}

// Result is one run of a scenario.
type Result struct {
	Seed int64
	// Faults injected (operator SIGKILLs, or API-server restarts).
	Faults int
	// Converged: the final state was reached before the deadline; Took is how long after the
	// last operation.
	Converged bool
	Took      time.Duration
	// Mismatches between the desired and the final state (must be none), and panics in the
	// operator's logs (must be none).
	Mismatches []string
	Panics     int
	// Takeovers: with Handover, how long after each kill of the leader the standby held the
	// lease.
	Takeovers []time.Duration
}

// want is a topic's desired partitions and retention.ms.
type want struct {
	partitions int32
	retention  string
}

// Topics: n KafkaTopics are created, a third then changed (config and partitions), a third
// deleted, while the topic operator is SIGKILLed 1–5 times at points the seed picks, and
// restarted. Then Kafka's topics, partitions and configs must equal the resources' exactly: no
// extra topic, none missing, none deleted that a resource still declares, and a topic made with
// Kafka tools untouched.
func Topics(ctx context.Context, env Env, ns string, seed int64, n int) (Result, error) {
	res := Result{Seed: seed}
	rng := rand.New(rand.NewSource(seed))
	kf, err := kafkafake.Start(kafkafake.Options{Brokers: 3})
	if err != nil {
		return res, err
	}
	defer kf.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kf.ListenAddrs()...))
	if err != nil {
		return res, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": ptr.To("12345")}, "outsider"); err != nil {
		return res, fmt.Errorf("the outsider topic: %w", err)
	}

	start := func(incarnation int, penv, extra []string) (*localcluster.Process, error) {
		port, err := localcluster.FreePort("127.0.0.1")
		if err != nil {
			return nil, err
		}
		return localcluster.StartProcess(fmt.Sprintf("chaos-topic-operator-%s-%d", ns, incarnation), env.LogDir, penv, env.Binary,
			append([]string{"--kubeconfig=" + env.Kubeconfig, "--watch-namespaces=" + ns, "--resource-labels=kafkaplane.io/cluster=chaos",
				"--bootstrap-servers=" + kf.Bootstrap(), fmt.Sprintf("--http-address=127.0.0.1:%d", port),
				"--resync-period=5s"}, extra...)...)
	}

	// The operations, and the ones after which the operator is killed.
	desired := map[string]want{}
	name := func(i int) string { return fmt.Sprintf("t-%04d", i) }
	total := n + 2*(n/3)
	op, faults, err := newOperator(rng, total, env, ns, "chaos-topic-operator", start)
	defer op.stop()
	if err != nil {
		return res, err
	}
	res.Faults = faults
	api := env.KP.KafkaplaneV1beta1().KafkaTopics(ns)
	after := op.after
	for i := range n {
		w := want{partitions: int32(1 + rng.Intn(3)), retention: strconv.Itoa(60000 + rng.Intn(1e6))}
		kt := &v1beta1.KafkaTopic{ObjectMeta: metav1.ObjectMeta{Name: name(i), Labels: map[string]string{v1beta1.LabelCluster: "chaos"}},
			Spec: v1beta1.KafkaTopicSpec{Partitions: ptr.To(w.partitions), Replicas: ptr.To[int32](1),
				Config: map[string]v1beta1.ConfigValue{"retention.ms": v1beta1.ConfigValue(w.retention)}}}
		if _, err := api.Create(ctx, kt, metav1.CreateOptions{}); err != nil {
			return res, err
		}
		desired[name(i)] = w
		if err := after(); err != nil {
			return res, err
		}
	}
	for i := 1; i < n; i += 3 {
		w := desired[name(i)]
		w.partitions++
		w.retention = strconv.Itoa(60000 + rng.Intn(1e6))
		patch := fmt.Sprintf(`{"spec":{"partitions":%d,"config":{"retention.ms":%q}}}`, w.partitions, w.retention)
		if _, err := api.Patch(ctx, name(i), types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return res, err
		}
		desired[name(i)] = w
		if err := after(); err != nil {
			return res, err
		}
	}
	for i := 2; i < n; i += 3 {
		if err := api.Delete(ctx, name(i), metav1.DeleteOptions{}); err != nil {
			return res, err
		}
		delete(desired, name(i))
		if err := after(); err != nil {
			return res, err
		}
	}
	if err := op.rest(); err != nil {
		return res, err
	}
	last := time.Now()

	// Converged: every remaining resource Ready for its generation, every deleted one gone, and
	// Kafka equal to the desired state.
	deadline := last.Add(5 * time.Minute)
	for {
		res.Mismatches = mismatches(ctx, api, adm, desired)
		if len(res.Mismatches) == 0 {
			res.Converged, res.Took = true, time.Since(last)
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	res.Panics, res.Takeovers = countPanics(op.logs), op.takeovers
	return res, nil
}

func mismatches(ctx context.Context, api interface {
	List(context.Context, metav1.ListOptions) (*v1beta1.KafkaTopicList, error)
}, adm *kadm.Client, desired map[string]want) []string {
	var out []string
	list, err := api.List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{"listing KafkaTopics: " + err.Error()}
	}
	seen := map[string]bool{}
	for _, kt := range list.Items {
		seen[kt.Name] = true
		if _, ok := desired[kt.Name]; !ok {
			out = append(out, "resource "+kt.Name+" still exists")
			continue
		}
		c := meta.FindStatusCondition(kt.Status.Conditions, v1beta1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != kt.Generation {
			out = append(out, "resource "+kt.Name+" not Ready for its generation")
		}
	}
	for name := range desired {
		if !seen[name] {
			out = append(out, "resource "+name+" missing")
		}
	}
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return append(out, "listing topics: "+err.Error())
	}
	var names []string
	for _, td := range topics {
		if !strings.HasPrefix(td.Topic, "__") {
			names = append(names, td.Topic)
		}
	}
	configs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return append(out, "describing configs: "+err.Error())
	}
	retention := map[string]string{}
	for _, rc := range configs {
		for _, c := range rc.Configs {
			if c.Key == "retention.ms" && c.Value != nil {
				retention[rc.Name] = *c.Value
			}
		}
	}
	for _, td := range topics {
		if strings.HasPrefix(td.Topic, "__") {
			continue
		}
		if td.Topic == "outsider" {
			if len(td.Partitions) != 2 || retention["outsider"] != "12345" {
				out = append(out, "the outsider topic was changed")
			}
			continue
		}
		w, ok := desired[td.Topic]
		switch {
		case !ok:
			out = append(out, "extra topic "+td.Topic+" in Kafka")
		case int32(len(td.Partitions)) != w.partitions:
			out = append(out, fmt.Sprintf("topic %s has %d partitions, want %d", td.Topic, len(td.Partitions), w.partitions))
		case retention[td.Topic] != w.retention:
			out = append(out, fmt.Sprintf("topic %s retention.ms %s, want %s", td.Topic, retention[td.Topic], w.retention))
		}
	}
	if !topics.Has("outsider") {
		out = append(out, "the outsider topic is gone")
	}
	for name := range desired {
		if !topics.Has(name) {
			out = append(out, "topic "+name+" missing in Kafka")
		}
	}
	slices.Sort(out)
	return out
}

// countPanics counts Go panics in the operator's logs.
func countPanics(logs []string) int {
	n := 0
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		n += strings.Count(string(b), "panic: ") + strings.Count(string(b), "fatal error: ")
	}
	return n
}

// String summarises the run for a log line.
func (r Result) String() string {
	s := fmt.Sprintf("seed %d: %d faults, converged %v in %s, %d mismatches, %d panics", r.Seed, r.Faults, r.Converged, r.Took, len(r.Mismatches), r.Panics)
	if len(r.Takeovers) > 0 {
		s += fmt.Sprintf(", takeovers %v", r.Takeovers)
	}
	return s
}

// Problems lists what fails the run: each mismatch, no convergence, a panic.
func (r Result) Problems() []string {
	var out []string
	for _, m := range r.Mismatches {
		out = append(out, "mismatch: "+m)
	}
	if !r.Converged {
		out = append(out, "did not converge")
	}
	if r.Panics > 0 {
		out = append(out, fmt.Sprintf("%d panics in the operator's logs", r.Panics))
	}
	return out
}
