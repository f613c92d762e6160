// Package lag exports consumer-group lag (the job of Strimzi's Kafka Exporter) from the topic
// operator's own Kafka connection: per group, topic and partition, the committed offset, the end
// offset, the lag, and an estimate of the lag in seconds. Kafka is read every Interval, never on
// a scrape, and the groups exported stop at MaxPartitions, so the cost stays bounded however
// many groups and partitions the cluster has.
package lag

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/metrics"
)

// Options select what is exported.
type Options struct {
	// Groups and Topics match whole names; nil matches everything.
	Groups, Topics *regexp.Regexp
	// Interval between reads of Kafka; 30 s when zero.
	Interval time.Duration
	// MaxPartitions bounds the partitions exported; 10,000 when zero.
	MaxPartitions int
	// GroupsPerRequest is how many groups one Lag call describes; 50 when zero.
	GroupsPerRequest int
}

// Admin is what the exporter asks Kafka (kadm.Client has it).
type Admin interface {
	ListGroups(ctx context.Context, filterStates ...string) (kadm.ListedGroups, error)
	Lag(ctx context.Context, groups ...string) (kadm.DescribedGroupLags, error)
}

// Exporter is a prometheus.Collector of the last read.
type Exporter struct {
	opts  Options
	admin Admin
	now   func() time.Time

	mu       sync.Mutex
	samples  []sample
	skipped  int
	duration time.Duration
	readErr  bool
	// prev end offsets, for the produce rate behind the lag in seconds.
	prev map[tp]mark
}

type tp struct {
	topic     string
	partition int32
}

type mark struct {
	end int64
	at  time.Time
}

type sample struct {
	group, topic string
	partition    int32
	commit, end  int64
	lag          int64
	// seconds is the lag in seconds, estimated from the produce rate; -1 when unknown.
	seconds float64
}

var (
	labels          = []string{"consumergroup", "topic", "partition"}
	descCommit      = prometheus.NewDesc(metrics.ConsumerGroupOffset, "Committed offset of a consumer group on a partition.", labels, nil)
	descLag         = prometheus.NewDesc(metrics.ConsumerGroupLag, "Records a consumer group is behind the end of a partition.", labels, nil)
	descLagSeconds  = prometheus.NewDesc(metrics.ConsumerGroupLagSecond, "Estimated time a consumer group is behind on a partition: its lag over the partition's produce rate since the last read (absent while nothing is produced and the lag is not zero).", labels, nil)
	descEnd         = prometheus.NewDesc(metrics.PartitionEndOffset, "End offset of a partition with a consumer group exported.", []string{"topic", "partition"}, nil)
	descSkipped     = prometheus.NewDesc(metrics.LagSkippedGroups, "Consumer groups not exported because the exported partitions reached the limit.", nil, nil)
	descDuration    = prometheus.NewDesc(metrics.LagReadDuration, "Time the last read of consumer lag from Kafka took.", nil, nil)
	descReadFailure = prometheus.NewDesc(metrics.LagReadFailed, "1 when the last read of consumer lag from Kafka failed (the series are then the read before).", nil, nil)
)

// New returns an exporter; Run reads Kafka.
func New(admin Admin, o Options) *Exporter {
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.MaxPartitions <= 0 {
		o.MaxPartitions = 10000
	}
	if o.GroupsPerRequest <= 0 {
		o.GroupsPerRequest = 50
	}
	return &Exporter{opts: o, admin: admin, now: time.Now, prev: map[tp]mark{}}
}

// Run reads Kafka every Interval until ctx ends.
func (e *Exporter) Run(ctx context.Context) {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := e.Read(ctx); err != nil {
			klog.FromContext(ctx).Error(err, "Reading consumer lag failed")
		}
	}, e.opts.Interval)
}

// Read reads the lag of the selected groups once.
func (e *Exporter) Read(ctx context.Context) error {
	start := e.now()
	ctx, cancel := context.WithTimeout(ctx, max(e.opts.Interval, 10*time.Second))
	defer cancel()
	samples, skipped, err := e.read(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.duration, e.readErr = e.now().Sub(start), err != nil
	if err != nil {
		return err
	}
	now := e.now()
	next := make(map[tp]mark, len(samples))
	for i := range samples {
		s := &samples[i]
		key := tp{s.topic, s.partition}
		s.seconds = -1
		if s.lag == 0 {
			s.seconds = 0
		} else if p, ok := e.prev[key]; ok && s.end > p.end && now.After(p.at) {
			rate := float64(s.end-p.end) / now.Sub(p.at).Seconds()
			s.seconds = float64(s.lag) / rate
		}
		if _, seen := next[key]; !seen {
			next[key] = mark{end: s.end, at: now}
		}
	}
	e.samples, e.skipped, e.prev = samples, skipped, next
	return nil
}

func (e *Exporter) read(ctx context.Context) ([]sample, int, error) {
	listed, err := e.admin.ListGroups(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("listing consumer groups: %w", err)
	}
	var groups []string
	for _, g := range listed.Groups() {
		if e.opts.Groups == nil || e.opts.Groups.MatchString(g) {
			groups = append(groups, g)
		}
	}
	slices.Sort(groups)
	var out []sample
	skipped := 0
	for i := 0; i < len(groups); i += e.opts.GroupsPerRequest {
		chunk := groups[i:min(i+e.opts.GroupsPerRequest, len(groups))]
		if len(out) >= e.opts.MaxPartitions {
			skipped += len(chunk)
			continue
		}
		lags, err := e.admin.Lag(ctx, chunk...)
		if err != nil {
			return nil, 0, fmt.Errorf("reading the lag of %d consumer groups: %w", len(chunk), err)
		}
		for _, g := range chunk {
			l, ok := lags[g]
			if !ok || l.Error() != nil {
				continue // a group that went away, or that this principal may not describe
			}
			var group []sample
			for _, m := range l.Lag.Sorted() {
				if m.Err != nil || (e.opts.Topics != nil && !e.opts.Topics.MatchString(m.Topic)) {
					continue
				}
				group = append(group, sample{group: g, topic: m.Topic, partition: m.Partition,
					commit: m.Commit.At, end: m.End.Offset, lag: m.Lag})
			}
			if len(out)+len(group) > e.opts.MaxPartitions {
				skipped++
				continue
			}
			out = append(out, group...)
		}
	}
	return out, skipped, nil
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCommit, descLag, descLagSeconds, descEnd, descSkipped, descDuration, descReadFailure} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the last read, without asking Kafka.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ends := map[tp]bool{}
	for _, s := range e.samples {
		p := strconv.Itoa(int(s.partition))
		ch <- prometheus.MustNewConstMetric(descCommit, prometheus.GaugeValue, float64(s.commit), s.group, s.topic, p)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(s.lag), s.group, s.topic, p)
		if s.seconds >= 0 {
			ch <- prometheus.MustNewConstMetric(descLagSeconds, prometheus.GaugeValue, s.seconds, s.group, s.topic, p)
		}
		if key := (tp{s.topic, s.partition}); !ends[key] {
			ends[key] = true
			ch <- prometheus.MustNewConstMetric(descEnd, prometheus.GaugeValue, float64(s.end), s.topic, p)
		}
	}
	failed := 0.0
	if e.readErr {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(descSkipped, prometheus.GaugeValue, float64(e.skipped))
	ch <- prometheus.MustNewConstMetric(descDuration, prometheus.GaugeValue, e.duration.Seconds())
	ch <- prometheus.MustNewConstMetric(descReadFailure, prometheus.GaugeValue, failed)
}

// Regexp compiles a whole-name pattern ("" is nil: everything).
func Regexp(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, nil
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return nil, fmt.Errorf("consumer lag: %q is not a regular expression: %w", pattern, err)
	}
	return re, nil
}
