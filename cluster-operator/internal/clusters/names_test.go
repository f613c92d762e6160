package clusters

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// A 35-character Kafka and a 40-character pool (each within its own CRD's limit) would give
// pods hostnames over 63 characters, which the API server refuses at pod creation: the Kafka is
// refused with the reason instead, as are per-broker Service names of external listeners.
func TestNameLengths(t *testing.T) {
	k := testKafka()
	k.Name = strings.Repeat("k", 35)
	pool := &v1beta1.KafkaNodePool{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("p", 40)},
		Spec: v1beta1.KafkaNodePoolSpec{Replicas: 3, Roles: []v1beta1.ProcessRole{v1beta1.RoleBroker, v1beta1.RoleController}}}
	if p := nameLengths(k, []*v1beta1.KafkaNodePool{pool}); len(p) != 1 || !strings.Contains(p[0], "over a DNS label's 63") {
		t.Fatalf("problems %v", p)
	}
	k.Name, pool.Name = "c", "brokers"
	if p := nameLengths(k, []*v1beta1.KafkaNodePool{pool}); len(p) != 0 {
		t.Fatalf("short names refused: %v", p)
	}
	// An external listener's per-broker Services: <cluster>-<pool>-<listener>-<id>.
	k.Name, pool.Name = strings.Repeat("k", 30), strings.Repeat("p", 20)
	k.Spec.Kafka.Listeners = []v1beta1.GenericKafkaListener{{Name: "external1234"[:11], Port: 9094, Type: v1beta1.ListenerNodePort}}
	if p := nameLengths(k, []*v1beta1.KafkaNodePool{pool}); len(p) != 1 || !strings.Contains(p[0], "per-broker Service") {
		t.Fatalf("problems %v", p)
	}
}
