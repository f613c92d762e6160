package users

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/kafka"
)

func TestDesiredACLs(t *testing.T) {
	ku := &v1beta1.KafkaUser{ObjectMeta: metav1.ObjectMeta{Name: "alice"}, Spec: v1beta1.KafkaUserSpec{
		Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthTLS},
		Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders"}, Operations: []v1beta1.ACLOperation{"Read", "Describe"}},
			{Type: v1beta1.ACLDeny, Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceGroup, Name: "app-", PatternType: v1beta1.ACLPatternPrefix}, Operations: []v1beta1.ACLOperation{"Read"}, Host: "10.0.0.1"},
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceCluster}, Operations: []v1beta1.ACLOperation{"IdempotentWrite"}},
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTransactionalID, Name: "*"}, Operations: []v1beta1.ACLOperation{"All"}},
			// A duplicate rule yields no duplicate binding.
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders"}, Operations: []v1beta1.ACLOperation{"Read"}},
		}},
	}}
	if Username(ku) != "CN=alice" {
		t.Fatalf("Username = %s", Username(ku))
	}
	p := "User:CN=alice"
	got := DesiredACLs(ku, p)
	lit, pre := kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed
	allow, deny := kmsg.ACLPermissionTypeAllow, kmsg.ACLPermissionTypeDeny
	want := []kafka.ACL{
		{Principal: p, ResourceType: kmsg.ACLResourceTypeTopic, ResourceName: "orders", PatternType: lit, Host: "*", Operation: kmsg.ACLOperationRead, Permission: allow},
		{Principal: p, ResourceType: kmsg.ACLResourceTypeTopic, ResourceName: "orders", PatternType: lit, Host: "*", Operation: kmsg.ACLOperationDescribe, Permission: allow},
		{Principal: p, ResourceType: kmsg.ACLResourceTypeGroup, ResourceName: "app-", PatternType: pre, Host: "10.0.0.1", Operation: kmsg.ACLOperationRead, Permission: deny},
		{Principal: p, ResourceType: kmsg.ACLResourceTypeCluster, ResourceName: "kafka-cluster", PatternType: lit, Host: "*", Operation: kmsg.ACLOperationIdempotentWrite, Permission: allow},
		{Principal: p, ResourceType: kmsg.ACLResourceTypeTransactionalId, ResourceName: "*", PatternType: lit, Host: "*", Operation: kmsg.ACLOperationAll, Permission: allow},
	}
	kafka.SortACLs(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DesiredACLs:\n got %v\nwant %v", got, want)
	}
	create, remove := kafka.DiffACLs(want[:3], want[1:])
	if len(create) != 1 || create[0] != want[0] || len(remove) != 2 {
		t.Errorf("DiffACLs: create %v remove %v", create, remove)
	}
}

func TestQuotas(t *testing.T) {
	p, c, r := int64(1024), int64(2048), int32(55)
	mr := v1beta1.Rate("500m")
	ku := &v1beta1.KafkaUser{Spec: v1beta1.KafkaUserSpec{Quotas: &v1beta1.KafkaUserQuotas{
		ProducerByteRate: &p, ConsumerByteRate: &c, RequestPercentage: &r, ControllerMutationRate: &mr}}}
	want := map[string]float64{QuotaProducerByteRate: 1024, QuotaConsumerByteRate: 2048, QuotaRequestPercentage: 55, QuotaControllerMutationRate: 0.5}
	if got := DesiredQuotas(ku); !reflect.DeepEqual(got, want) {
		t.Errorf("DesiredQuotas = %v", got)
	}
	have := map[string]float64{QuotaProducerByteRate: 1024, QuotaConsumerByteRate: 1, "request_percentage": 55, "other": 3}
	got := QuotaDiff("alice", map[string]float64{QuotaProducerByteRate: 1024, QuotaConsumerByteRate: 2048}, have)
	if !reflect.DeepEqual(got.Set, map[string]float64{QuotaConsumerByteRate: 2048}) || !reflect.DeepEqual(got.Remove, []string{"other", "request_percentage"}) {
		t.Errorf("QuotaDiff = %+v", got)
	}
	if got := QuotaDiff("alice", want, want); len(got.Set)+len(got.Remove) != 0 {
		t.Errorf("a steady state changes quotas: %+v", got)
	}
}

func TestValidateRefusesABadMutationRate(t *testing.T) {
	for _, bad := range []string{`-1`, `"-1"`, `"abc"`, `{"a": 1}`, `[1]`, `true`} {
		var ku v1beta1.KafkaUser
		if err := json.Unmarshal([]byte(`{"spec": {"quotas": {"controllerMutationRate": `+bad+`}}}`), &ku); err != nil {
			t.Fatalf("decoding %s failed (an informer would drop every user): %v", bad, err)
		}
		if validate(&ku) == "" {
			t.Errorf("controllerMutationRate %s passes", bad)
		}
	}
	// Strimzi's number and our quantity string are both rates, and keep their value on a round
	// trip (a string holding a plain number comes back as the number).
	for in, want := range map[string]float64{`0.5`: 0.5, `10`: 10, `"500m"`: 0.5, `"2"`: 2} {
		var ku v1beta1.KafkaUser
		if err := json.Unmarshal([]byte(`{"spec": {"quotas": {"controllerMutationRate": `+in+`}}}`), &ku); err != nil {
			t.Fatal(err)
		}
		if msg := validate(&ku); msg != "" {
			t.Errorf("controllerMutationRate %s is refused: %s", in, msg)
		}
		if got := DesiredQuotas(&ku)[QuotaControllerMutationRate]; got != want {
			t.Errorf("controllerMutationRate %s = %v, want %v", in, got, want)
		}
		out, _ := json.Marshal(ku.Spec.Quotas)
		if string(out) != `{"controllerMutationRate":`+in+`}` && string(out) != `{"controllerMutationRate":`+strings.Trim(in, `"`)+`}` {
			t.Errorf("round trip of %s gave %s", in, out)
		}
	}
}

func TestSingularOperation(t *testing.T) {
	ku := &v1beta1.KafkaUser{}
	if err := json.Unmarshal([]byte(`{"spec": {"authorization": {"type": "simple", "acls": [
		{"resource": {"type": "topic", "name": "orders"}, "operation": "Read"},
		{"resource": {"type": "group", "name": "g"}, "operations": ["Read", "Describe"]}]}}}`), ku); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, a := range DesiredACLs(ku, "User:x") {
		ops = append(ops, fmt.Sprint(a.ResourceType, "/", a.ResourceName, "/", a.Operation))
	}
	want := []string{"TOPIC/orders/READ", "GROUP/g/READ", "GROUP/g/DESCRIBE"}
	slices.Sort(ops)
	slices.Sort(want)
	if !slices.Equal(ops, want) {
		t.Errorf("ACLs = %v, want %v", ops, want)
	}
}
