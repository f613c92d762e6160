package dynconfig

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/logging"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Loggers sets nodes' logger levels at runtime (IncrementalAlterConfigs on each node's
// BROKER_LOGGER resource), so that changing spec.kafka.logging's inline loggers rolls no node.
// Brokers are reached through the cluster's client; controller-only nodes, which are not in the
// brokers' metadata, each through a client of their own controller listener (Kafka 4's
// controllers answer BROKER_LOGGER requests about themselves).
type Loggers struct {
	Client func(k *v1beta1.Kafka) (*kgo.Client, error)
	// NodeClient is a new client of one node's address, closed after use.
	NodeClient func(k *v1beta1.Kafka, addr string) (*kgo.Client, error)
}

// Apply makes each node's loggers follow want (see logging.Desired) and returns, sorted, the
// "node/logger=LEVEL" changes it made.
func (l *Loggers) Apply(ctx context.Context, k *v1beta1.Kafka, nodes []logging.Target, want logging.Levels) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var changed []string
	for _, n := range nodes {
		send, done, err := l.sender(k, n)
		if err != nil {
			return changed, fmt.Errorf("node %d loggers: %w", n.ID, err)
		}
		c, err := applyTo(ctx, send, n.ID, want)
		done()
		changed = append(changed, c...)
		if err != nil {
			return changed, err
		}
	}
	sort.Strings(changed)
	return changed, nil
}

type sendFunc func(context.Context, kmsg.Request) (kmsg.Response, error)

// sender sends a node's requests: a broker's through the cluster's client (which routes a
// BROKER_LOGGER request to the broker it names), a controller's to its own listener.
func (l *Loggers) sender(k *v1beta1.Kafka, n logging.Target) (sendFunc, func(), error) {
	if n.Addr == "" {
		cl, err := l.Client(k)
		if err != nil {
			return nil, nil, err
		}
		return cl.Request, func() {}, nil
	}
	if l.NodeClient == nil {
		return nil, nil, fmt.Errorf("no client for controller %d", n.ID)
	}
	cl, err := l.NodeClient(k, n.Addr)
	if err != nil {
		return nil, nil, err
	}
	seeds := cl.SeedBrokers()
	if len(seeds) == 0 {
		cl.Close()
		return nil, nil, fmt.Errorf("no seed for controller %d at %s", n.ID, n.Addr)
	}
	return seeds[0].Request, cl.Close, nil
}

// applyTo sets one node's loggers that differ from want.
func applyTo(ctx context.Context, send sendFunc, id int32, want logging.Levels) ([]string, error) {
	name := strconv.Itoa(int(id))
	current, err := describeLoggers(ctx, send, name)
	if err != nil {
		return nil, fmt.Errorf("node %d loggers: %w", id, err)
	}
	diff := logging.Desired(want, current)
	if len(diff) == 0 {
		return nil, nil
	}
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBrokerLogger, name
	var changed []string
	for _, logger := range sortedNames(diff) {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		level := diff[logger]
		c.Name, c.Op, c.Value = logger, kmsg.IncrementalAlterConfigOpSet, &level
		res.Configs = append(res.Configs, c)
		changed = append(changed, fmt.Sprintf("%d/%s=%s", id, logger, level))
	}
	req.Resources = append(req.Resources, res)
	resp, err := send(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("setting node %d's loggers: %w", id, err)
	}
	for _, r := range resp.(*kmsg.IncrementalAlterConfigsResponse).Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return nil, fmt.Errorf("setting node %d's loggers: %w (%s)", id, err, str(r.ErrorMessage))
		}
	}
	return changed, nil
}

// describeLoggers returns every logger a broker has, with its level.
func describeLoggers(ctx context.Context, send sendFunc, node string) (map[string]string, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBrokerLogger, node
	req.Resources = append(req.Resources, res)
	raw, err := send(ctx, req)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range raw.(*kmsg.DescribeConfigsResponse).Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return nil, fmt.Errorf("%w (%s)", err, str(r.ErrorMessage))
		}
		for _, c := range r.Configs {
			if c.Value != nil {
				out[c.Name] = *c.Value
			}
		}
	}
	return out, nil
}

func sortedNames(m logging.Levels) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
