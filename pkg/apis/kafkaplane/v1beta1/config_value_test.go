package v1beta1

import (
	"encoding/json"
	"testing"
)

func TestConfigValueAcceptsScalars(t *testing.T) {
	var cfg map[string]ConfigValue
	in := `{"retention.ms": 7200000, "segment.bytes": 1073741824, "unclean.leader.election.enable": false,
		"cleanup.policy": "compact,delete", "min.cleanable.dirty.ratio": 0.5}`
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"retention.ms": "7200000", "segment.bytes": "1073741824",
		"unclean.leader.election.enable": "false", "cleanup.policy": "compact,delete", "min.cleanable.dirty.ratio": "0.5"}
	for k, v := range want {
		if cfg[k].String() != v {
			t.Errorf("%s = %q, want %q", k, cfg[k], v)
		}
	}
	out, err := json.Marshal(cfg["retention.ms"])
	if err != nil || string(out) != `"7200000"` {
		t.Errorf("marshal = %s, %v", out, err)
	}
}

func TestConfigValueRejectsObjectsArraysAndNull(t *testing.T) {
	for _, in := range []string{`{"a": {"b": 1}}`, `{"a": [1, 2]}`, `{"a": null}`} {
		var cfg map[string]ConfigValue
		if err := json.Unmarshal([]byte(in), &cfg); err == nil {
			t.Errorf("%s was accepted as %v", in, cfg)
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
