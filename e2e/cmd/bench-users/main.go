// Command bench-users measures the user operator against a floor: a bare client making only the
// essential writes — per user the finalizer, the Secret (with the same key generation: an ECDSA
// P-256 certificate and PKCS#12 store, or a password) and one status write — plus batched ACL
// (and SCRAM) calls. For each N it applies N KafkaUsers as a user would and prints the time until
// all are Ready, users/s, API writes per user, Kafka requests, the operator's peak RSS and the
// idle cost of a resync; then the ratio to the floor. Floor and operator runs take turns,
// $BENCH_RUNS of each (default 3); per N it prints each run's ratio and the median, the
// operator's CPU seconds per 1,000 users, and the time from starting the operator to its first
// KafkaUser Ready (one created before the start).
//
// Usage: bench-users -tls 1000,20000 -scram 1000
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/bench"
	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// clientWorkers is the parallelism of the simulated user and of the floor's writers.
const clientWorkers = 32

var resources = []string{"kafkausers", "secrets"}

func main() {
	tlsN := flag.String("tls", "1000", "comma-separated counts of tls users")
	scramN := flag.String("scram", "1000", "comma-separated counts of scram-sha-512 users")
	flag.Parse()
	if err := run(*tlsN, *scramN); err != nil {
		fmt.Fprintf(os.Stderr, "bench-users: %v\n", err)
		os.Exit(1)
	}
}

type runner struct {
	e     *env.Env
	kp    versioned.Interface
	kf    *kafkafake.Cluster
	kreqs bench.KafkaRequests
	bin   string
	dir   string
	ca    *pki.KeyPair
}

func run(tlsCounts, scramCounts string) error {
	ctx := context.Background()
	e, dir, stop, err := bench.StartEnv(ctx)
	if err != nil {
		return err
	}
	defer stop()
	r := &runner{e: e, bin: e.Binaries["user-operator"], dir: dir}
	if r.kp, err = versioned.NewForConfig(e.Config); err != nil {
		return err
	}
	if r.kf, err = kafkafake.Start(kafkafake.Options{Brokers: 3}); err != nil {
		return err
	}
	defer r.kf.Close()
	r.kreqs.Count(r.kf)
	if r.ca, err = pki.NewCA("bench-clients-ca", 365*24*time.Hour, time.Now()); err != nil {
		return err
	}
	if l := os.Getenv("BENCH_GOMEMLIMIT"); l != "" {
		fmt.Printf("operator runs with GOMEMLIMIT=%s\n", l)
	}
	runs := bench.Runs()
	fmt.Printf("%-10s %-6s %-7s %9s %9s %12s %10s %s\n", "run", "auth", "N", "seconds", "users/s", "writes/user", "peak RSS", "kafka requests / idle resync")
	for _, c := range []struct {
		auth   v1beta1.UserAuthenticationType
		counts string
	}{{v1beta1.UserAuthTLS, tlsCounts}, {v1beta1.UserAuthScramSha512, scramCounts}} {
		for _, s := range strings.Split(c.counts, ",") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n <= 0 {
				return fmt.Errorf("bad count %q", s)
			}
			var ratios, cpus, startups bench.Series
			// Floor and operator runs take turns, so that a slower stretch of the machine falls
			// on both.
			for run := 1; run <= runs; run++ {
				floor := time.Duration(0)
				if os.Getenv("BENCH_SKIP_FLOOR") == "" {
					if floor, err = r.floor(ctx, c.auth, n, run); err != nil {
						return fmt.Errorf("floor %s %d: %w", c.auth, n, err)
					}
				}
				op, err := r.operator(ctx, c.auth, n, run)
				if err != nil {
					return fmt.Errorf("operator %s %d: %w", c.auth, n, err)
				}
				cpus = append(cpus, op.cpu/float64(n)*1000)
				startups = append(startups, op.startup.Seconds())
				if floor > 0 {
					ratios = append(ratios, op.d.Seconds()/floor.Seconds())
				}
			}
			fmt.Printf("%s N=%d, %d runs:\n", short(c.auth), n, runs)
			if len(ratios) > 0 {
				fmt.Printf("  ratio operator/floor: %s\n", ratios.String("%.2fx"))
			}
			fmt.Printf("  operator CPU per 1,000 users: %s\n", cpus.String("%.2fs"))
			fmt.Printf("  process start to its first KafkaUser Ready: %s\n\n", startups.String("%.3fs"))
		}
	}
	return nil
}

// namespace creates a namespace holding the clients CA Secrets of cluster "bench".
func (r *runner) namespace(ctx context.Context, name string) error {
	if _, err := r.e.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	keyPEM, err := pki.EncodeKey(r.ca.Key)
	if err != nil {
		return err
	}
	for sname, data := range map[string]map[string][]byte{
		v1beta1.ClientsCACertSecretName("bench"): {pki.CACertKey: pki.EncodeCerts(r.ca.Cert)},
		v1beta1.ClientsCAKeySecretName("bench"):  {pki.CAKeyKey: keyPEM},
	} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: sname}, Data: data}
		if _, err := r.e.Kube.CoreV1().Secrets(name).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// user is the benchmark's user: three ACL bindings on its own topic and group prefix.
func user(name string, auth v1beta1.UserAuthenticationType) *v1beta1.KafkaUser {
	return &v1beta1.KafkaUser{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1beta1.LabelCluster: "bench"}},
		Spec: v1beta1.KafkaUserSpec{
			Authentication: &v1beta1.KafkaUserAuthentication{Type: auth},
			Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
				{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "topic-" + name}, Operations: []v1beta1.ACLOperation{"Read", "Describe"}},
				{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceGroup, Name: "group-" + name, PatternType: v1beta1.ACLPatternPrefix}, Operations: []v1beta1.ACLOperation{"Read"}},
			}},
		},
	}
}

// createAll creates n KafkaUsers with clientWorkers parallel clients, sending each name to out.
func (r *runner) createAll(ctx context.Context, ns string, auth v1beta1.UserAuthenticationType, n int, out chan<- string) error {
	names := make(chan string, n)
	for i := range n {
		names <- fmt.Sprintf("%s-%06d", ns, i) // principals differ between runs: each run starts from an empty Kafka
	}
	close(names)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range clientWorkers {
		wg.Go(func() {
			for name := range names {
				if _, err := r.kp.KafkaplaneV1beta1().KafkaUsers(ns).Create(ctx, user(name, auth), metav1.CreateOptions{}); err != nil {
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

// credentials builds a user's Secret data as the operator does: a client certificate from the
// clients CA with its key and PKCS#12 store, or a generated password.
func (r *runner) credentials(name string, auth v1beta1.UserAuthenticationType) (map[string][]byte, string, error) {
	if auth == v1beta1.UserAuthScramSha512 {
		pw, err := pki.Password(32)
		if err != nil {
			return nil, "", err
		}
		return map[string][]byte{"password": []byte(pw), "sasl.jaas.config": []byte("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + name + "\" password=\"" + pw + "\";")}, pw, nil
	}
	kp, err := r.ca.Issue(pki.Leaf{CommonName: name, Client: true, Validity: 365 * 24 * time.Hour}, time.Now())
	if err != nil {
		return nil, "", err
	}
	key, err := pki.EncodeKey(kp.Key)
	if err != nil {
		return nil, "", err
	}
	pw, err := pki.Password(32)
	if err != nil {
		return nil, "", err
	}
	p12, err := pki.KeyStore(kp, []*x509.Certificate{r.ca.Cert}, pw)
	if err != nil {
		return nil, "", err
	}
	return map[string][]byte{"ca.crt": pki.EncodeCerts(r.ca.Cert), "user.crt": pki.EncodeCerts(kp.Cert), "user.key": key,
		"user.p12": p12, "user.password": []byte(pw)}, "", nil
}

type done struct{ name, password string }

// floor: per user the finalizer patch and the Secret; batched CreateACLs (and SCRAM upserts) for
// whatever users are ready; then one status write per user.
func (r *runner) floor(ctx context.Context, auth v1beta1.UserAuthenticationType, n, run int) (time.Duration, error) {
	ns := fmt.Sprintf("floor-%s-%d-%d", strings.ReplaceAll(string(auth), "-", ""), n, run)
	if err := r.namespace(ctx, ns); err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.kf.ListenAddrs()...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ready, err := r.watchReady(ctx, ns)
	if err != nil {
		return 0, err
	}
	defer ready.Stop()
	w0, err := bench.Writes(ctx, r.e.Kube, resources...)
	if err != nil {
		return 0, err
	}
	k0 := r.kreqs.Snapshot()
	start := time.Now()
	created := make(chan string, n)
	errc := make(chan error, 1)
	go func() { errc <- r.createAll(ctx, ns, auth, n, created) }()

	var firstErr atomic.Value
	fail := func(err error) { firstErr.CompareAndSwap(nil, err) }
	secretsDone := make(chan done, n)
	var wg sync.WaitGroup
	for range clientWorkers {
		wg.Go(func() {
			for name := range created {
				patch := `[{"op":"add","path":"/metadata/finalizers","value":["kafkaplane.io/user-operator"]}]`
				ku, err := r.kp.KafkaplaneV1beta1().KafkaUsers(ns).Patch(ctx, name, types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
				if err != nil {
					fail(err)
					continue
				}
				data, pw, err := r.credentials(name, auth)
				if err != nil {
					fail(err)
					continue
				}
				s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1beta1.LabelCluster: "bench", v1beta1.LabelKind: v1beta1.KindKafkaUser},
					OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ku, v1beta1.SchemeGroupVersion.WithKind(v1beta1.KindKafkaUser))}}, Data: data}
				if _, err := r.e.Kube.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
					fail(err)
					continue
				}
				secretsDone <- done{name, pw}
			}
		})
	}
	go func() { wg.Wait(); close(secretsDone) }()

	statusTodo := make(chan string, n)
	var swg sync.WaitGroup
	for range clientWorkers {
		swg.Go(func() {
			for name := range statusTodo {
				username := name
				if auth == v1beta1.UserAuthTLS {
					username = "CN=" + name
				}
				st := v1beta1.KafkaUserStatus{ObservedGeneration: 1, Username: username, Secret: name}
				conditions.Set(&st.Conditions, conditions.Ready(1, metav1.ConditionTrue, v1beta1.ReasonReady, ""))
				body, _ := json.Marshal(map[string]any{"status": st})
				if _, err := r.kp.KafkaplaneV1beta1().KafkaUsers(ns).Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{}, "status"); err != nil {
					fail(err)
				}
			}
		})
	}
	// Batch the Kafka calls: whatever users have their Secret, up to 1000 a request.
	for d := range secretsDone {
		batch := []done{d}
	fill:
		for len(batch) < 1000 {
			select {
			case next, ok := <-secretsDone:
				if !ok {
					break fill
				}
				batch = append(batch, next)
			default:
				break fill
			}
		}
		req := kmsg.NewPtrCreateACLsRequest()
		var upserts []kadm.UpsertSCRAM
		for _, u := range batch {
			principal := "User:" + u.name
			if auth == v1beta1.UserAuthTLS {
				principal = "User:CN=" + u.name
			}
			for _, a := range []struct {
				rt   kmsg.ACLResourceType
				name string
				pt   kmsg.ACLResourcePatternType
				op   kmsg.ACLOperation
			}{
				{kmsg.ACLResourceTypeTopic, "topic-" + u.name, kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLOperationRead},
				{kmsg.ACLResourceTypeTopic, "topic-" + u.name, kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLOperationDescribe},
				{kmsg.ACLResourceTypeGroup, "group-" + u.name, kmsg.ACLResourcePatternTypePrefixed, kmsg.ACLOperationRead},
			} {
				c := kmsg.NewCreateACLsRequestCreation()
				c.ResourceType, c.ResourceName, c.ResourcePatternType = a.rt, a.name, a.pt
				c.Principal, c.Host, c.Operation, c.PermissionType = principal, "*", a.op, kmsg.ACLPermissionTypeAllow
				req.Creations = append(req.Creations, c)
			}
			if u.password != "" {
				upserts = append(upserts, kadm.UpsertSCRAM{User: u.name, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: u.password})
			}
		}
		if _, err := req.RequestWith(ctx, cl); err != nil {
			return 0, err
		}
		if len(upserts) > 0 {
			if _, err := adm.AlterUserSCRAMs(ctx, nil, upserts); err != nil {
				return 0, err
			}
		}
		for _, u := range batch {
			statusTodo <- u.name
		}
	}
	close(statusTodo)
	swg.Wait()
	if err := <-errc; err != nil {
		return 0, err
	}
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	if err := ready.Wait(ctx, n, nil); err != nil {
		return 0, err
	}
	d := time.Since(start)
	w1, _ := bench.Writes(ctx, r.e.Kube, resources...)
	fmt.Printf("%-10s %-6s %-7d %9.1f %9.0f %12.2f %10s %s\n", fmt.Sprintf("floor#%d", run), short(auth), n, d.Seconds(), float64(n)/d.Seconds(),
		float64(w1-w0)/float64(n), "-", bench.Diff(r.kreqs.Snapshot(), k0))
	return d, nil
}

// opRun is what an operator run measured.
type opRun struct {
	d time.Duration
	// cpu is the operator's CPU seconds for the run; startup the time from starting the process
	// to its first KafkaUser Ready.
	cpu     float64
	startup time.Duration
}

// probe names a KafkaUser created before the operator starts, to time its start.
const probe = "probe"

// operator runs the user-operator binary and measures the same.
func (r *runner) operator(ctx context.Context, auth v1beta1.UserAuthenticationType, n, run int) (opRun, error) {
	var res opRun
	ns := fmt.Sprintf("operator-%s-%d-%d", strings.ReplaceAll(string(auth), "-", ""), n, run)
	if err := r.namespace(ctx, ns); err != nil {
		return res, err
	}
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		return res, err
	}
	const resync = 10 * time.Second
	args := []string{"--kubeconfig=" + r.e.Cluster.Kubeconfig, "--watch-namespaces=" + ns, "--resource-labels=kafkaplane.io/cluster=bench",
		"--bootstrap-servers=" + r.kf.Bootstrap(), "--leader-elect=false", fmt.Sprintf("--http-address=127.0.0.1:%d", port),
		"--resync-period=" + resync.String(), "--log-level=ERROR", "--profiling"}
	if w := os.Getenv("BENCH_WORKERS"); w != "" {
		args = append(args, "--workers="+w)
	}
	api := r.kp.KafkaplaneV1beta1().KafkaUsers(ns)
	probeName := ns + "-" + probe
	if _, err := api.Create(ctx, user(probeName, auth), metav1.CreateOptions{}); err != nil {
		return res, err
	}
	started := time.Now()
	p, err := localcluster.StartProcess("bench-user-operator-"+ns, r.dir, bench.OperatorEnv(), r.bin, args...)
	if err != nil {
		return res, err
	}
	defer func() {
		_ = p.Stop(10 * time.Second)
		bench.KeepLog(p)
	}()
	if res.startup, err = bench.Started(p, started, func() bool {
		ku, err := api.Get(ctx, probeName, metav1.GetOptions{})
		return err == nil && conditions.IsReady(ku.Status.Conditions, ku.Generation)
	}); err != nil {
		return res, err
	}
	time.Sleep(time.Second) // the operator is idle
	cpu0 := bench.CPUSeconds(p.Pid())
	ready, err := r.watchReady(ctx, ns)
	if err != nil {
		return res, err
	}
	defer ready.Stop()
	w0, err := bench.Writes(ctx, r.e.Kube, resources...)
	if err != nil {
		return res, err
	}
	k0 := r.kreqs.Snapshot()
	start := time.Now()
	if path := os.Getenv("BENCH_CPU_PROFILE"); path != "" {
		go bench.CPUProfile(port, 15*time.Second, path)
	}
	if err := r.createAll(ctx, ns, auth, n, nil); err != nil {
		return res, err
	}
	if err := ready.Wait(ctx, n, p); err != nil {
		return res, err
	}
	d := time.Since(start)
	w1, _ := bench.Writes(ctx, r.e.Kube, resources...)
	k1 := r.kreqs.Snapshot()
	rss := bench.PeakRSS(p.Pid())
	res.d = d
	res.cpu = bench.CPUSeconds(p.Pid()) - cpu0
	if path := os.Getenv("BENCH_HEAP_PROFILE"); path != "" {
		bench.HeapProfile(port, path)
	}
	if os.Getenv("BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "writes by verb and code after the run:\n%s\n", bench.Breakdown(ctx, r.e.Kube, resources...))
		fmt.Fprintf(os.Stderr, "operator memory after the run: %s\n", bench.RSSBreakdown(p.Pid()))
	}
	// Idle: two resync intervals with nothing to do.
	time.Sleep(2*resync + time.Second)
	w2, _ := bench.Writes(ctx, r.e.Kube, resources...)
	idle := fmt.Sprintf("idle: %d writes, %s in %s", w2-w1, bench.Diff(r.kreqs.Snapshot(), k1), 2*resync+time.Second)
	if w2 != w1 {
		fmt.Fprintf(os.Stderr, "idle writes by verb and code: %s\n", bench.Breakdown(ctx, r.e.Kube, resources...))
	}
	fmt.Printf("%-10s %-6s %-7d %9.1f %9.0f %12.2f %10s %s / %s / operator CPU %.1fs / start to first Ready %s\n", fmt.Sprintf("operator#%d", run), short(auth), n, d.Seconds(), float64(n)/d.Seconds(),
		float64(w1-w0)/float64(n), rss, bench.Diff(k1, k0), idle, res.cpu, res.startup.Round(time.Millisecond))
	return res, nil
}

func short(auth v1beta1.UserAuthenticationType) string {
	if auth == v1beta1.UserAuthScramSha512 {
		return "scram"
	}
	return string(auth)
}

// watchReady counts the Ready KafkaUsers in ns, from a watch.
func (r *runner) watchReady(ctx context.Context, ns string) (*bench.Ready, error) {
	inf := kpinformers.NewSharedInformerFactoryWithOptions(r.kp, 0, kpinformers.WithNamespace(ns)).Kafkaplane().V1beta1().KafkaUsers().Informer()
	return bench.WatchReady(ctx, inf, func(obj any) bool {
		ku, ok := obj.(*v1beta1.KafkaUser)
		return ok && !strings.HasSuffix(ku.Name, "-"+probe) && conditions.IsReady(ku.Status.Conditions, ku.Generation)
	})
}
