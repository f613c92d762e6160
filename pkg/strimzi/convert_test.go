package strimzi

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden converts each manifest of testdata/in and compares the YAML and the report with
// testdata/out (go test -update rewrites them; read the diff before committing).
func TestGolden(t *testing.T) {
	ins, err := filepath.Glob("testdata/in/*.yaml")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, in := range ins {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			rep := &Report{}
			objs, err := Convert(data, filepath.Base(in), rep)
			if err != nil {
				t.Fatal(err)
			}
			y, err := Marshal(objs)
			if err != nil {
				t.Fatal(err)
			}
			var notes []string
			for _, n := range rep.Notes {
				notes = append(notes, n.String())
			}
			report := strings.Join(notes, "\n") + "\n"
			base := filepath.Join("testdata/out", strings.TrimSuffix(filepath.Base(in), ".yaml"))
			for _, f := range []struct{ path, got string }{{base + ".yaml", string(y)}, {base + ".report", report}} {
				if *update {
					if err := os.MkdirAll("testdata/out", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(f.path, []byte(f.got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(f.path)
				if err != nil {
					t.Fatal(err)
				}
				if string(want) != f.got {
					t.Errorf("%s differs:\n%s", f.path, f.got)
				}
			}
		})
	}
}

// TestUnreadableInput: input that is not YAML fails; other kinds pass through untouched.
func TestUnreadableInput(t *testing.T) {
	if _, err := Convert([]byte("a: [b"), "bad.yaml", &Report{}); err == nil {
		t.Fatal("no error for broken YAML")
	}
	objs, err := Convert([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s, labels: {strimzi.io/cluster: c}}\n"), "s.yaml", &Report{})
	if err != nil || len(objs) != 1 || objs[0]["kind"] != "Secret" || get(objs[0], "metadata", "labels", "strimzi.io/cluster") != "c" {
		t.Fatalf("a Secret was changed: %v %v", objs, err)
	}
}

// A tls-external user keeps its authentication: without it, its ACLs would go to User:<name>
// (a SCRAM user of that name) instead of User:CN=<name>. The converter used to drop it.
func TestTLSExternalUserKeepsItsPrincipal(t *testing.T) {
	in := []byte(`apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaUser
metadata:
  name: partner
  labels: {strimzi.io/cluster: c}
spec:
  authentication: {type: tls-external}
  authorization:
    type: simple
    acls:
      - resource: {type: topic, name: orders}
        operations: [Read]
`)
	objs, err := Convert(in, "user.yaml", &Report{})
	if err != nil || len(objs) != 1 {
		t.Fatalf("%v %v", objs, err)
	}
	if got := get(objs[0], "spec", "authentication", "type"); got != "tls-external" {
		t.Fatalf("authentication.type = %v, want tls-external", got)
	}
}
