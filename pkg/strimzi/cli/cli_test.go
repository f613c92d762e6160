package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const strimziUser = `apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaUser
metadata:
  name: app
  labels:
    strimzi.io/cluster: my-cluster
spec:
  authentication:
    type: tls
`

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStdinToStdout(t *testing.T) {
	code, out, errs := run(t, strimziUser, "convert", "-f", "-")
	if code != 0 || !strings.Contains(out, "apiVersion: kafkaplane.io/v1beta1") || !strings.Contains(out, "kafkaplane.io/cluster: my-cluster") {
		t.Fatalf("code %d, stdout:\n%s", code, out)
	}
	if !strings.Contains(errs, "-#1 KafkaUser/app: changed metadata.labels.strimzi.io/cluster") {
		t.Errorf("report:\n%s", errs)
	}
}

// TestDirectoryKeepsRelativePaths: two files of the same name in two subdirectories are
// converted into two files, not one written over the other.
func TestDirectoryKeepsRelativePaths(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	write(t, filepath.Join(in, "team-a", "user.yaml"), strimziUser)
	write(t, filepath.Join(in, "team-b", "user.yaml"), strings.ReplaceAll(strimziUser, "name: app", "name: billing"))
	write(t, filepath.Join(in, "README.md"), "not a manifest")
	if code, _, errs := run(t, "", "convert", "-f", in, "-o", out); code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for dir, name := range map[string]string{"team-a": "app", "team-b": "billing"} {
		data, err := os.ReadFile(filepath.Join(out, dir, "user.yaml"))
		if err != nil || !strings.Contains(string(data), "name: "+name) || !strings.Contains(string(data), "kafkaplane.io/v1beta1") {
			t.Errorf("%s/user.yaml: %v\n%s", dir, err, data)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "README.md")); err == nil {
		t.Error("a file that is not YAML or JSON was written")
	}
}

// TestSameNameFromTwoInputs: the second of two inputs with the same base name is not written
// over the first's conversion; the run says so and fails.
func TestSameNameFromTwoInputs(t *testing.T) {
	a, b, out := t.TempDir(), t.TempDir(), t.TempDir()
	write(t, filepath.Join(a, "user.yaml"), strimziUser)
	write(t, filepath.Join(b, "user.yaml"), strings.ReplaceAll(strimziUser, "name: app", "name: billing"))
	code, _, errs := run(t, "", "convert", "-f", filepath.Join(a, "user.yaml"), "-f", filepath.Join(b, "user.yaml"), "-o", out)
	if code == 0 || !strings.Contains(errs, "holds the conversion of") {
		t.Fatalf("code %d: %s", code, errs)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "user.yaml")); !strings.Contains(string(data), "name: app") {
		t.Errorf("the first conversion was replaced:\n%s", data)
	}
}

// TestNeverWritesOverAnInput: -o naming the input directory leaves the Strimzi manifests as
// they were.
func TestNeverWritesOverAnInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "user.yaml")
	write(t, path, strimziUser)
	code, _, errs := run(t, "", "convert", "-f", dir, "-o", dir)
	if code == 0 || !strings.Contains(errs, "which is the input") {
		t.Fatalf("code %d: %s", code, errs)
	}
	if data, _ := os.ReadFile(path); string(data) != strimziUser {
		t.Errorf("the input was rewritten:\n%s", data)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	write(t, bad, "kind: [unclosed")
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 2},
		{[]string{"convert"}, 2},
		{[]string{"convert", "-f", filepath.Join(dir, "missing.yaml")}, 1},
		{[]string{"convert", "-f", bad}, 1},
	} {
		if code, _, errs := run(t, "", tc.args...); code != tc.want {
			t.Errorf("%v: code %d, want %d: %s", tc.args, code, tc.want, errs)
		}
	}
	// Other kinds pass through, with code 0.
	if code, out, _ := run(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", "convert", "-f", "-"); code != 0 || !strings.Contains(out, "kind: ConfigMap") {
		t.Errorf("code %d: %s", code, out)
	}
}
