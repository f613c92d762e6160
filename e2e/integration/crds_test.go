package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

func repoPath(t *testing.T, parts ...string) string {
	t.Helper()
	root, err := build.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

// TestCRDsServed checks what kubectl users see: short names, categories and subresources.
func TestCRDsServed(t *testing.T) {
	f := framework.Get(t)
	list, err := f.Kube.Discovery().ServerResourcesForGroupVersion("kafkaplane.io/v1beta1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"kafkas": "k", "kafkanodepools": "knp", "kafkatopics": "kt", "kafkausers": "ku"}
	got := map[string]bool{}
	for _, r := range list.APIResources {
		got[r.Name] = true
		if short, ok := want[r.Name]; ok {
			if !slices.Contains(r.ShortNames, short) || !slices.Contains(r.Categories, "kafkaplane") || !r.Namespaced {
				t.Errorf("%s: shortNames %v categories %v namespaced %v", r.Name, r.ShortNames, r.Categories, r.Namespaced)
			}
		}
	}
	for _, sub := range []string{"kafkas/status", "kafkanodepools/status", "kafkanodepools/scale", "kafkatopics/status", "kafkausers/status"} {
		if !got[sub] {
			t.Errorf("subresource %s is not served", sub)
		}
	}
}

// TestExamplesAccepted applies every manifest under deploy/examples into a test namespace.
func TestExamplesAccepted(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	files, err := framework.YAMLFiles(repoPath(t, "deploy", "examples"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := framework.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, o := range objs {
			if o.GetKind() == "Namespace" {
				continue
			}
			o.SetNamespace(ns)
			if _, err := f.ApplyObject(t.Context(), ns, o); err != nil {
				t.Errorf("%s: %v", filepath.Base(file), err)
			}
		}
	}
	// Defaults from the schema are applied: an ACL rule's type and host.
	u, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Get(t.Context(), "my-user", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acl := u.Spec.Authorization.ACLs[0]
	if acl.Type != "allow" || acl.Host != "*" || acl.Resource.PatternType != "literal" {
		t.Errorf("defaults not applied: %+v", acl)
	}
	topic, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns).Get(t.Context(), "test", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := topic.Spec.Config["retention.ms"].String(); got != "7200000" {
		t.Errorf("retention.ms read back as %q", got)
	}
}

func obj(t *testing.T, yaml string) *unstructured.Unstructured {
	t.Helper()
	objs, err := framework.Decode([]byte(yaml))
	if err != nil || len(objs) != 1 {
		t.Fatalf("decoding test manifest: %v", err)
	}
	return objs[0]
}

func expectRejected(t *testing.T, f *framework.Framework, ns, yaml, want string) {
	t.Helper()
	_, err := f.ApplyObject(t.Context(), ns, obj(t, yaml))
	if err == nil {
		t.Errorf("accepted, want rejection with %q", want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("rejected with %q, want a message containing %q", err, want)
	}
}
