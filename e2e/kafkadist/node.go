package kafkadist

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Node is a real single-node KRaft cluster (one process, controller and broker) on loopback,
// started from a distribution with its own bin scripts: for tests that need Kafka itself.
type Node struct {
	// Bootstrap is the broker listener, host:port.
	Bootstrap string
	cmd       *exec.Cmd
	log       *syncBuffer
	done      chan struct{}
}

// NodeOptions configure a Node.
type NodeOptions struct {
	// Dir holds its configuration, data and logs.
	Dir string
	// HeapMB is the JVM heap; 256 when zero.
	HeapMB int
	// BrokerProtocol is the broker listener's security protocol; PLAINTEXT when empty.
	BrokerProtocol string
	// Config lines are appended to server.properties.
	Config []string
	// FormatArgs are added to kafka-storage.sh format (e.g. --add-scram).
	FormatArgs []string
}

// StartNode formats o.Dir as a new cluster's only node (kafka-storage.sh format --standalone) and
// starts it (kafka-server-start.sh); it returns once the process runs.
func StartNode(ctx context.Context, d *Dist, o NodeOptions) (*Node, error) {
	dir, heapMB, proto := o.Dir, o.HeapMB, o.BrokerProtocol
	if heapMB == 0 {
		heapMB = 256
	}
	if proto == "" {
		proto = "PLAINTEXT"
	}
	broker, err := freePort()
	if err != nil {
		return nil, err
	}
	controller, err := freePort()
	if err != nil {
		return nil, err
	}
	props := fmt.Sprintf(`process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:%[2]d
listeners=BROKER://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
advertised.listeners=BROKER://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
controller.listener.names=CONTROLLER
inter.broker.listener.name=BROKER
listener.security.protocol.map=BROKER:%[5]s,CONTROLLER:PLAINTEXT
log.dirs=%[3]s/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
%[4]s
`, broker, controller, dir, strings.Join(o.Config, "\n"), proto)
	cfg := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(cfg, []byte(props), 0o644); err != nil {
		return nil, err
	}
	env := append(os.Environ(), fmt.Sprintf("KAFKA_HEAP_OPTS=-Xmx%[1]dm -Xms%[1]dm", heapMB), "LOG_DIR="+filepath.Join(dir, "logs"))
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(d.Home, "bin", args[0]), args[1:]...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	id, err := run("kafka-storage.sh", "random-uuid")
	if err != nil {
		return nil, err
	}
	if _, err := run(append([]string{"kafka-storage.sh", "format", "--cluster-id", id, "--config", cfg, "--standalone"}, o.FormatArgs...)...); err != nil {
		return nil, err
	}
	n := &Node{Bootstrap: fmt.Sprintf("127.0.0.1:%d", broker), log: &syncBuffer{}, done: make(chan struct{})}
	n.cmd = exec.Command(filepath.Join(d.Home, "bin", "kafka-server-start.sh"), cfg)
	n.cmd.Env, n.cmd.Stdout, n.cmd.Stderr = env, n.log, n.log
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	return n, nil
}

// Log is what the node has printed.
func (n *Node) Log() string { return n.log.String() }

// Stop sends SIGTERM, then SIGKILL after grace.
func (n *Node) Stop(grace time.Duration) {
	_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(grace):
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
