// Package bench holds what the benchmark commands share: API write counts from the API server's
// own metrics, Kafka request counts from kfake, a process's peak RSS, and the output table.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
)

var mutatingVerbs = []string{`verb="POST"`, `verb="PUT"`, `verb="PATCH"`, `verb="DELETE"`, `verb="APPLY"`}

// Writes reads the API server's count of mutating requests on the given resources.
func Writes(ctx context.Context, kube kubernetes.Interface, resources ...string) (int64, error) {
	lines, err := requestLines(ctx, kube, resources)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, line := range lines {
		if !slices.ContainsFunc(mutatingVerbs, func(v string) bool { return strings.Contains(line, v) }) {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		total += int64(v)
	}
	return total, nil
}

// Breakdown lists the API server's request counters of the resources by verb, subresource and
// code, for debugging a write count.
func Breakdown(ctx context.Context, kube kubernetes.Interface, resources ...string) string {
	lines, err := requestLines(ctx, kube, resources)
	if err != nil {
		return err.Error()
	}
	return strings.Join(lines, "\n")
}

func requestLines(ctx context.Context, kube kubernetes.Interface, resources []string) ([]string, error) {
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading API server metrics: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		if slices.ContainsFunc(resources, func(r string) bool { return strings.Contains(line, `resource="`+r+`"`) }) {
			out = append(out, line)
		}
	}
	return out, nil
}

// KafkaRequests counts the requests a kfake cluster serves, by API.
type KafkaRequests struct{ n [128]atomic.Int64 }

// Count starts counting kf's requests.
func (k *KafkaRequests) Count(kf *kafkafake.Cluster) {
	kf.Control(func(req kmsg.Request) (kmsg.Response, error, bool) {
		k.n[req.Key()].Add(1)
		return nil, nil, false
	})
}

// Snapshot returns the counts so far by request name.
func (k *KafkaRequests) Snapshot() map[string]int64 {
	out := map[string]int64{}
	for key := range k.n {
		if v := k.n[key].Load(); v > 0 {
			out[kmsg.NameForKey(int16(key))] = v
		}
	}
	return out
}

// Diff prints the requests made between two snapshots, e.g. "CreateACLs=3 Metadata=1".
func Diff(after, before map[string]int64) string {
	var parts []string
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, d))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// PeakRSS is a process's peak resident set size (VmHWM), e.g. "42 MiB".
func PeakRSS(pid int) string {
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

// RSSBreakdown is a process's current anonymous and file-backed resident memory (the binary's
// pages are file-backed), for BENCH_DEBUG.
func RSSBreakdown(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && (f[0] == "RssAnon:" || f[0] == "RssFile:" || f[0] == "VmRSS:") {
			kb, _ := strconv.Atoi(f[1])
			parts = append(parts, fmt.Sprintf("%s %d MiB", strings.TrimSuffix(f[0], ":"), kb/1024))
		}
	}
	return strings.Join(parts, ", ")
}

// CPUSeconds is the user+system CPU time a process has used so far.
func CPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// Fields after the command: state is f[0]; utime and stime are fields 14 and 15 of stat.
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// Ready counts the Ready objects an informer sees. The benchmarks wait on it rather than polling
// lists: listing 10,000 objects every few hundred milliseconds would load the API server that the
// measured run shares, and measure the poll as much as the operator. The floor and the operator
// runs wait the same way.
type Ready struct {
	mu    sync.Mutex
	ready map[string]bool
	stop  context.CancelFunc
}

// WatchReady starts inf (not started yet) and counts the objects ready says are Ready. Stop ends
// the watch.
func WatchReady(ctx context.Context, inf cache.SharedIndexInformer, ready func(obj any) bool) (*Ready, error) {
	r := &Ready{ready: map[string]bool{}}
	set := func(obj any, ok bool) {
		key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
		if err != nil {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if ok {
			r.ready[key] = true
		} else {
			delete(r.ready, key)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { set(obj, ready(obj)) },
		UpdateFunc: func(_, obj any) { set(obj, ready(obj)) },
		DeleteFunc: func(obj any) { set(obj, false) },
	}); err != nil {
		return nil, err
	}
	ctx, r.stop = context.WithCancel(ctx)
	go inf.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		r.stop()
		return nil, errors.New("the readiness watch did not sync")
	}
	return r, nil
}

// Count is the number of Ready objects.
func (r *Ready) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ready)
}

// Stop ends the watch.
func (r *Ready) Stop() { r.stop() }

// Wait waits until n objects are Ready. It fails when p (the operator process; nil for a floor
// run) exits, or after 30 minutes.
func (r *Ready) Wait(ctx context.Context, n int, p *localcluster.Process) error {
	start := time.Now()
	for {
		got := r.Count()
		if got >= n {
			return nil
		}
		if p != nil {
			if exited, _ := p.Exited(); exited {
				return fmt.Errorf("the operator exited (log %s)", p.LogFile)
			}
		}
		if time.Since(start) > 30*time.Minute {
			return fmt.Errorf("only %d of %d Ready after 30 minutes", got, n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// CPUProfile saves d of the operator's CPU profile (served with --profiling on port) to path.
func CPUProfile(port int, d time.Duration, path string) {
	save(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", port, int(d.Seconds())), path)
}

// HeapProfile saves the operator's heap profile to path.
func HeapProfile(port int, path string) {
	save(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap?gc=1", port), path)
}

// save writes what url serves to path.
func save(url, path string) {
	resp, err := http.Get(url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "profile: %v\n", err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "profile: %v\n", err)
	}
}

// OperatorEnv is the environment the benchmarks run an operator with: GOMEMLIMIT, GOGC and
// GODEBUG from BENCH_GOMEMLIMIT, BENCH_GOGC and BENCH_GODEBUG (e.g. gctrace=1), for
// measuring how the operator behaves under a Deployment's memory limit or where its heap goes.
func OperatorEnv() []string {
	var env []string
	for _, v := range []string{"GOMEMLIMIT", "GOGC", "GODEBUG"} {
		if val := os.Getenv("BENCH_" + v); val != "" {
			env = append(env, v+"="+val)
		}
	}
	return env
}

// KeepLog copies the operator's log to $BENCH_LOG_DIR (when set), e.g. to read a gctrace after
// the benchmark's temporary directory is gone.
func KeepLog(p *localcluster.Process) {
	dir := os.Getenv("BENCH_LOG_DIR")
	if dir == "" {
		return
	}
	b, err := os.ReadFile(p.LogFile)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, p.Name+".log"), b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "keeping the operator log: %v\n", err)
	}
}

// LogVolume is the number of lines and bytes in a log file so far.
func LogVolume(path string) (lines int, size int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	return bytes.Count(b, []byte("\n")), int64(len(b))
}
