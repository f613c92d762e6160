package v1beta1

import (
	"encoding/json"
	"testing"
)

func TestConfigValueAcceptsScalarsAndLists(t *testing.T) {
	var cfg map[string]ConfigValue
	in := `{"retention.ms": 7200000, "segment.bytes": 1073741824, "unclean.leader.election.enable": false,
		"cleanup.policy": ["compact", "delete"], "min.cleanable.dirty.ratio": 0.5, "compression.type": "zstd"}`
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"retention.ms": "7200000", "segment.bytes": "1073741824",
		"unclean.leader.election.enable": "false", "cleanup.policy": "compact,delete",
		"min.cleanable.dirty.ratio": "0.5", "compression.type": "zstd"}
	for k, v := range want {
		if cfg[k].String() != v || cfg[k].Validate() != nil {
			t.Errorf("%s = %q (%v), want %q", k, cfg[k], cfg[k].Validate(), v)
		}
	}
	out, err := json.Marshal(cfg["retention.ms"])
	if err != nil || string(out) != `"7200000"` {
		t.Errorf("marshal = %s, %v", out, err)
	}
}

// An object must not break decoding (an informer would fail to list every other object); it is
// kept, reported by Validate and written back unchanged.
func TestConfigValueKeepsAndReportsInvalidValues(t *testing.T) {
	for _, in := range []string{`{"b": 1}`, `[1, [2]]`, `null`, `[{"a": 1}]`} {
		var v ConfigValue
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Fatalf("%s: decoding failed: %v", in, err)
		}
		if v.Validate() == nil {
			t.Errorf("%s: Validate accepted %q", in, v)
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		_ = json.Unmarshal([]byte(in), &a)
		_ = json.Unmarshal(out, &b)
		if ja, _ := json.Marshal(a); string(ja) != func() string { jb, _ := json.Marshal(b); return string(jb) }() {
			t.Errorf("%s round-tripped to %s", in, out)
		}
	}
}

func TestDerivedNamesFitDNSLabels(t *testing.T) {
	cluster := "c2345678901234567890123456789012345" // 35, the maximum
	if n := ListenerBootstrapServiceName(cluster, "l2345678901"); len(n) > 63 {
		t.Errorf("%s has %d characters, more than a Service name may", n, len(n))
	}
	if got := NodeName("my-cluster", "brokers", 7); got != "my-cluster-brokers-7" {
		t.Errorf("NodeName = %s", got)
	}
	if got := JBODClaimName(2, "my-cluster", "brokers", 7); got != "data-2-my-cluster-brokers-7" {
		t.Errorf("JBODClaimName = %s", got)
	}
	if got := EntityOperatorCertsSecretName(EntityTopicOperatorName("c")); got != "c-entity-topic-operator-certs" {
		t.Errorf("certs secret = %s", got)
	}
}
