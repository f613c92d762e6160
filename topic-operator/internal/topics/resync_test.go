package topics

import (
	"maps"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/kafka"
)

func TestDrifted(t *testing.T) {
	kt := &v1beta1.KafkaTopic{Spec: v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](6), Replicas: ptr.To[int32](3),
		Config: map[string]v1beta1.ConfigValue{"retention.ms": "1000"}}, Status: v1beta1.KafkaTopicStatus{TopicID: "id1"}}
	kt.Name = "t"
	same := kafka.Topic{Name: "t", ID: "id1", Exists: true, Partitions: 6, Replicas: 3, Configs: map[string]string{"retention.ms": "1000"},
		Assignment: map[int32][]int32{0: {1, 2, 3}, 1: {2, 3, 1}, 2: {3, 1, 2}, 3: {1, 2, 3}, 4: {2, 3, 1}, 5: {3, 1, 2}}}
	if Drifted(kt, same, nil) {
		t.Error("an unchanged topic counts as drifted (every resync would reconcile it)")
	}
	for name, mutate := range map[string]func(*kafka.Topic){
		"deleted":    func(k *kafka.Topic) { k.Exists = false },
		"recreated":  func(k *kafka.Topic) { k.ID = "id2" },
		"partitions": func(k *kafka.Topic) { k.Partitions = 7 },
		"replicas": func(k *kafka.Topic) {
			k.Assignment = maps.Clone(k.Assignment)
			k.Assignment[4] = []int32{2, 3}
		},
		"config value": func(k *kafka.Topic) { k.Configs = map[string]string{"retention.ms": "5"} },
		"extra config": func(k *kafka.Topic) { k.Configs = map[string]string{"retention.ms": "1000", "x": "y"} },
	} {
		k := same
		mutate(&k)
		if !Drifted(kt, k, nil) {
			t.Errorf("%s: not seen as drift", name)
		}
	}
	k := same
	k.Configs = map[string]string{"retention.ms": "1000", "leader.replication.throttled.replicas": "*"}
	if Drifted(kt, k, []string{"leader.replication.throttled.replicas"}) {
		t.Error("a key left alone counts as drift")
	}
}
