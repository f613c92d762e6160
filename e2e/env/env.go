// Package env assembles the whole test environment: the control plane, the simulated kubelet
// with its nodes, and the runner that starts our own pods as processes. Tests, the shared test
// wrapper and the sandbox all start it the same way.
package env

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/e2e/processpods"
)

// Options configure an environment.
type Options struct {
	// Dir holds everything the environment writes; LogDir the logs (Dir/logs when empty).
	Dir, LogDir string
	// Nodes to simulate; 3 nodes in 3 zones when nil.
	Nodes []kubelet.NodeSpec
	// Log receives progress messages (builds).
	Log io.Writer
}

// Env is a running environment.
type Env struct {
	Cluster *localcluster.Cluster
	Kubelet *kubelet.Kubelet
	Runner  *processpods.Runner
	Config  *rest.Config
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
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
	e = &Env{Cluster: cluster, Config: cluster.Config, Binaries: binaries, Dir: o.Dir, LogDir: o.LogDir,
		cancel: cancel}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	if e.Kube, err = kubernetes.NewForConfig(cluster.Config); err != nil {
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	if e.Dynamic, err = dynamic.NewForConfig(cluster.Config); err != nil {
		return nil, fmt.Errorf("creating a dynamic client: %w", err)
	}
	e.Runner = processpods.New(processpods.Options{Client: e.Kube, Server: cluster.Server,
		CAData: cluster.Config.CAData, Binaries: binaries, Dir: filepath.Join(o.Dir, "pods"), LogDir: o.LogDir})
	e.Kubelet = kubelet.New(kubelet.Options{Client: e.Kube, Nodes: o.Nodes, Runner: e.Runner})
	if err := e.Kubelet.Run(runCtx); err != nil {
		return nil, &localcluster.ComponentError{Component: "kubelet", LogFile: "(this process's output)", Err: err}
	}
	return e, nil
}

// Stop stops the kubelet and its pod processes, then the control plane.
func (e *Env) Stop() {
	e.cancel()
	if e.Kubelet != nil {
		e.Kubelet.Wait(15 * time.Second)
	}
	e.Cluster.Stop()
}
