package integration

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/strimzi"
)

// TestConvertedStrimziManifests: every object `kubectl kafkaplane convert` makes of the Strimzi
// corpus (pkg/strimzi/testdata/in: five eras, v1alpha1 to v1) is accepted by the real API
// server's schema and CEL rules; the v1 KRaft cluster among them is then reconciled to Ready
// (pods simulated, Kafka a kfake stand-in).
func TestConvertedStrimziManifests(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ctx := t.Context()
	files, err := filepath.Glob("../../pkg/strimzi/testdata/in/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("corpus: %v %v", files, err)
	}
	converted := map[string][]strimzi.Object{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := strimzi.Convert(data, filepath.Base(file), &strimzi.Report{})
		if err != nil {
			t.Fatal(err)
		}
		converted[filepath.Base(file)] = objs
		// Each file in a namespace of its own: the corpus reuses names.
		ns := f.Namespace(t)
		for _, o := range objs {
			u := &unstructured.Unstructured{Object: o}
			u.SetNamespace(ns)
			if _, err := f.ApplyObject(ctx, ns, u); err != nil {
				t.Errorf("%s: the API server refused the converted %s %s: %v", filepath.Base(file), u.GetKind(), u.GetName(), err)
			}
		}
		t.Logf("%s: %d objects accepted", filepath.Base(file), len(objs))
	}

	ns := f.Namespace(t)
	for _, o := range converted["04-kraft-v1.yaml"] {
		u := &unstructured.Unstructured{Object: o}
		u.SetNamespace(ns)
		if _, err := f.ApplyObject(ctx, ns, u); err != nil {
			t.Fatal(err)
		}
	}
	overrides := filepath.Join(t.TempDir(), "bootstrap.json")
	startClusterOperator(t, f, ns, "--kafka-bootstrap-overrides="+overrides)
	startStandInFor(t, f, ns, "my-cluster", overrides)
	framework.Eventually(t, 4*time.Minute, "the converted Kafka my-cluster Ready", kafkaReady(t, f, ns, "my-cluster"))
	// (Its KafkaTopics are not waited for: the simulated pods' Service does not lead to the
	// stand-in, so the topic operator cannot reach Kafka here.)
}
