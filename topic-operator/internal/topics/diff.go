// Package topics reconciles KafkaTopic resources with Kafka topics: it creates them, raises
// their partitions, makes their dynamic configs exactly the spec's, deletes them with the
// resource, and reports all of it in status. Topics without a resource, internal topics and
// resources marked kafkaplane.io/managed: "false" are never touched.
package topics

import (
	"slices"
	"sort"
	"strings"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/kafka"
)

// ConfigDiff is what makes a topic's dynamic configs equal to the spec: keys to set (new or
// different) and keys to reset to the broker default (set in Kafka, absent from the spec), except
// the keys left to other tools (e.g. replication throttles set by rebalancers).
func ConfigDiff(name string, desired map[string]v1beta1.ConfigValue, current map[string]string, leaveAlone []string) kafka.ConfigChange {
	c := kafka.ConfigChange{Name: name}
	for k, v := range desired {
		if cur, ok := current[k]; !ok || cur != v.String() {
			if c.Set == nil {
				c.Set = map[string]string{}
			}
			c.Set[k] = v.String()
		}
	}
	for k := range current {
		if _, ok := desired[k]; !ok && !slices.Contains(leaveAlone, k) {
			c.Delete = append(c.Delete, k)
		}
	}
	sort.Strings(c.Delete)
	return c
}

// Empty reports whether a config change changes nothing.
func Empty(c kafka.ConfigChange) bool { return len(c.Set) == 0 && len(c.Delete) == 0 }

// TopicName is the topic a resource stands for: spec.topicName, else the resource's name.
func TopicName(kt *v1beta1.KafkaTopic) string {
	if kt.Spec.TopicName != "" {
		return kt.Spec.TopicName
	}
	return kt.Name
}

// Internal reports Kafka's own topics, which are never managed.
func Internal(name string) bool {
	return strings.HasPrefix(name, "__") || strings.HasPrefix(name, "_confluent")
}
