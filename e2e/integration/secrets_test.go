package integration

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/metrics"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
)

// TestSecretInformersStaySmall checks the two ways operators watch Secrets: the label-filtered
// informer caches only the operator's own Secrets (with data), the metadata-only one caches every
// Secret of the watched namespace without data or annotations, and neither sees other namespaces.
func TestSecretInformersStaySmall(t *testing.T) {
	f := framework.Get(t)
	ns, other := f.Namespace(t), f.Namespace(t)
	big := strings.Repeat("x", 64*1024)
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mine", Labels: map[string]string{"kafkaplane.io/kind": "KafkaUser"}},
			Data: map[string][]byte{"user.key": []byte("key")}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unrelated", Annotations: map[string]string{"big": big}},
			Data: map[string][]byte{"blob": []byte(big)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "elsewhere", Labels: map[string]string{"kafkaplane.io/kind": "KafkaUser"}}},
	} {
		if _, err := f.Kube.CoreV1().Secrets(s.Namespace).Create(t.Context(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	o := operator.NewOptions("test")
	o.WatchNamespaces = ns
	m, err := operator.NewManager(o, f.Config, metrics.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	owned := m.OwnedSecrets("kafkaplane.io/kind=KafkaUser", nil)
	meta := m.SecretsMetadata("")
	m.StartInformers(t.Context())
	defer m.ShutdownInformers()
	if err := informers.WaitForSync(t.Context(), owned, meta); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 10*time.Second, "the caches to list", func() (bool, error) {
		return len(meta.Keys()) >= 2, nil
	})

	ownedObjs, _ := owned.List(labels.Everything())
	if len(ownedObjs) != 1 || ownedObjs[0].(*corev1.Secret).Name != "mine" || string(ownedObjs[0].(*corev1.Secret).Data["user.key"]) != "key" {
		t.Fatalf("owned-secrets cache = %v, want only %s/mine with its data", owned.Keys(), ns)
	}
	var names []string
	for _, k := range meta.Keys() {
		names = append(names, k.String())
		if k.Namespace != ns {
			t.Errorf("metadata cache holds %s from an unwatched namespace", k)
		}
	}
	obj, ok, _ := meta.GetByKey(ns, "unrelated")
	if !ok {
		t.Fatalf("metadata cache lacks %s/unrelated: %v", ns, names)
	}
	if pm, ok := obj.(*metav1.PartialObjectMetadata); !ok || len(pm.Annotations) != 0 || pm.ManagedFields != nil {
		t.Errorf("metadata cache kept %T with annotations/managedFields", obj)
	}
}
