package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

// loggingWithoutRestart sets an inline logger (org.apache.kafka.raft, which brokers and
// controllers both have, to WARN) and then removes the logging again: every node, controllers
// included, reports the level in its BROKER_LOGGER configs, as Kafka's own kafka-configs.sh
// would show it, and no pod is replaced.
func loggingWithoutRestart(t *testing.T, f *framework.Framework, ns string) {
	ctx := t.Context()
	before := nodePods(t, f, ns)
	cert := operatorCert(t, f, ns, "c")
	brokers := realKafkaClient(t, f, ns, "c", "c-kafka-bootstrap."+ns+".svc:9091", cert)
	levels := func(name string) (map[string]string, error) {
		id := name[strings.LastIndex(name, "-")+1:]
		req := kmsg.NewPtrDescribeConfigsRequest()
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBrokerLogger, id
		req.Resources = append(req.Resources, res)
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var resp kmsg.Response
		var err error
		if isController(name) {
			// Controllers are not in the brokers' metadata: ask the node's controller listener.
			cl := realKafkaClient(t, f, ns, "c", name+".c-kafka-brokers."+ns+".svc:9090", cert)
			defer cl.Close()
			resp, err = cl.SeedBrokers()[0].Request(rctx, req)
		} else {
			resp, err = brokers.Request(rctx, req)
		}
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, r := range resp.(*kmsg.DescribeConfigsResponse).Resources {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				return nil, err
			}
			for _, c := range r.Configs {
				if c.Value != nil {
					out[c.Name] = *c.Value
				}
			}
		}
		return out, nil
	}
	// every node has org.apache.kafka.raft loggers, all at level, and root at INFO.
	atLevel := func(level string) func() (bool, error) {
		return func() (bool, error) {
			for name := range before {
				got, err := levels(name)
				if err != nil {
					return false, fmt.Errorf("%s: %w", name, err)
				}
				var raft []string
				for logger, l := range got {
					if strings.HasPrefix(logger, "org.apache.kafka.raft.") {
						raft = append(raft, logger)
						if l != level {
							return false, fmt.Errorf("%s: %s is %s", name, logger, l)
						}
					}
				}
				if len(raft) == 0 || got["root"] != "INFO" {
					return false, fmt.Errorf("%s: raft loggers %v, root %s", name, raft, got["root"])
				}
			}
			return true, nil
		}
	}
	start := time.Now()
	patch := `{"spec":{"kafka":{"logging":{"type":"inline","loggers":{"rootLogger.level":"INFO","logger.raft.name":"org.apache.kafka.raft","logger.raft.level":"WARN"}}}}}`
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Patch(ctx, "c", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 90*time.Second, "org.apache.kafka.raft at WARN on every node", atLevel("WARN"))
	t.Logf("levels set on %d nodes %s after the change", len(before), time.Since(start).Round(time.Second))

	start = time.Now()
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Patch(ctx, "c", types.MergePatchType, []byte(`{"spec":{"kafka":{"logging":null}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 90*time.Second, "org.apache.kafka.raft back at INFO on every node", atLevel("INFO"))
	t.Logf("levels back to the defaults %s after the logging was removed", time.Since(start).Round(time.Second))

	waitKafkaReady(t, f, ns, "c", 2*time.Minute)
	after := nodePods(t, f, ns)
	var replaced []string
	for name, p := range before {
		if a, ok := after[name]; !ok || a.UID != p.UID {
			replaced = append(replaced, name)
		}
	}
	sort.Strings(replaced)
	if len(replaced) > 0 {
		t.Errorf("pods replaced for a logger level: %v", replaced)
	}
}
