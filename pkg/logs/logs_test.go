package logs

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

// TestHelperProcess is not a test: run by the tests below in a child process (klog's
// configuration is global), it applies the flags in LOGS_HELPER_ARGS, logs one line of each
// severity and exits.
func TestHelperProcess(t *testing.T) {
	args := os.Getenv("LOGS_HELPER_ARGS")
	if args == "" {
		return
	}
	var o Options
	fs := flag.NewFlagSet("helper", flag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(strings.Fields(args)); err != nil {
		t.Fatal(err)
	}
	if err := o.Apply(); err != nil {
		t.Fatal(err)
	}
	logger := klog.Background()
	logger.Info("an info line", "topic", "orders")
	logger.V(4).Info("a debug line")
	logger.Error(errors.New("boom"), "an error line")
	klog.Warning("a klog warning line")
	klog.Info("a klog info line")
	klog.Flush()
	os.Exit(0)
}

func run(t *testing.T, args string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "LOGS_HELPER_ARGS="+args)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestLevelFilters: --log-level really filters. Before, ERROR and WARN only set klog's
// verbosity, which every Info line passes: 10,000 "Created topic" lines at WARN.
func TestLevelFilters(t *testing.T) {
	all := []string{"an info line", "a debug line", "an error line", "a klog warning line", "a klog info line"}
	for _, c := range []struct {
		args string
		want []string
	}{
		{"--log-level=ERROR", []string{"an error line"}},
		{"--log-level=WARN", []string{"an error line", "a klog warning line"}},
		{"--log-level=INFO", []string{"an info line", "an error line", "a klog warning line", "a klog info line"}},
		{"--log-level=DEBUG", all},
		{"--log-level=WARN --log-format=json", []string{"an error line"}},
		{"--log-level=INFO --log-format=json", []string{"an info line", "an error line", "a klog warning line", "a klog info line"}},
		{"--log-level=DEBUG --log-format=json", all},
	} {
		out := run(t, c.args)
		for _, line := range all {
			if got, want := strings.Contains(out, line), contains(c.want, line); got != want {
				t.Errorf("%s: %q printed %v, want %v\n%s", c.args, line, got, want, out)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// TestJSONFormat: --log-format=json prints one JSON object per line, with the level, the
// message and the key/value pairs.
func TestJSONFormat(t *testing.T) {
	out := run(t, "--log-level=INFO --log-format=json")
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" || strings.HasPrefix(line, "PASS") || strings.HasPrefix(line, "ok") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		if m["msg"] == "an info line" {
			found = true
			if m["level"] != "INFO" || m["topic"] != "orders" {
				t.Errorf("info line %v, want level INFO and topic orders", m)
			}
		}
		if m["msg"] == "an error line" && (m["level"] != "ERROR" || m["err"] != "boom") {
			t.Errorf("error line %v, want level ERROR and err boom", m)
		}
	}
	if !found {
		t.Errorf("no info line in\n%s", out)
	}
}

func TestUnknownFormatRefused(t *testing.T) {
	o := Options{Level: "INFO", Format: "xml"}
	if err := o.Apply(); err == nil || !strings.Contains(err.Error(), "log format") {
		t.Errorf("Apply: %v, want an unknown-format error", err)
	}
}
