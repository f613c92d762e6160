// Command chaos runs the seeded fault scenarios (package chaos) and prints, per scenario, the
// runs, faults injected, runs converged, time to converge (median and max), mismatches and
// panics — the last two must be 0. CHAOS_SEED (default 1) and CHAOS_RUNS (default 3) pick the
// runs: run i uses seed CHAOS_SEED+i, so any run can be repeated alone. CHAOS_TOPICS and
// CHAOS_USERS set the scenarios' sizes (default 1000 and 200); CHAOS_ONLY (comma-separated
// names) runs some scenarios only; CHAOS_KEEP_LOGS=<dir> keeps the operators' logs of a failed run; CHAOS_DEBUG=1 prints the users
// scenario's remaining mismatches while it converges. The handover scenarios run the same
// operations with two replicas under leader election, each fault killing the leader; they print
// how long the standby took to hold the lease after each kill. The apiserver scenarios restart
// the API server (SIGKILL, 0.5–3 s down, etcd kept) instead of killing an operator.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/bench"
	"github.com/kafkaplane/kafkaplane/e2e/chaos"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func run() error {
	ctx := context.Background()
	seed, runs, topics, users := int64(envInt("CHAOS_SEED", 1)), envInt("CHAOS_RUNS", 3), envInt("CHAOS_TOPICS", 1000), envInt("CHAOS_USERS", 200)
	e, dir, stop, err := bench.StartEnv(ctx)
	if err != nil {
		return err
	}
	defer stop()
	kp, err := versioned.NewForConfig(e.Config)
	if err != nil {
		return err
	}
	env := chaos.Env{KP: kp, Kube: e.Kube, Kubeconfig: e.Cluster.Kubeconfig, Binary: e.Binaries["topic-operator"], UserBinary: e.Binaries["user-operator"], LogDir: dir}
	handover := env
	handover.Handover = true
	apiserver := env
	apiserver.RestartAPIServer = e.Cluster.RestartAPIServer
	fmt.Printf("%-17s %6s %6s %10s %10s %11s %7s  %s\n", "scenario", "seed", "faults", "converged", "took", "mismatches", "panics", "takeovers")
	type scenario struct {
		name, title string
		run         func(ns string, seed int64) (chaos.Result, error)
	}
	scenarios := []scenario{
		{"topics", fmt.Sprintf("topics (%d, topic operator SIGKILLed)", topics), func(ns string, seed int64) (chaos.Result, error) {
			return chaos.Topics(ctx, env, ns, seed, topics)
		}},
		{"users", fmt.Sprintf("users (%d mTLS and SCRAM, user operator SIGKILLed)", users), func(ns string, seed int64) (chaos.Result, error) {
			return chaos.Users(ctx, env, ns, seed, users)
		}},
		{"topics-handover", fmt.Sprintf("topics (%d, 2 topic operators, the leader SIGKILLed)", topics), func(ns string, seed int64) (chaos.Result, error) {
			return chaos.Topics(ctx, handover, ns, seed, topics)
		}},
		{"users-handover", fmt.Sprintf("users (%d, 2 user operators, the leader SIGKILLed)", users), func(ns string, seed int64) (chaos.Result, error) {
			return chaos.Users(ctx, handover, ns, seed, users)
		}},
		{"topics-apiserver", fmt.Sprintf("topics (%d, the API server SIGKILLed and restarted)", topics), func(ns string, seed int64) (chaos.Result, error) {
			return chaos.Topics(ctx, apiserver, ns, seed, topics)
		}},
		{"users-apiserver", fmt.Sprintf("users (%d, the API server SIGKILLed and restarted)", users), func(ns string, seed int64) (chaos.Result, error) {
			return chaos.Users(ctx, apiserver, ns, seed, users)
		}},
	}
	var table []string
	failed := false
	for _, sc := range scenarios {
		if only := os.Getenv("CHAOS_ONLY"); only != "" && !slices.Contains(strings.Split(only, ","), sc.name) {
			continue
		}
		var results []chaos.Result
		for i := range runs {
			ns := fmt.Sprintf("chaos-%s-%d", sc.name, i)
			if _, err := e.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				return err
			}
			r, err := sc.run(ns, seed+int64(i))
			if err != nil {
				return fmt.Errorf("%s run %d (seed %d): %w", sc.name, i, seed+int64(i), err)
			}
			results = append(results, r)
			var tk []string
			for _, d := range r.Takeovers {
				tk = append(tk, d.Round(100*time.Millisecond).String())
			}
			fmt.Printf("%-17s %6d %6d %10v %10s %11d %7d  %s\n", sc.name, r.Seed, r.Faults, r.Converged, r.Took.Round(100*time.Millisecond), len(r.Mismatches), r.Panics, strings.Join(tk, " "))
			for _, m := range r.Mismatches {
				fmt.Printf("    mismatch: %s\n", m)
			}
			if keep := os.Getenv("CHAOS_KEEP_LOGS"); keep != "" && len(r.Problems()) > 0 {
				_ = os.MkdirAll(keep, 0o755)
				_ = exec.Command("sh", "-c", fmt.Sprintf("cp %s/chaos-*%s* %s/", dir, ns, keep)).Run()
				fmt.Printf("    operator logs kept in %s\n", keep)
			}
		}
		var faults, converged, mism, panics int
		var took, takeovers []time.Duration
		for _, r := range results {
			takeovers = append(takeovers, r.Takeovers...)
			faults += r.Faults
			mism += len(r.Mismatches)
			panics += r.Panics
			if r.Converged {
				converged++
				took = append(took, r.Took)
			}
		}
		slices.Sort(took)
		med, max := time.Duration(0), time.Duration(0)
		if len(took) > 0 {
			med, max = took[len(took)/2], took[len(took)-1]
		}
		takeover := "–"
		if len(takeovers) > 0 {
			slices.Sort(takeovers)
			takeover = fmt.Sprintf("%s / %s (lease %s)", takeovers[len(takeovers)/2].Round(100*time.Millisecond),
				takeovers[len(takeovers)-1].Round(100*time.Millisecond), chaos.LeaseDuration)
		}
		table = append(table, fmt.Sprintf("| %s | %d | %d | %d | %s | %s | %d | %d | %s |", sc.title, len(results), faults, converged,
			med.Round(100*time.Millisecond), max.Round(100*time.Millisecond), mism, panics, takeover))
		failed = failed || mism > 0 || panics > 0 || converged < len(results)
	}
	fmt.Printf("\n| scenario | runs | faults | converged | median | max | mismatches | panics | takeover median / max |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, l := range table {
		fmt.Println(l)
	}
	if failed {
		return fmt.Errorf("a scenario had mismatches, panics or runs that did not converge")
	}
	return nil
}
