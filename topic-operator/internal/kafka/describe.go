package kafka

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// metadata is a Metadata answer: the topics by name and the brokers' IDs, sorted.
type metadata struct {
	topics  map[string]*kmsg.MetadataResponseTopic
	brokers []int32
}

// metadata asks a broker for the topics' metadata. kadm's Metadata answers from the client's
// cache (up to 5s old), which still says a topic we just created does not exist — the next
// reconcile would create it again and fail with TOPIC_ALREADY_EXISTS until the cache expired.
func (a *Admin) metadata(ctx context.Context, topics []string) (metadata, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := a.requestMetadata(ctx, req)
	if err != nil {
		return metadata{}, err
	}
	md := metadata{topics: make(map[string]*kmsg.MetadataResponseTopic, len(resp.Topics)), brokers: make([]int32, 0, len(resp.Brokers))}
	for _, b := range resp.Brokers {
		md.brokers = append(md.brokers, b.NodeID)
	}
	slices.Sort(md.brokers)
	for i := range resp.Topics {
		if t := &resp.Topics[i]; t.Topic != nil {
			md.topics[*t.Topic] = t
		}
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
// without synonyms or documentation, which are most of a DescribeConfigs answer and unused.
func (a *Admin) topicConfigs(ctx context.Context, topics []string) (map[string]map[string]string, map[string]error, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, t := range topics {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, t
		req.Resources = append(req.Resources, r)
	}
	configs := make(map[string]map[string]string, len(topics))
	failed := map[string]error{}
	for _, shard := range a.client.RequestSharded(ctx, req) {
		if shard.Err != nil {
			return nil, nil, shard.Err
		}
		for _, r := range shard.Resp.(*kmsg.DescribeConfigsResponse).Resources {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				if errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.ClusterAuthorizationFailed) {
					return nil, nil, err
				}
				failed[r.ResourceName] = fmt.Errorf("%w%s", err, message(r.ErrorMessage))
				continue
			}
			var m map[string]string
			for _, c := range r.Configs {
				if c.Source == kmsg.ConfigSourceDynamicTopicConfig && c.Value != nil {
					if m == nil {
						m = map[string]string{}
					}
					m[c.Name] = *c.Value
				}
			}
			if m == nil {
				m = map[string]string{}
			}
			configs[r.ResourceName] = m
		}
	}
	return configs, failed, nil
}

// describeBatch describes at most maxBatch topics: one Metadata and one DescribeConfigs request.
func (a *Admin) describeBatch(ctx context.Context, names []string) ([]Topic, []error) {
	md, err := a.metadata(ctx, unique(names))
	if err != nil {
		return fill[Topic](len(names), fmt.Errorf("describing topics: %w", err))
	}
	return a.describeWith(ctx, md, names)
}

// describeWith describes names (at most maxBatch) with their metadata from md and one
// DescribeConfigs request for those that exist.
func (a *Admin) describeWith(ctx context.Context, md metadata, names []string) ([]Topic, []error) {
	var existing []string
	for _, n := range unique(names) {
		if t, ok := md.topics[n]; ok && t.ErrorCode == 0 {
			existing = append(existing, n)
		}
	}
	var configs map[string]map[string]string
	var failed map[string]error
	if len(existing) > 0 {
		var err error
		if configs, failed, err = a.topicConfigs(ctx, existing); err != nil {
			return fill[Topic](len(names), fmt.Errorf("describing topic configs: %w", err))
		}
	}
	outs := make([]Topic, len(names))
	errs := make([]error, len(names))
	for i, n := range names {
		mt, ok := md.topics[n]
		var terr error
		if ok {
			terr = kerr.ErrorForCode(mt.ErrorCode)
		}
		switch {
		case !ok || errors.Is(terr, kerr.UnknownTopicOrPartition):
			outs[i] = Topic{Name: n}
		case terr != nil:
			errs[i] = fmt.Errorf("describing topic %s: %w", n, terr)
		default:
			outs[i] = topicOf(mt, configs[n], md.brokers)
			if _, ok := configs[n]; !ok {
				errs[i] = fmt.Errorf("describing the configs of topic %s: %w", n, orNoAnswer(failed[n]))
			}
		}
	}
	return outs, errs
}

// topicOf is a Topic from its Metadata answer (copied: the answer can be dropped).
func topicOf(mt *kmsg.MetadataResponseTopic, configs map[string]string, brokers []int32) Topic {
	t := Topic{Name: *mt.Topic, ID: kadm.TopicID(mt.TopicID).String(), Exists: true, Partitions: int32(len(mt.Partitions)), Configs: configs,
		Assignment: make(map[int32][]int32, len(mt.Partitions)), Leaders: make(map[int32]int32, len(mt.Partitions)), Brokers: brokers}
	for _, p := range mt.Partitions {
		t.Assignment[p.Partition], t.Leaders[p.Partition] = slices.Clone(p.Replicas), p.Leader
		if p.Partition == 0 {
			t.Replicas = int32(len(p.Replicas))
		}
	}
	return t
}

func orNoAnswer(err error) error {
	if err == nil {
		return errors.New("no answer")
	}
	return err
}

// Snapshot describes the given topics for resyncs, handing each to fn (with the error when
// Kafka could not describe it): one Metadata request for all of them and one DescribeConfigs
// request per 1,000, each 1,000 handed over and dropped before the next are described, so memory
// stays bounded at any number of topics. An idle cluster costs one Metadata request per resync.
func (a *Admin) Snapshot(ctx context.Context, names []string, fn func(name string, t Topic, err error)) {
	if len(names) == 0 {
		return
	}
	md, err := a.metadata(ctx, unique(names))
	if err != nil {
		err = fmt.Errorf("describing topics: %w", err)
		for _, n := range names {
			fn(n, Topic{}, err)
		}
		return
	}
	for chunk := range slices.Chunk(names, maxBatch) {
		topics, errs := a.describeWith(ctx, md, chunk)
		for i, t := range topics {
			fn(chunk[i], t, errs[i])
		}
	}
}
