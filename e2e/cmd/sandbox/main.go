// Command sandbox is the README's main job: a local Kafkaplane on a real control plane. It
// builds what is missing, starts the control plane with three simulated nodes in three zones,
// installs the CRDs, runs the cluster operator as a local process watching every namespace, and
// applies deploy/examples. It prints what exists, then `sandbox ready`, and runs until Ctrl-C or
// SIGTERM, when it stops everything.
//
// .sandbox/ holds kubeconfig, bootstrap.json (loopback addresses of served listeners),
// users/<ns>/<user>/ (credentials copied from the users' Secrets as the user operator writes
// them) and logs/.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkadist"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/e2e/podnet"
	"github.com/kafkaplane/kafkaplane/e2e/promrules"
	"github.com/kafkaplane/kafkaplane/e2e/promserver"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

func main() {
	kafka := flag.String("kafka", "auto", "real (Apache Kafka JVMs in pods of their own), kfake (franz-go's kfake stand-in on loopback), or auto: real where Java and pod networks are available")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *kafka); err != nil {
		var ce *localcluster.ComponentError
		if errors.As(err, &ce) {
			fmt.Printf("sandbox failed: %s (%s)\n", ce.Component, ce.LogFile)
		} else {
			fmt.Printf("sandbox failed: %v\n", err)
		}
		os.Exit(1)
	}
}

func fail(component, log string, err error) error {
	return &localcluster.ComponentError{Component: component, LogFile: log, Err: err}
}

// chooseKafka settles the -kafka flag: real unless asked for kfake, or unless this machine has no
// Java or cannot make pod networks (then it says why).
func chooseKafka(ctx context.Context, kafka string) (bool, error) {
	switch kafka {
	case "kfake":
		return false, nil
	case "real", "auto":
		why := ""
		if err := kafkadist.CheckJava(ctx); err != nil {
			why = err.Error()
		} else if err := podnet.Check(); err != nil {
			why = err.Error()
		}
		if why == "" {
			return true, nil
		}
		if kafka == "real" {
			return false, errors.New(why)
		}
		fmt.Printf("no real Kafka here (%s): using the kfake stand-in\n", why)
		return false, nil
	}
	return false, fmt.Errorf("-kafka=%s: want real, kfake or auto", kafka)
}

func run(ctx context.Context, kafka string) error {
	start := time.Now()
	real, err := chooseKafka(ctx, kafka)
	if err != nil {
		return err
	}
	root, err := build.RepoRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, ".sandbox")
	logs := filepath.Join(dir, "logs")
	// Every run starts from a clean cluster; the build cache outside the tree is what is reused.
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("cleaning %s: %w", dir, err)
	}
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	buildLog, err := os.Create(filepath.Join(logs, "build.log"))
	if err != nil {
		return err
	}
	defer buildLog.Close()
	fmt.Println("starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) and 3 simulated nodes…")
	e, err := env.Start(ctx, env.Options{Dir: filepath.Join(dir, "state"), LogDir: logs, Log: io.MultiWriter(buildLog, os.Stdout),
		AllKafkaPods: real, NoRealKafka: !real, AnyStorageClass: true})
	if err != nil {
		var ce *localcluster.ComponentError
		if errors.As(err, &ce) {
			return err
		}
		return fail("build", buildLog.Name(), err)
	}
	defer func() {
		fmt.Println("stopping the sandbox…")
		e.Stop()
	}()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := copyFile(e.Cluster.Kubeconfig, kubeconfig); err != nil {
		return err
	}

	applier := framework.NewApplier(e.Dynamic, e.Kube.Discovery())
	if err := applier.InstallCRDs(ctx, filepath.Join(root, "deploy", "crds")); err != nil {
		return fail("crds", filepath.Join(logs, "kube-apiserver.log"), err)
	}

	if real && e.DNS == nil {
		fmt.Printf("no real Kafka here (%s): using the kfake stand-in\n", e.RealKafkaMissing)
		real = false
	}
	overrides := filepath.Join(dir, "kafka-overrides.json")
	if err := writeJSON(overrides, map[string]string{}); err != nil {
		return err
	}
	if real {
		overrides = ""
		if err := os.WriteFile(filepath.Join(dir, "dns"), []byte(e.DNS.Addr+"\n"), 0o644); err != nil {
			return err
		}
	}
	op, opAddr, err := startClusterOperator(ctx, e, kubeconfig, logs, overrides)
	if err != nil {
		return err
	}
	defer func() { _ = op.Stop(15 * time.Second) }()

	promURL := startPrometheus(ctx, root, dir, logs, kubeconfig, opAddr)

	objs, err := applier.ApplyFiles(ctx, "", filepath.Join(root, "deploy", "examples"))
	if err != nil {
		return fail("examples", filepath.Join(logs, "kube-apiserver.log"), err)
	}
	if err := writeJSON(filepath.Join(dir, "bootstrap.json"), map[string]string{}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "users"), 0o755); err != nil {
		return err
	}
	kp, err := versioned.NewForConfig(e.Config)
	if err != nil {
		return err
	}
	go copyUserCredentials(ctx, kp, e.Kube, filepath.Join(dir, "users"))
	var snapshot func() map[string]string
	if real {
		rk := &realKafka{e: e, kp: kp, bootstrapJSON: filepath.Join(dir, "bootstrap.json"), hostsFile: filepath.Join(dir, "hosts")}
		go rk.run(ctx)
		snapshot = rk.snapshot
	} else {
		si := &standIns{e: e, kp: kp, overrides: overrides, bootstrapJSON: filepath.Join(dir, "bootstrap.json")}
		go si.run(ctx)
		snapshot = si.snapshot
	}

	fmt.Println()
	fmt.Println("created:")
	for _, o := range objs {
		fmt.Printf("  %-16s %s/%s\n", o.GetKind(), o.GetNamespace(), o.GetName())
	}
	fmt.Printf("\nready:\n")
	fmt.Printf("  control plane   %s (kubectl --kubeconfig %s get kafka -A)\n", e.Cluster.Server, kubeconfig)
	fmt.Printf("  nodes           3 simulated nodes in zone-a, zone-b, zone-c\n")
	fmt.Printf("  CRDs            kafkas, kafkanodepools, kafkatopics, kafkausers (kafkaplane.io/v1beta1)\n")
	fmt.Printf("  cluster operator http://%s/metrics (log %s)\n", opAddr, filepath.Join(logs, "cluster-operator.log"))
	if promURL != "" {
		fmt.Printf("  prometheus      %s (the Kafka nodes of every namespace and the cluster operator, every 15 s; the chart's alerts:\n", promURL)
		fmt.Printf("                  %s/api/v1/alerts; dashboards: import charts/kafkaplane/files/dashboards/*.json into a Grafana\n", promURL)
		fmt.Printf("                  with this Prometheus as its data source)\n")
	}
	fmt.Printf("\nwaiting for the examples to be Ready (up to 5 minutes)…\n")
	for _, line := range waitExamples(ctx, kp, e, 5*time.Minute) {
		fmt.Println("  " + line)
	}
	if real {
		readyAt := time.Since(start)
		fmt.Printf("\nKafka: real Apache Kafka, each node a JVM in a pod of its own (own network namespace and IP, volumes,\n")
		fmt.Printf("user), found through the cluster DNS at %s (.sandbox/dns; every name it serves, with its address, in\n", e.DNS.Addr)
		fmt.Printf(".sandbox/hosts: add it to /etc/hosts, or point a resolver at .sandbox/dns, for kcat or a Java client).\n")
		fmt.Printf("A broker address per namespace/cluster/listener in .sandbox/bootstrap.json:\n")
		boot := snapshot()
		for _, k := range sortedKeys(boot) {
			fmt.Printf("  %-40s %s\n", k, boot[k])
		}
		fmt.Printf("memory: %s\n", memoryReport())
		if err := realWalkthrough(ctx, e, filepath.Join(dir, "users")); err != nil {
			fmt.Printf("\nwalk-through: FAILED: %v\n", err)
		} else {
			fmt.Printf("\nwalk-through: produced to and consumed from topic test as my-user over mutual TLS through\n")
			fmt.Printf("my-tls-cluster-kafka-bootstrap.tls-kafka.svc:9093: ok; User:CN=someone-else (no ACLs) was refused: TOPIC_AUTHORIZATION_FAILED\n")
		}
		fmt.Printf("(examples Ready %s after start)\n", readyAt.Round(time.Second))
		fmt.Printf("\nproduce and consume with my-user's certificate (.sandbox/users/tls-kafka/my-user/: user.crt, user.key, ca.crt of\n")
		fmt.Printf("the clients CA; trust the cluster CA from Secret my-tls-cluster-cluster-ca-cert), bootstrap\n")
		fmt.Printf("my-tls-cluster-kafka-bootstrap.tls-kafka.svc:9093 with .sandbox/hosts in place.\n\n")
	} else {
		fmt.Printf("\nKafka stand-in: kfake on loopback per cluster (TLS from the cluster CA; ACLs stored, not enforced —\n")
		fmt.Printf("kfake maps mTLS clients to User:ANONYMOUS); addresses by namespace/cluster/listener in .sandbox/bootstrap.json:\n")
		for k, v := range snapshot() {
			fmt.Printf("  %-40s %s\n", k, v)
		}
		if err := walkthrough(ctx, e.Kube, filepath.Join(dir, "users"), snapshot()); err != nil {
			fmt.Printf("\nwalk-through (produce and consume as my-user over mTLS): FAILED: %v\n", err)
		} else {
			fmt.Printf("\nwalk-through: produced to and consumed from topic test as my-user over mutual TLS: ok\n")
		}
		fmt.Printf("\nproduce and consume with my-user's certificate (.sandbox/users/tls-kafka/my-user/: user.crt, user.key, ca.crt of\n")
		fmt.Printf("the clients CA; trust the cluster CA from Secret my-tls-cluster-cluster-ca-cert) against that address.\n\n")
	}
	fmt.Printf("(started in %s; Ctrl-C stops everything)\n", time.Since(start).Round(100*time.Millisecond))
	fmt.Println("sandbox ready")

	select {
	case <-ctx.Done():
		return nil
	case <-op.Done():
		return fail("cluster-operator", op.LogFile, errors.New("exited"))
	}
}

// startClusterOperator runs the freshly built cluster operator with the admin kubeconfig,
// watching every namespace, and waits until it is ready.
func startClusterOperator(ctx context.Context, e *env.Env, kubeconfig, logs, overrides string) (*localcluster.Process, string, error) {
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"--kubeconfig=" + kubeconfig, "--leader-elect=false", "--http-address=" + addr}
	var p *localcluster.Process
	if overrides != "" {
		p, err = localcluster.StartProcess("cluster-operator", logs, []string{"KAFKAPLANE_WATCH_NAMESPACES=*"},
			e.Binaries["cluster-operator"], append(args, "--kafka-bootstrap-overrides="+overrides)...)
	} else {
		// Real Kafka: the operator resolves the clusters' Service names through the cluster DNS,
		// in a mount namespace of its own whose /etc/resolv.conf points there.
		p, err = startWithClusterDNS(e, logs, append([]string{e.Binaries["cluster-operator"]}, args...))
	}
	if err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, addr, nil
			}
		}
		if exited, _ := p.Exited(); exited || time.Now().After(deadline) || ctx.Err() != nil {
			_ = p.Stop(5 * time.Second)
			return nil, "", fail("cluster-operator", p.LogFile, errors.New("never became ready"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// startPrometheus runs a real Prometheus (built once from pkg/hack/prometheus) that scrapes the
// Kafka nodes of every namespace as the chart's PodMonitor would, and the cluster operator, and
// evaluates the chart's alerts; it returns its URL, or "" (and says why) when it cannot start.
func startPrometheus(ctx context.Context, root, dir, logs, kubeconfig, opAddr string) string {
	rules, err := promrules.RenderRules(root)
	if err == nil {
		var s *promserver.Server
		s, err = promserver.Start(ctx, promserver.Options{Dir: filepath.Join(dir, "prometheus"), LogDir: logs, Kubeconfig: kubeconfig,
			Static: map[string][]string{"kafkaplane-cluster-operator": {opAddr}}, Rules: rules, Interval: 15 * time.Second, Log: os.Stdout})
		if err == nil {
			go func() { <-ctx.Done(); s.Stop() }()
			return s.URL
		}
	}
	fmt.Printf("no Prometheus in this sandbox: %v\n", err)
	return ""
}
