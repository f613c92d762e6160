// Package kafkafake starts franz-go's in-process Kafka (kfake) for the topic and user operator
// tests and the sandbox, with TLS, SASL/SCRAM and ACL enforcement as asked.
//
// kfake's limits, which tests must respect and report rather than paper over: one listener and
// one TLS configuration per broker; SASL on or off for the whole cluster; no DescribeQuorum;
// mTLS clients are User:ANONYMOUS to its authorizer (ACL principals come from SASL only); SCRAM
// at 4096 iterations; reassignments accepted but not executed; quotas stored, not enforced;
// BROKER_LOGGER configs modelled here (loggers.go), not by kfake.
package kafkafake

import (
	"crypto/tls"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Options configure a fake cluster.
type Options struct {
	// Brokers is the number of brokers; 3 when zero.
	Brokers int
	// Ports fixes the brokers' ports on 127.0.0.1; free ports when empty.
	Ports []int
	// TLS serves TLS with this configuration (set ClientAuth and ClientCAs for mutual TLS).
	TLS *tls.Config
	// SCRAMSuperusers turns SASL on, with these SCRAM-SHA-512 superusers (name → password). The
	// operators' own principals go here; users the operators create are subject to ACLs.
	SCRAMSuperusers map[string]string
	// EnforceACLs makes the authorizer deny what no ACL allows (superusers excepted).
	EnforceACLs bool
	// ClusterID of the cluster; kfake's default when empty.
	ClusterID string
	// BrokerConfigs are initial dynamic broker configs (e.g. default.replication.factor).
	BrokerConfigs map[string]string
}

// Cluster is a running fake Kafka.
type Cluster struct {
	*kfake.Cluster
	loggers brokerLoggers
	down    atomic.Bool
	hanging atomic.Bool
}

// Start starts a fake cluster on loopback.
func Start(o Options) (*Cluster, error) {
	n := o.Brokers
	if n == 0 {
		n = 3
	}
	opts := []kfake.Opt{kfake.NumBrokers(n)}
	if len(o.Ports) > 0 {
		if len(o.Ports) != n {
			return nil, fmt.Errorf("kafkafake: %d ports for %d brokers", len(o.Ports), n)
		}
		opts = append(opts, kfake.Ports(o.Ports...))
	}
	if o.TLS != nil {
		opts = append(opts, kfake.TLS(o.TLS))
	}
	if len(o.SCRAMSuperusers) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for user, pass := range o.SCRAMSuperusers {
			opts = append(opts, kfake.Superuser("SCRAM-SHA-512", user, pass))
		}
	}
	if o.EnforceACLs {
		opts = append(opts, kfake.EnableACLs())
	}
	if o.ClusterID != "" {
		opts = append(opts, kfake.ClusterID(o.ClusterID))
	}
	if len(o.BrokerConfigs) > 0 {
		opts = append(opts, kfake.BrokerConfigs(o.BrokerConfigs))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting kfake: %w", err)
	}
	out := &Cluster{Cluster: c}
	out.serveOutage()
	out.serveLoggers()
	return out, nil
}

// Bootstrap is the comma-separated list of broker addresses.
func (c *Cluster) Bootstrap() string { return strings.Join(c.ListenAddrs(), ",") }
