package topics

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

func TestConfigDiff(t *testing.T) {
	desired := map[string]v1beta1.ConfigValue{"retention.ms": "7200000", "cleanup.policy": "compact", "segment.bytes": "1073741824"}
	current := map[string]string{"retention.ms": "86400000", "segment.bytes": "1073741824", "max.message.bytes": "2000000",
		"leader.replication.throttled.replicas": "*"}
	c := ConfigDiff("t", desired, current, []string{"leader.replication.throttled.replicas"})
	if want := map[string]string{"retention.ms": "7200000", "cleanup.policy": "compact"}; !maps.Equal(c.Set, want) {
		t.Errorf("Set = %v, want %v", c.Set, want)
	}
	if want := []string{"max.message.bytes"}; !slices.Equal(c.Delete, want) {
		t.Errorf("Delete = %v, want %v (throttles left alone)", c.Delete, want)
	}
	if !Empty(ConfigDiff("t", map[string]v1beta1.ConfigValue{"a": "1"}, map[string]string{"a": "1"}, nil)) {
		t.Error("equal configs gave a change")
	}
}

func TestTopicNameAndInternal(t *testing.T) {
	kt := &v1beta1.KafkaTopic{}
	kt.Name = "orders"
	if TopicName(kt) != "orders" {
		t.Error("resource name not used")
	}
	kt.Spec.TopicName = "Orders.V1"
	if TopicName(kt) != "Orders.V1" {
		t.Error("spec.topicName not used")
	}
	for name, internal := range map[string]bool{"__consumer_offsets": true, "__transaction_state": true, "__cluster_metadata": true, "orders": false, "_schemas": false} {
		if Internal(name) != internal {
			t.Errorf("Internal(%q) = %v", name, !internal)
		}
	}
}

func TestResourceName(t *testing.T) {
	if got := ResourceName("orders.v1"); got != "orders.v1" {
		t.Errorf("a valid name changed: %s", got)
	}
	a, b := ResourceName("Orders_V1"), ResourceName("orders_v1")
	if a == b {
		t.Errorf("distinct topics collide: %s", a)
	}
	for _, n := range []string{a, b, ResourceName("__weird__"), ResourceName("A")} {
		if errs := validationErrs(n); len(errs) > 0 {
			t.Errorf("%q is not a valid resource name: %v", n, errs)
		}
	}
	if !strings.HasPrefix(a, "orders-v1-") || len(a) != len("orders-v1-")+8 {
		t.Errorf("ResourceName(Orders_V1) = %s", a)
	}
}

func validationErrs(n string) []string { return validation.IsDNS1123Subdomain(n) }
