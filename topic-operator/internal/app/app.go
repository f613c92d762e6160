// Package app wires the topic operator: its flags, the Kafka client and batched admin, the
// KafkaTopic informer and the reconcile controller.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/kafka/client"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/kafka"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/lag"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/topics"
)

// DefaultWorkers is high because reconciles mostly wait on Kafka, and concurrent reconciles are
// what the admin batches into single requests.
const DefaultWorkers = 128

// Config holds the topic operator's own flags.
type Config struct {
	Kafka        client.Options
	DeleteTopics bool
	LeaveAlone   string
	Adopt        bool
	AdoptNS      string
	Lag          LagConfig
}

// LagConfig turns on the consumer-lag metrics (package lag).
type LagConfig struct {
	Enabled        bool
	Groups, Topics string
	Interval       time.Duration
	MaxPartitions  int
}

// AddFlags registers the flags.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	c.Kafka.AddFlags(fs)
	fs.BoolVar(&c.DeleteTopics, "delete-topics", true, "delete a topic in Kafka when its KafkaTopic is deleted")
	fs.BoolVar(&c.Adopt, "adopt-topics", false, "create KafkaTopic resources for topics made with Kafka tools, then manage them")
	fs.StringVar(&c.AdoptNS, "adopt-namespace", "", "namespace of adopted topics' resources; default: the only watched namespace")
	fs.StringVar(&c.LeaveAlone, "unmanaged-config-keys", "leader.replication.throttled.replicas,follower.replication.throttled.replicas",
		"comma-separated topic config keys never reset to the default (set by other tools)")
	fs.BoolVar(&c.Lag.Enabled, "consumer-lag", false, "export consumer-group lag on /metrics (Kafka Exporter's metric names)")
	fs.StringVar(&c.Lag.Groups, "consumer-lag-groups", "", "regular expression of the consumer groups whose lag is exported (whole names); all when empty")
	fs.StringVar(&c.Lag.Topics, "consumer-lag-topics", "", "regular expression of the topics whose lag is exported (whole names); all when empty")
	fs.DurationVar(&c.Lag.Interval, "consumer-lag-interval", 30*time.Second, "how often the lag is read from Kafka (scrapes serve the last read)")
	fs.IntVar(&c.Lag.MaxPartitions, "consumer-lag-max-partitions", 10000, "most partitions exported; groups past it are skipped and counted")
}

// Defaults sets the common options' defaults for the topic operator.
func Defaults(o *operator.Options) { o.Workers = DefaultWorkers }

// Setup registers the KafkaTopic controller.
func (c *Config) Setup(ctx context.Context, m *operator.Manager) error {
	// CreateTopics goes out once per call: when its answer is lost, the next reconcile, whose
	// resource then carries our finalizer, takes over the topic the lost request made. Retried
	// by kgo within the call, it came back TOPIC_ALREADY_EXISTS and the resource was refused
	// its own topic (seen on real Kafka with a broker cut off mid-batch).
	kc, err := client.New(c.Kafka, "kafkaplane-topic-operator", client.NotRetried(int16(kmsg.CreateTopics)))
	if err != nil {
		return err
	}
	observe, err := m.Metrics.BatchSizes("topic_operator", "Topics per Kafka admin request, by operation.")
	if err != nil {
		return err
	}
	admin := kafka.NewAdmin(kc, observe)

	kts := m.KafkaTopics()
	single := len(m.Namespaces) == 1 && m.Namespaces[0] != ""
	if err := kts.AddIndexers(topics.IndexersFor(single)); err != nil {
		return err
	}
	var leaveAlone []string
	for k := range strings.SplitSeq(c.LeaveAlone, ",") {
		if k = strings.TrimSpace(k); k != "" {
			leaveAlone = append(leaveAlone, k)
		}
	}
	rec := &topics.Reconciler{Client: m.Kafkaplane, Topics: kts, SingleNamespace: single, Admin: admin, Recorder: m.Recorder,
		Opts: topics.Options{DeleteTopics: c.DeleteTopics, LeaveAlone: leaveAlone, FieldManager: m.FieldManager}}
	ctl, err := controller.New(controller.Options{
		Name: "kafkatopic", Reconciler: rec, Workers: m.Options.Workers, Metrics: m.Metrics,
		ResyncPeriod: m.Options.ResyncPeriod, ListKeys: (&topics.Resync{Topics: kts, Admin: admin, LeaveAlone: leaveAlone}).Keys,
	})
	if err != nil {
		return err
	}
	if err := kts.AddEventHandler(ctl.SpecEventHandler()); err != nil {
		return err
	}
	if err := kts.AddEventHandler(rec.MemoHandler()); err != nil {
		return err
	}
	m.WaitFor(kts)
	m.AddController(ctl)
	m.AddRunnable(admin.Run)
	if c.Adopt {
		adopter, err := c.adopter(m, kts, admin)
		if err != nil {
			return err
		}
		m.AddRunnable(func(ctx context.Context) {
			wait.UntilWithContext(ctx, func(ctx context.Context) {
				if _, err := adopter.Adopt(ctx); err != nil {
					klog.FromContext(ctx).Error(err, "Adopting topics failed")
				}
			}, m.Options.ResyncPeriod)
		})
	}
	if c.Lag.Enabled {
		groups, err := lag.Regexp(c.Lag.Groups)
		if err != nil {
			return err
		}
		topicsRe, err := lag.Regexp(c.Lag.Topics)
		if err != nil {
			return err
		}
		exp := lag.New(kadm.NewClient(kc), lag.Options{Groups: groups, Topics: topicsRe, Interval: c.Lag.Interval, MaxPartitions: c.Lag.MaxPartitions})
		if err := m.Metrics.Register(exp); err != nil {
			return fmt.Errorf("registering the consumer-lag metrics: %w", err)
		}
		m.AddRunnable(exp.Run)
	}
	m.ReportManaged("kafkatopic", kts)
	m.AddRunnable(func(ctx context.Context) {
		<-ctx.Done()
		kc.Close()
	})
	return nil
}

// adopter builds the Adopter: resources go to --adopt-namespace (or the only watched namespace)
// and carry the equality labels of --resource-labels, so that this operator manages them.
func (c *Config) adopter(m *operator.Manager, kts *informers.Multi, admin *kafka.Admin) (*topics.Adopter, error) {
	ns := c.AdoptNS
	if ns == "" {
		if len(m.Namespaces) != 1 {
			return nil, errors.New("--adopt-topics needs --adopt-namespace when watching more than one namespace")
		}
		ns = m.Namespaces[0]
	}
	sel, err := labels.Parse(m.Options.ResourceLabels)
	if err != nil {
		return nil, err
	}
	lbls := map[string]string{}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		if r.Operator() == selection.Equals || r.Operator() == selection.DoubleEquals {
			lbls[r.Key()] = r.Values().List()[0]
		}
	}
	if lbls[v1beta1.LabelCluster] == "" {
		return nil, errors.New("--adopt-topics needs --resource-labels with kafkaplane.io/cluster=<name>")
	}
	return &topics.Adopter{Client: m.Kafkaplane, Topics: kts, Admin: admin, Namespace: ns, Labels: lbls, FieldManager: m.FieldManager}, nil
}
