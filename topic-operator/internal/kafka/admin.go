package kafka

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/pkg/kafka/batch"
)

// maxBatch bounds the topics of one request.
const maxBatch = 1000

// Topic is a topic as Kafka has it.
type Topic struct {
	Name       string
	ID         string
	Exists     bool
	Partitions int32
	// Replicas is the replication factor (of partition 0).
	Replicas int32
	// Configs are the topic's dynamic configs (set on the topic, not inherited).
	Configs map[string]string
	// Assignment is each partition's replicas and Leaders each partition's leader; Brokers are
	// the cluster's brokers (for a reassignment plan).
	Assignment map[int32][]int32
	Leaders    map[int32]int32
	Brokers    []int32
}

// ReplicationFactorIs reports whether every partition has rf replicas.
func (t Topic) ReplicationFactorIs(rf int32) bool {
	for _, r := range t.Assignment {
		if int32(len(r)) != rf {
			return false
		}
	}
	return true
}

// NewTopic is a topic to create. Partitions or Replicas of -1 take the broker's default.
type NewTopic struct {
	Name                 string
	Partitions, Replicas int32
	Configs              map[string]string
}

// ConfigChange sets and deletes (resets to default) a topic's configs.
type ConfigChange struct {
	Name   string
	Set    map[string]string
	Delete []string
}

// PartitionsChange raises a topic's partition count to Total.
type PartitionsChange struct {
	Name  string
	Total int32
}

// Admin performs topic operations for many concurrent callers with batched requests.
type Admin struct {
	client     *kgo.Client
	adm        *kadm.Client
	describe   *batch.Batcher[string, Topic]
	create     *batch.Batcher[NewTopic, string]
	alter      *batch.Batcher[ConfigChange, struct{}]
	partitions *batch.Batcher[PartitionsChange, struct{}]
	del        *batch.Batcher[string, struct{}]
}

// NewAdmin returns an Admin over client; Run serves it. observe, when set, sees each batch's
// operation and size.
func NewAdmin(client *kgo.Client, observe func(op string, n int)) *Admin {
	a := &Admin{client: client, adm: kadm.NewClient(client)}
	a.describe = batch.New(maxBatch, a.describeBatch)
	a.create = batch.New(maxBatch, a.createBatch)
	a.alter = batch.New(maxBatch, a.alterBatch)
	a.partitions = batch.New(maxBatch, a.partitionsBatch)
	a.del = batch.New(maxBatch, a.deleteBatch)
	if observe != nil {
		a.describe.Observe = func(n int) { observe("describe", n) }
		a.create.Observe = func(n int) { observe("create", n) }
		a.alter.Observe = func(n int) { observe("alter_configs", n) }
		a.partitions.Observe = func(n int) { observe("create_partitions", n) }
		a.del.Observe = func(n int) { observe("delete", n) }
	}
	return a
}

// Run serves the batches until ctx ends.
func (a *Admin) Run(ctx context.Context) {
	go a.describe.Run(ctx)
	go a.create.Run(ctx)
	go a.alter.Run(ctx)
	go a.partitions.Run(ctx)
	a.del.Run(ctx)
}

// Describe returns a topic's state (Exists false when Kafka has no such topic).
func (a *Admin) Describe(ctx context.Context, name string) (Topic, error) {
	return a.describe.Do(ctx, name)
}

// Create creates a topic and returns its ID.
func (a *Admin) Create(ctx context.Context, t NewTopic) (string, error) { return a.create.Do(ctx, t) }

// AlterConfigs applies a topic's config changes.
func (a *Admin) AlterConfigs(ctx context.Context, c ConfigChange) error {
	_, err := a.alter.Do(ctx, c)
	return err
}

// CreatePartitions raises a topic's partition count.
func (a *Admin) CreatePartitions(ctx context.Context, c PartitionsChange) error {
	_, err := a.partitions.Do(ctx, c)
	return err
}

// Delete deletes a topic; a topic that does not exist counts as deleted.
func (a *Admin) Delete(ctx context.Context, name string) error {
	_, err := a.del.Do(ctx, name)
	return err
}

func fill[T any](n int, err error) ([]T, []error) {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return make([]T, n), errs
}

// metadata asks a broker for the topics' metadata. kadm's Metadata answers from the client's
// cache (up to 5s old), which still says a topic we just created does not exist — the next
// reconcile would create it again and fail with TOPIC_ALREADY_EXISTS until the cache expired.
func (a *Admin) metadata(ctx context.Context, topics []string) (kadm.Metadata, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := a.requestMetadata(ctx, req)
	if err != nil {
		return kadm.Metadata{}, err
	}
	md := kadm.Metadata{Topics: kadm.TopicDetails{}}
	for _, b := range resp.Brokers {
		md.Brokers = append(md.Brokers, kadm.BrokerDetail{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack})
	}
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		td := kadm.TopicDetail{Topic: *t.Topic, ID: t.TopicID, IsInternal: t.IsInternal, Err: kerr.ErrorForCode(t.ErrorCode),
			Partitions: kadm.PartitionDetails{}}
		for _, p := range t.Partitions {
			td.Partitions[p.Partition] = kadm.PartitionDetail{Topic: *t.Topic, Partition: p.Partition, Leader: p.Leader,
				Replicas: p.Replicas, ISR: p.ISR, Err: kerr.ErrorForCode(p.ErrorCode)}
		}
		md.Topics[*t.Topic] = td
	}
	return md, nil
}

// requestMetadata sends req to one known broker directly, falling back to the client (which
// picks a broker and retries) when none is known yet or that one fails. A Metadata request sent
// through the client also fills kgo's metadata cache with every topic in the answer — a cache
// only producing and consuming use, which held ~14 MB after a resync of 10,000 topics.
func (a *Admin) requestMetadata(ctx context.Context, req *kmsg.MetadataRequest) (*kmsg.MetadataResponse, error) {
	if brokers := a.client.DiscoveredBrokers(); len(brokers) > 0 {
		if resp, err := brokers[rand.IntN(len(brokers))].Request(ctx, req); err == nil {
			return resp.(*kmsg.MetadataResponse), nil
		}
	}
	return req.RequestWith(ctx, a.client)
}

// topicConfigs returns the dynamic configs (those set on the topic, not inherited) of each
// topic Kafka described; a topic Kafka could not describe has an error instead. It asks
// without synonyms or documentation, which are most of a DescribeConfigs answer and unused, and
// for at most 1,000 topics a request, which bounds the memory one answer takes.
func (a *Admin) topicConfigs(ctx context.Context, topics []string) (map[string]map[string]string, map[string]error, error) {
	configs := make(map[string]map[string]string, len(topics))
	failed := map[string]error{}
	for chunk := range slices.Chunk(topics, maxBatch) {
		if err := a.topicConfigsChunk(ctx, chunk, configs, failed); err != nil {
			return nil, nil, err
		}
	}
	return configs, failed, nil
}

func (a *Admin) topicConfigsChunk(ctx context.Context, topics []string, configs map[string]map[string]string, failed map[string]error) error {
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, t := range topics {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, t
		req.Resources = append(req.Resources, r)
	}
	for _, shard := range a.client.RequestSharded(ctx, req) {
		if shard.Err != nil {
			return shard.Err
		}
		for _, r := range shard.Resp.(*kmsg.DescribeConfigsResponse).Resources {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				if errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.ClusterAuthorizationFailed) {
					return err
				}
				failed[r.ResourceName] = fmt.Errorf("%w%s", err, message(r.ErrorMessage))
				continue
			}
			m := map[string]string{}
			for _, c := range r.Configs {
				if c.Source == kmsg.ConfigSourceDynamicTopicConfig && c.Value != nil {
					m[c.Name] = *c.Value
				}
			}
			configs[r.ResourceName] = m
		}
	}
	return nil
}

func (a *Admin) describeBatch(ctx context.Context, names []string) ([]Topic, []error) {
	md, err := a.metadata(ctx, unique(names))
	if err != nil {
		return fill[Topic](len(names), fmt.Errorf("describing topics: %w", err))
	}
	var existing []string
	for _, n := range unique(names) {
		if d, ok := md.Topics[n]; ok && d.Err == nil {
			existing = append(existing, n)
		}
	}
	var configs map[string]map[string]string
	var failed map[string]error
	if len(existing) > 0 {
		if configs, failed, err = a.topicConfigs(ctx, existing); err != nil {
			return fill[Topic](len(names), fmt.Errorf("describing topic configs: %w", err))
		}
	}
	brokers := make([]int32, 0, len(md.Brokers))
	for _, b := range md.Brokers {
		brokers = append(brokers, b.NodeID)
	}
	slices.Sort(brokers)
	outs := make([]Topic, len(names))
	errs := make([]error, len(names))
	for i, n := range names {
		d, ok := md.Topics[n]
		switch {
		case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			outs[i] = Topic{Name: n}
		case d.Err != nil:
			errs[i] = fmt.Errorf("describing topic %s: %w", n, d.Err)
		default:
			t := Topic{Name: n, ID: d.ID.String(), Exists: true, Partitions: int32(len(d.Partitions)), Configs: configs[n],
				Assignment: make(map[int32][]int32, len(d.Partitions)), Leaders: make(map[int32]int32, len(d.Partitions)), Brokers: brokers}
			for p, pd := range d.Partitions {
				t.Assignment[p], t.Leaders[p] = pd.Replicas, pd.Leader
			}
			if p, ok := d.Partitions[0]; ok {
				t.Replicas = int32(len(p.Replicas))
			}
			if _, ok := configs[n]; !ok {
				errs[i] = fmt.Errorf("describing the configs of topic %s: %w", n, orNoAnswer(failed[n]))
			}
			outs[i] = t
		}
	}
	return outs, errs
}

func (a *Admin) createBatch(ctx context.Context, ts []NewTopic) ([]string, []error) {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	for _, t := range ts {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = t.Name, t.Partitions, int16(t.Replicas)
		for k, v := range t.Configs {
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name, c.Value = k, kmsg.StringPtr(v)
			rt.Configs = append(rt.Configs, c)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, a.client)
	if err != nil {
		return fill[string](len(ts), fmt.Errorf("creating topics: %w", err))
	}
	errs := perTopic(names(ts), resp.Topics, "creating topic",
		func(t kmsg.CreateTopicsResponseTopic) (string, int16, *string) {
			return t.Topic, t.ErrorCode, t.ErrorMessage
		})
	ids := make(map[string]string, len(resp.Topics))
	for _, t := range resp.Topics {
		ids[t.Topic] = kadm.TopicID(t.TopicID).String()
	}
	outs := make([]string, len(ts))
	for i, t := range ts {
		if errs[i] == nil {
			outs[i] = ids[t.Name]
		}
	}
	return outs, errs
}

func (a *Admin) alterBatch(ctx context.Context, cs []ConfigChange) ([]struct{}, []error) {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	for _, c := range cs {
		r := kmsg.NewIncrementalAlterConfigsRequestResource()
		r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, c.Name
		for k, v := range c.Set {
			cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			cfg.Name, cfg.Op, cfg.Value = k, kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(v)
			r.Configs = append(r.Configs, cfg)
		}
		for _, k := range c.Delete {
			cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			cfg.Name, cfg.Op = k, kmsg.IncrementalAlterConfigOpDelete
			r.Configs = append(r.Configs, cfg)
		}
		req.Resources = append(req.Resources, r)
	}
	resp, err := req.RequestWith(ctx, a.client)
	if err != nil {
		return fill[struct{}](len(cs), fmt.Errorf("altering topic configs: %w", err))
	}
	errs := perTopic(names(cs), resp.Resources, "altering configs of topic",
		func(r kmsg.IncrementalAlterConfigsResponseResource) (string, int16, *string) {
			return r.ResourceName, r.ErrorCode, r.ErrorMessage
		})
	return make([]struct{}, len(cs)), errs
}

func (a *Admin) partitionsBatch(ctx context.Context, cs []PartitionsChange) ([]struct{}, []error) {
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = 30000
	for _, c := range cs {
		t := kmsg.NewCreatePartitionsRequestTopic()
		t.Topic, t.Count = c.Name, c.Total
		req.Topics = append(req.Topics, t)
	}
	resp, err := req.RequestWith(ctx, a.client)
	if err != nil {
		return fill[struct{}](len(cs), fmt.Errorf("creating partitions: %w", err))
	}
	errs := perTopic(names(cs), resp.Topics, "creating partitions of topic",
		func(t kmsg.CreatePartitionsResponseTopic) (string, int16, *string) {
			return t.Topic, t.ErrorCode, t.ErrorMessage
		})
	return make([]struct{}, len(cs)), errs
}

func (a *Admin) deleteBatch(ctx context.Context, names []string) ([]struct{}, []error) {
	resps, err := a.adm.DeleteTopics(ctx, unique(names)...)
	if err != nil {
		return fill[struct{}](len(names), fmt.Errorf("deleting topics: %w", err))
	}
	errs := make([]error, len(names))
	for i, n := range names {
		r, ok := resps[n]
		if ok && r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			errs[i] = fmt.Errorf("deleting topic %s: %w", n, r.Err)
		}
	}
	return make([]struct{}, len(names)), errs
}

// named is a per-topic request of a batch.
type named interface{ topic() string }

func (t NewTopic) topic() string         { return t.Name }
func (c ConfigChange) topic() string     { return c.Name }
func (c PartitionsChange) topic() string { return c.Name }

func names[T named](items []T) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.topic()
	}
	return out
}

// perTopic maps a response's per-topic error codes back to the requested topics, in order.
func perTopic[R any](topics []string, results []R, what string, read func(R) (string, int16, *string)) []error {
	byName := make(map[string]R, len(results))
	for _, r := range results {
		name, _, _ := read(r)
		byName[name] = r
	}
	errs := make([]error, len(topics))
	for i, name := range topics {
		r, ok := byName[name]
		if !ok {
			errs[i] = fmt.Errorf("%s %s: no answer", what, name)
			continue
		}
		if _, code, msg := read(r); code != 0 {
			errs[i] = fmt.Errorf("%s %s: %w%s", what, name, kerr.ErrorForCode(code), message(msg))
		}
	}
	return errs
}

func orNoAnswer(err error) error {
	if err == nil {
		return errors.New("no answer")
	}
	return err
}

func message(m *string) string {
	if m == nil || *m == "" {
		return ""
	}
	return ": " + *m
}

func unique(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// List returns the names of every topic in the cluster (one Metadata request).
func (a *Admin) List(ctx context.Context) ([]string, error) {
	td, err := a.adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing topics: %w", err)
	}
	return td.Names(), nil
}

// Snapshot describes the given topics with one Metadata request and one DescribeConfigs request
// per 1,000 topics, for resyncs: comparing every resource with it finds the few that need a
// reconcile, so an idle cluster costs one Metadata request per resync. Topics that could not be
// described are returned apart, so that only they are retried one by one.
func (a *Admin) Snapshot(ctx context.Context, names []string) (map[string]Topic, map[string]error) {
	out := make(map[string]Topic, len(names))
	failed := map[string]error{}
	if len(names) == 0 {
		return out, failed
	}
	topics, errs := a.describeBatch(ctx, names)
	for i, t := range topics {
		if errs[i] != nil {
			failed[names[i]] = errs[i]
			continue
		}
		out[names[i]] = t
	}
	return out, failed
}
