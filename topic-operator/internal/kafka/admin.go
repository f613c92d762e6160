package kafka

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

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
	del        *batch.Batcher[TopicRef, struct{}]

	// unsure holds the topics whose CreateTopics is in flight (until the far future) or got no
	// answer (until SettleMargin after the client stopped trying): Kafka may yet create them.
	unsureMu sync.Mutex
	unsure   map[string]time.Time
}

// SettleMargin is how long after the client stopped trying a request Kafka is taken to have
// carried it out or dropped it: a broker that read the request processes it from its queue,
// even when the client has closed the connection meanwhile.
var SettleMargin = 5 * time.Second

// inFlight is the unsure time of a create not answered yet.
var inFlight = time.Unix(1<<62, 0)

func (a *Admin) setUnsure(until time.Time, names ...string) {
	a.unsureMu.Lock()
	defer a.unsureMu.Unlock()
	if a.unsure == nil {
		a.unsure = map[string]time.Time{}
	}
	for _, n := range names {
		if until.IsZero() {
			delete(a.unsure, n)
		} else {
			a.unsure[n] = until
		}
	}
}

// Unsure reports whether a create of the topic is in flight or got no answer less than
// SettleMargin ago, and until when: Kafka may still create it, so a deletion by name must wait
// (a delete before the create lands would leave a topic no resource declares).
func (a *Admin) Unsure(name string) (time.Time, bool) {
	a.unsureMu.Lock()
	defer a.unsureMu.Unlock()
	until, ok := a.unsure[name]
	if ok && !time.Now().Before(until) {
		delete(a.unsure, name)
		return time.Time{}, false
	}
	return until, ok
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
	// A request that got no answer may have gone to a broker that takes requests and never
	// answers (its forwarding to the controller stuck); kgo keeps sending admin requests to the
	// broker its metadata named until it refreshes it, and KRaft names another at random.
	a.describe.OnNoAnswer = client.ForceMetadataRefresh
	a.create.OnNoAnswer = client.ForceMetadataRefresh
	a.alter.OnNoAnswer = client.ForceMetadataRefresh
	a.partitions.OnNoAnswer = client.ForceMetadataRefresh
	a.del.OnNoAnswer = client.ForceMetadataRefresh
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

// AlreadyExists reports whether err says the topic to create exists already.
func AlreadyExists(err error) bool { return errors.Is(err, kerr.TopicAlreadyExists) }

// TopicRef names one topic: by its ID when ID is set (a topic of that name with another ID is
// another topic), else by name.
type TopicRef struct{ Name, ID string }

// Delete deletes a topic; a topic that does not exist (by ID: that topic, even if another of its
// name exists now) counts as deleted. A response without an entry for the topic is an error.
func (a *Admin) Delete(ctx context.Context, t TopicRef) error {
	_, err := a.del.Do(ctx, t)
	return err
}

func fill[T any](n int, err error) ([]T, []error) {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return make([]T, n), errs
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
	a.setUnsure(inFlight, names(ts)...)
	resp, err := req.RequestWith(ctx, a.client)
	if err != nil {
		a.setUnsure(time.Now().Add(SettleMargin), names(ts)...)
		return fill[string](len(ts), fmt.Errorf("creating topics: %w", err))
	}
	errs := perTopic(names(ts), resp.Topics, "creating topic",
		func(t kmsg.CreateTopicsResponseTopic) (string, int16, *string) {
			return t.Topic, t.ErrorCode, t.ErrorMessage
		})
	answered := map[string]int16{}
	for _, t := range resp.Topics {
		answered[t.Topic] = t.ErrorCode
	}
	for _, t := range ts {
		// No entry, or Kafka's own timeout (the controller may still create it): unsure.
		if code, ok := answered[t.Name]; !ok || code == kerr.RequestTimedOut.Code {
			a.setUnsure(time.Now().Add(SettleMargin), t.Name)
		} else {
			a.setUnsure(time.Time{}, t.Name)
		}
	}
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

func (a *Admin) deleteBatch(ctx context.Context, refs []TopicRef) ([]struct{}, []error) {
	errs := make([]error, len(refs))
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 30000
	seen := map[TopicRef]bool{}
	for i, t := range refs {
		rt := kmsg.NewDeleteTopicsRequestTopic()
		if t.ID != "" {
			id, err := parseTopicID(t.ID)
			if err != nil {
				errs[i] = fmt.Errorf("deleting topic %s: invalid topic ID %q: %w", t.Name, t.ID, err)
				continue
			}
			rt.TopicID = id
		} else {
			rt.Topic = kmsg.StringPtr(t.Name)
			req.TopicNames = append(req.TopicNames, t.Name) // v0–v5
		}
		if !seen[t] {
			seen[t] = true
			req.Topics = append(req.Topics, rt)
		}
	}
	resp, err := req.RequestWith(ctx, a.client)
	if err != nil {
		for i := range errs {
			errs[i] = cmp.Or(errs[i], fmt.Errorf("deleting topics: %w", err))
		}
		return make([]struct{}, len(refs)), errs
	}
	byID, byName := map[string]kmsg.DeleteTopicsResponseTopic{}, map[string]kmsg.DeleteTopicsResponseTopic{}
	for _, r := range resp.Topics {
		if r.TopicID != ([16]byte{}) {
			byID[kadm.TopicID(r.TopicID).String()] = r
		}
		if r.Topic != nil {
			byName[*r.Topic] = r
		}
	}
	for i, t := range refs {
		if errs[i] != nil {
			continue
		}
		r, ok := byName[t.Name]
		if t.ID != "" {
			r, ok = byID[t.ID]
		}
		switch {
		case !ok:
			errs[i] = fmt.Errorf("deleting topic %s: Kafka's answer has no entry for it", t.Name)
		case r.ErrorCode == kerr.UnknownTopicOrPartition.Code, r.ErrorCode == kerr.UnknownTopicID.Code:
		case r.ErrorCode != 0:
			errs[i] = fmt.Errorf("deleting topic %s: %w%s", t.Name, kerr.ErrorForCode(r.ErrorCode), message(r.ErrorMessage))
		}
	}
	return make([]struct{}, len(refs)), errs
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

// parseTopicID reads a topic ID in the form kadm.TopicID.String writes.
func parseTopicID(s string) ([16]byte, error) {
	var id [16]byte
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return id, err
	}
	if len(b) != len(id) {
		return id, fmt.Errorf("%d bytes, want %d", len(b), len(id))
	}
	copy(id[:], b)
	return id, nil
}
