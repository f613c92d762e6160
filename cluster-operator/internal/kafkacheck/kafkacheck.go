// Package kafkacheck asks a cluster's Kafka, over its replication listener with the cluster
// operator's own client certificate, whether a node may restart or be removed: the in-sync
// replicas of every partition, each topic's min.insync.replicas, and the controller quorum. When
// Kafka cannot be asked, the answer is no: an unknown state is never safe.
package kafkacheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	corev1 "k8s.io/api/core/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/certs"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/roller"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Timeout bounds each question to Kafka.
const Timeout = 15 * time.Second

// Checker implements the reconciler's RestartChecker with one client per cluster.
type Checker struct {
	// Secret returns the cluster operator's certificate Secret of a cluster from the cache.
	Secret func(namespace, name string) *corev1.Secret
	// SecretName names that Secret for a cluster.
	SecretName func(cluster string) string
	// Address is the bootstrap address of a cluster; default <cluster>-kafka-bootstrap.<ns>.svc:9091.
	Address func(k *v1beta1.Kafka) string

	mu      sync.Mutex
	clients map[string]*entry
}

type entry struct {
	fingerprint string
	cl          *kgo.Client
	// failures counts the calls in a row that failed to reach Kafka.
	failures int
}

// MaxFailures is how many calls in a row may fail to reach Kafka before the cluster's client is
// replaced: on real Kafka, a client kept answering "the broker connection has died" for one
// broker, and timing out, for minutes after other brokers had restarted; a new client got
// through at once.
const MaxFailures = 3

// Report records the outcome of a call through the cluster's client (err from the transport,
// not a Kafka error code): MaxFailures failures in a row retire the client.
func (c *Checker) Report(k *v1beta1.Kafka, err error) {
	key := k.Namespace + "/" + k.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.clients[key]
	if !ok {
		return
	}
	switch {
	case err == nil:
		e.failures = 0
	case unreachable(err):
		e.failures++
	}
}

// unreachable tells a call that did not reach Kafka (a timeout, a dead connection, a network
// error) from an answer, such as a request the broker does not support.
func unreachable(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.As(err, &ne) ||
		strings.Contains(err.Error(), "connection has died")
}

// DefaultAddress is a cluster's replication listener through its bootstrap Service.
func DefaultAddress(k *v1beta1.Kafka) string {
	return fmt.Sprintf("%s.%s.svc:%d", v1beta1.BootstrapServiceName(k.Name), k.Namespace, v1beta1.PortReplication)
}

// Client returns the cluster's client, created on first use and replaced when the address or the
// operator's certificate changes.
func (c *Checker) Client(k *v1beta1.Kafka) (*kgo.Client, error) {
	s := c.Secret(k.Namespace, c.SecretName(k.Name))
	if s == nil {
		return nil, errors.New("the cluster operator's certificate for this cluster does not exist yet")
	}
	addr := DefaultAddress(k)
	if c.Address != nil {
		addr = c.Address(k)
	}
	fp := addr + "|" + string(s.Data[certs.ClientCertKey]) + string(s.Data[certs.CATrustKey])
	key := k.Namespace + "/" + k.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == nil {
		c.clients = map[string]*entry{}
	}
	if e, ok := c.clients[key]; ok {
		if e.fingerprint == fp && e.failures < MaxFailures {
			return e.cl, nil
		}
		e.cl.Close()
		delete(c.clients, key)
	}
	cl, err := newClient(s, addr)
	if err != nil {
		return nil, err
	}
	c.clients[key] = &entry{fingerprint: fp, cl: cl}
	return cl, nil
}

// NodeClient is a new client of one node at addr (host:port), for requests a node answers about
// itself, such as a controller's loggers: controllers are not in the brokers' metadata, so the
// caller sends through the client's seed broker. The caller closes it.
func (c *Checker) NodeClient(k *v1beta1.Kafka, addr string) (*kgo.Client, error) {
	s := c.Secret(k.Namespace, c.SecretName(k.Name))
	if s == nil {
		return nil, errors.New("the cluster operator's certificate for this cluster does not exist yet")
	}
	return newClient(s, addr)
}

// newClient is a client with the cluster operator's certificate of a cluster, seeded with addr.
func newClient(s *corev1.Secret, addr string) (*kgo.Client, error) {
	pair, err := tls.X509KeyPair(s.Data[certs.ClientCertKey], s.Data[certs.ClientKeyKey])
	if err != nil {
		return nil, fmt.Errorf("reading the cluster operator's certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.Data[certs.CATrustKey]) {
		return nil, errors.New("the cluster operator's certificate Secret has no CA certificate")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("kafkaplane-cluster-operator"),
		kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{pair}}),
		kgo.RetryTimeout(Timeout))
	if err != nil {
		return nil, fmt.Errorf("creating a Kafka client: %w", err)
	}
	return cl, nil
}

// Forget closes the client of a cluster that is gone.
func (c *Checker) Forget(namespace, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.clients[namespace+"/"+name]; ok {
		e.cl.Close()
		delete(c.clients, namespace+"/"+name)
	}
}

// Close closes every client.
func (c *Checker) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.clients {
		e.cl.Close()
		delete(c.clients, k)
	}
}

// Quorum describes the KRaft controller quorum. A voter counts as caught up when it is the
// leader or its log end is within caughtUpLag records of the high watermark.
func (c *Checker) Quorum(ctx context.Context, k *v1beta1.Kafka) (roller.Quorum, error) {
	resp, err := c.describeQuorum(ctx, k)
	if err != nil {
		return roller.Quorum{}, err
	}
	return quorumOf(resp)
}

func (c *Checker) describeQuorum(ctx context.Context, k *v1beta1.Kafka) (*kmsg.DescribeQuorumResponse, error) {
	cl, err := c.Client(k)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	t.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	c.Report(k, err)
	if err != nil {
		return nil, fmt.Errorf("describing the quorum: %w", err)
	}
	return resp, nil
}

const caughtUpLag = 10

func quorumOf(resp *kmsg.DescribeQuorumResponse) (roller.Quorum, error) {
	if resp.ErrorCode != 0 || len(resp.Topics) == 0 || len(resp.Topics[0].Partitions) == 0 {
		return roller.Quorum{}, fmt.Errorf("describing the quorum: error code %d", resp.ErrorCode)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		return roller.Quorum{}, fmt.Errorf("describing the quorum: error code %d", p.ErrorCode)
	}
	q := roller.Quorum{Leader: p.LeaderID}
	for _, v := range p.CurrentVoters {
		caught := v.ReplicaID == p.LeaderID || (v.LogEndOffset >= 0 && p.HighWatermark-v.LogEndOffset <= caughtUpLag)
		q.Voters = append(q.Voters, roller.Voter{ID: v.ReplicaID, CaughtUp: caught})
	}
	return q, nil
}

// CanRestart answers for a ready node: controllers keep a caught-up majority, brokers keep every
// partition at min.insync.replicas.
func (c *Checker) CanRestart(ctx context.Context, k *v1beta1.Kafka, n roller.Node) (bool, string) {
	if n.Controller {
		q, err := c.Quorum(ctx, k)
		if err != nil {
			return false, "cannot ask Kafka: " + err.Error()
		}
		if ok, why := roller.CanRestartController(n.ID, q); !ok {
			return false, why
		}
	}
	if n.Broker {
		parts, err := c.partitions(ctx, k)
		if err != nil {
			return false, "cannot ask Kafka: " + err.Error()
		}
		return roller.CanRestartBroker(n.ID, parts)
	}
	return true, ""
}

// CanRemove answers whether brokers host no partition replica.
func (c *Checker) CanRemove(ctx context.Context, k *v1beta1.Kafka, brokers []int32) (bool, string) {
	parts, err := c.partitions(ctx, k)
	if err != nil {
		return false, "cannot ask Kafka: " + err.Error()
	}
	for _, p := range parts {
		for _, r := range p.Replicas {
			if slices.Contains(brokers, r) {
				return false, fmt.Sprintf("broker %d still hosts a replica of %s-%d; move partitions off it first", r, p.Topic, p.Partition)
			}
		}
	}
	return true, ""
}

// partitions lists every partition with its replicas, ISR and topic's min.insync.replicas.
func (c *Checker) partitions(ctx context.Context, k *v1beta1.Kafka) ([]roller.Partition, error) {
	cl, err := c.Client(k)
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	// A direct Metadata request: kadm's Metadata answers from kgo's metadata cache when it is
	// younger than the client's MetadataMinAge (5 s), and a roll decided on an ISR seconds old
	// could restart a broker just after another one fell out of it.
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	c.Report(k, err)
	if err != nil {
		return nil, fmt.Errorf("reading metadata: %w", err)
	}
	var names []string
	for _, t := range resp.Topics {
		if t.Topic != nil {
			names = append(names, *t.Topic)
		}
	}
	minISR := map[string]int{}
	if len(names) > 0 {
		rcs, err := adm.DescribeTopicConfigs(ctx, names...)
		if err != nil {
			return nil, fmt.Errorf("reading topic configs: %w", err)
		}
		for _, rc := range rcs {
			if rc.Err != nil {
				return nil, fmt.Errorf("reading the config of %s: %w", rc.Name, rc.Err)
			}
			minISR[rc.Name] = 1
			for _, cfg := range rc.Configs {
				if cfg.Key == "min.insync.replicas" && cfg.Value != nil {
					if n, err := strconv.Atoi(*cfg.Value); err == nil {
						minISR[rc.Name] = n
					}
				}
			}
		}
	}
	var out []roller.Partition
	for _, t := range resp.Topics {
		topic := ""
		if t.Topic != nil {
			topic = *t.Topic
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, fmt.Errorf("metadata of %s: %w", topic, err)
		}
		for _, p := range t.Partitions {
			// A partition's own error (no leader, a replica offline) is what the ISR shows.
			out = append(out, roller.Partition{Topic: topic, Partition: p.Partition, Replicas: p.Replicas, ISR: p.ISR, MinISR: minISR[topic]})
		}
	}
	return out, nil
}
