package kafkafake

import (
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// brokerLoggers answers DescribeConfigs and IncrementalAlterConfigs on BROKER_LOGGER resources,
// which kfake refuses: each broker has the loggers of a Kafka 4 node's log4j2 (a few, enough
// for the operator's level diff), set per broker. Requests on other resource types go on to
// kfake. A model for the simulated tests only: the real-Kafka tier checks Kafka's own answers.
type brokerLoggers struct {
	mu     sync.Mutex
	levels map[int32]map[string]string
}

var initialLoggers = []string{"root", "kafka.request.logger", "kafka.authorizer.logger", "kafka.server.KafkaApis",
	"org.apache.kafka.raft.KafkaRaftClient", "org.apache.kafka.coordinator.group.GroupCoordinatorService"}

func (b *brokerLoggers) of(id int32) map[string]string {
	if b.levels == nil {
		b.levels = map[int32]map[string]string{}
	}
	m, ok := b.levels[id]
	if !ok {
		m = map[string]string{}
		for _, l := range initialLoggers {
			m[l] = "INFO"
		}
		m["kafka.request.logger"] = "WARN"
		b.levels[id] = m
	}
	return m
}

// Levels are broker id's logger levels, for tests.
func (c *Cluster) Levels(id int32) map[string]string {
	c.loggers.mu.Lock()
	defer c.loggers.mu.Unlock()
	out := map[string]string{}
	for k, v := range c.loggers.of(id) {
		out[k] = v
	}
	return out
}

func (c *Cluster) serveLoggers() {
	c.ControlKey(int16(kmsg.DescribeConfigs), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.DescribeConfigsRequest)
		if len(r.Resources) == 0 || r.Resources[0].ResourceType != kmsg.ConfigResourceTypeBrokerLogger {
			return nil, nil, false
		}
		resp := r.ResponseKind().(*kmsg.DescribeConfigsResponse)
		c.loggers.mu.Lock()
		defer c.loggers.mu.Unlock()
		for _, res := range r.Resources {
			rr := kmsg.NewDescribeConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
			id, err := strconv.Atoi(res.ResourceName)
			if err != nil || int32(id) != c.CurrentNode() {
				rr.ErrorCode = kerr.InvalidRequest.Code
			} else {
				for name, level := range c.loggers.of(int32(id)) {
					cfg := kmsg.NewDescribeConfigsResponseResourceConfig()
					cfg.Name, cfg.Value = name, &level
					rr.Configs = append(rr.Configs, cfg)
				}
			}
			resp.Resources = append(resp.Resources, rr)
		}
		return resp, nil, true
	})
	c.ControlKey(int16(kmsg.IncrementalAlterConfigs), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.IncrementalAlterConfigsRequest)
		if len(r.Resources) == 0 || r.Resources[0].ResourceType != kmsg.ConfigResourceTypeBrokerLogger {
			return nil, nil, false
		}
		resp := r.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
		c.loggers.mu.Lock()
		defer c.loggers.mu.Unlock()
		for _, res := range r.Resources {
			rr := kmsg.NewIncrementalAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
			id, err := strconv.Atoi(res.ResourceName)
			levels := c.loggers.of(int32(id))
			switch {
			case err != nil || int32(id) != c.CurrentNode():
				rr.ErrorCode = kerr.InvalidRequest.Code
			default:
				for _, cfg := range res.Configs {
					if _, ok := levels[cfg.Name]; !ok || cfg.Value == nil || cfg.Op != kmsg.IncrementalAlterConfigOpSet {
						rr.ErrorCode = kerr.InvalidConfig.Code // as Kafka: "Logger X does not exist!"
						break
					}
				}
				if rr.ErrorCode == 0 {
					for _, cfg := range res.Configs {
						levels[cfg.Name] = *cfg.Value
					}
				}
			}
			resp.Resources = append(resp.Resources, rr)
		}
		return resp, nil, true
	})
}
