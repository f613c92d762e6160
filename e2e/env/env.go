// Package env assembles the whole test environment: the control plane, the simulated kubelet
// with its nodes, and the runner that starts our own pods as processes. Tests, the shared test
// wrapper and the sandbox all start it the same way.
package env

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/clusterdns"
	"github.com/kafkaplane/kafkaplane/e2e/images"
	"github.com/kafkaplane/kafkaplane/e2e/jmxagent"
	"github.com/kafkaplane/kafkaplane/e2e/kafkadist"
	"github.com/kafkaplane/kafkaplane/e2e/kafkapods"
	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/e2e/podnet"
	"github.com/kafkaplane/kafkaplane/e2e/processpods"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Options configure an environment.
type Options struct {
	// Dir holds everything the environment writes; LogDir the logs (Dir/logs when empty).
	Dir, LogDir string
	// Nodes to simulate; 3 nodes in 3 zones when nil.
	Nodes []kubelet.NodeSpec
	// Log receives progress messages (builds).
	Log io.Writer
	// AllKafkaPods runs every apache/kafka pod as a real Kafka (the sandbox); otherwise only
	// those in namespaces labelled kafkapods.NamespaceLabel=true do, and the others are
	// simulated.
	AllKafkaPods bool
	// NoRealKafka simulates every Kafka pod (no pod network, no cluster DNS).
	NoRealKafka bool
	// AnyStorageClass provisions volumes for claims of any StorageClass (kubelet.Options).
	AnyStorageClass bool
}

// Env is a running environment.
type Env struct {
	Cluster *localcluster.Cluster
	Kubelet *kubelet.Kubelet
	Runner  *processpods.Runner
	// KafkaPods runs apache/kafka pods for real, on Network with DNS as their resolver; nil
	// (and RealKafkaMissing saying why) where this machine cannot.
	KafkaPods        *kafkapods.Runner
	Network          *podnet.Network
	DNS              *clusterdns.Server
	RealKafkaMissing string
	Config           *rest.Config
	Kube             kubernetes.Interface
	Dynamic          dynamic.Interface
	// Binaries are the freshly built operators, by name.
	Binaries map[string]string
	Dir      string
	LogDir   string

	cancel context.CancelFunc
}

// Start builds what is missing and starts the environment; Stop ends it.
func Start(ctx context.Context, o Options) (e *Env, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.LogDir == "" {
		o.LogDir = filepath.Join(o.Dir, "logs")
	}
	if o.Nodes == nil {
		o.Nodes = kubelet.Zones(3)
	}
	if err := os.MkdirAll(o.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", o.LogDir, err)
	}
	// The kubelet logs through klog: to a file of its own, not the test output.
	klogFile, err := os.OpenFile(filepath.Join(o.LogDir, "kubelet.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the kubelet log: %w", err)
	}
	klog.LogToStderr(false)
	klog.SetOutput(klogFile)
	bin, err := build.ControlPlane(o.Log)
	if err != nil {
		return nil, err
	}
	binaries, err := build.Operators(filepath.Join(o.Dir, "bin"), o.Log)
	if err != nil {
		return nil, err
	}
	cluster, err := localcluster.Start(ctx, localcluster.Options{Binary: bin, Dir: filepath.Join(o.Dir, "cluster"), LogDir: o.LogDir})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	started := &Env{Cluster: cluster, Config: cluster.Config, Binaries: binaries, Dir: o.Dir, LogDir: o.LogDir,
		cancel: cancel}
	e = started
	defer func() {
		// A failed start returns a nil Env: stop what was started, not the return value.
		if err != nil {
			started.Stop()
		}
	}()
	if e.Kube, err = kubernetes.NewForConfig(cluster.Config); err != nil {
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	if e.Dynamic, err = dynamic.NewForConfig(cluster.Config); err != nil {
		return nil, fmt.Errorf("creating a dynamic client: %w", err)
	}
	ppOpts := processpods.Options{Client: e.Kube, Server: cluster.Server,
		CAData: cluster.Config.CAData, Binaries: binaries, Dir: filepath.Join(o.Dir, "pods"), LogDir: o.LogDir}
	runners := []kubelet.Runner{}
	if err := e.startPodNetwork(runCtx, o); err != nil {
		e.RealKafkaMissing = err.Error()
		fmt.Fprintf(o.Log, "env: Kafka pods are simulated: %v\n", err)
	} else {
		ppOpts.Podinit, ppOpts.ResolvConf = binaries["podinit"], e.DNS.ResolvConf
		runners = append(runners, e.KafkaPods)
	}
	e.Runner = processpods.New(ppOpts)
	runners = append(runners, e.Runner)
	e.Kubelet = kubelet.New(kubelet.Options{Client: e.Kube, Nodes: o.Nodes, Runners: runners, AnyStorageClass: o.AnyStorageClass})
	if err := e.Kubelet.Run(runCtx); err != nil {
		return nil, &localcluster.ComponentError{Component: "kubelet", LogFile: "(this process's output)", Err: err}
	}
	return e, nil
}

// startPodNetwork starts the pods' bridge, the cluster DNS on its gateway and the Kafka pod
// runner, when this machine has what they need (root, iproute2, a JDK).
func (e *Env) startPodNetwork(ctx context.Context, o Options) error {
	if o.NoRealKafka {
		return errors.New("real Kafka turned off")
	}
	if err := podnet.Check(); err != nil {
		return err
	}
	if err := kafkadist.CheckJava(ctx); err != nil {
		return err
	}
	nw, err := podnet.New()
	if err != nil {
		return err
	}
	e.Network = nw
	dns, err := clusterdns.Start(ctx, e.Kube, net.JoinHostPort(nw.Gateway.String(), "53"))
	if err != nil {
		return err
	}
	e.DNS = dns
	if err := os.WriteFile(filepath.Join(e.Dir, DNSFile), []byte(dns.Addr+"\n"), 0o644); err != nil {
		return err
	}
	nodes := map[string]string{}
	for _, n := range o.Nodes {
		nodes[n.Name] = n.Address
	}
	e.KafkaPods = kafkapods.New(kafkapods.Options{Client: e.Kube, Podinit: e.Binaries["podinit"], Network: nw, DNS: dns,
		Dir: filepath.Join(e.Dir, "kafka"), LogDir: e.LogDir, All: o.AllKafkaPods,
		NodeAddress: func(node string) string { return nodes[node] },
		InitImages:  e.initImages(filepath.Join(e.Dir, "images"), o.Log)})
	return nil
}

// initImages lays out the images whose init containers the harness runs in Kafka pods: our
// jmx-exporter image (the pinned agent from Maven Central and the static cp, as package images
// builds it), at any tag.
func (e *Env) initImages(dir string, log io.Writer) kafkapods.InitImages {
	var mu sync.Mutex
	return func(ctx context.Context, image string) (string, uint32, bool, error) {
		if !strings.HasPrefix(image, v1beta1.ContainerImageRegistry+"/"+v1beta1.ImageJMXExporter+":") {
			return "", 0, false, nil
		}
		mu.Lock()
		defer mu.Unlock()
		root := filepath.Join(dir, v1beta1.ImageJMXExporter)
		if _, err := os.Stat(filepath.Join(root, ".complete")); err == nil {
			return root, images.UID, true, nil
		}
		jar, err := jmxagent.Ensure(ctx, "", log)
		if err != nil {
			return "", 0, false, err
		}
		for src, dst := range map[string]string{jar: v1beta1.JMXExporterJar, e.Binaries["copyfile"]: "/bin/cp"} {
			if err := copyFile(src, filepath.Join(root, dst)); err != nil {
				return "", 0, false, err
			}
		}
		return root, images.UID, true, os.WriteFile(filepath.Join(root, ".complete"), nil, 0o644)
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// DNSFile, in an environment's directory, holds the cluster DNS server's address.
const DNSFile = "dns"

// Stop stops the kubelet and its pod processes, then the control plane and the pod network.
func (e *Env) Stop() {
	e.cancel()
	if e.Kubelet != nil {
		e.Kubelet.Wait(90 * time.Second)
	}
	e.Cluster.Stop()
	if e.Network != nil {
		e.Network.Close()
	}
}
