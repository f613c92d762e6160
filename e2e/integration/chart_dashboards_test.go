package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kafkaplane/kafkaplane/e2e/build"
)

// TestChartDashboardsAndAlerts: off by default; when enabled, the chart ships each generated
// dashboard as a ConfigMap Grafana's sidecar picks up (its JSON valid, every panel with a
// query), a PrometheusRule whose every alert has a summary, a description, a runbook
// section that exists in the README, and the thresholds from the values, and a PodMonitor for
// the Kafka nodes' metrics port with the labels the Kafka dashboards group by.
func TestChartDashboardsAndAlerts(t *testing.T) {
	def := helmTemplate(t, "kafkaplane")
	if n := len(byKind(def, "PrometheusRule")) + len(byKind(def, "PodMonitor")); n != 0 {
		t.Errorf("%d PrometheusRules and PodMonitors by default, want none", n)
	}
	for _, cm := range byKind(def, "ConfigMap") {
		if cm.GetLabels()["grafana_dashboard"] != "" {
			t.Errorf("dashboard %s rendered by default", cm.GetName())
		}
	}
	all := helmTemplate(t, "kafkaplane", "dashboards.enabled=true", "prometheusRules.enabled=true", "prometheusRules.consumerLagThreshold=500",
		"kafkaPodMonitor.enabled=true")
	pms := byKind(all, "PodMonitor")
	if len(pms) != 1 {
		t.Fatalf("%d PodMonitors, want 1", len(pms))
	}
	port, _, _ := unstructured.NestedSlice(pms[0].Object, "spec", "podMetricsEndpoints")
	labels, _, _ := unstructured.NestedStringSlice(pms[0].Object, "spec", "podTargetLabels")
	if len(port) != 1 || port[0].(map[string]any)["port"] != "tcp-prometheus" || !slices.Contains(labels, "kafkaplane.io/cluster") || !slices.Contains(labels, "kafkaplane.io/broker-role") {
		t.Errorf("PodMonitor endpoints %v target labels %v", port, labels)
	}
	dashboards := 0
	for _, cm := range byKind(all, "ConfigMap") {
		if cm.GetLabels()["grafana_dashboard"] != "1" {
			continue
		}
		dashboards++
		data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
		for key, body := range data {
			var d struct {
				Title  string `json:"title"`
				Panels []struct {
					Title   string `json:"title"`
					Targets []struct {
						Expr string `json:"expr"`
					} `json:"targets"`
				} `json:"panels"`
			}
			if err := json.Unmarshal([]byte(body), &d); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if d.Title == "" || len(d.Panels) == 0 {
				t.Errorf("%s: title %q, %d panels", key, d.Title, len(d.Panels))
			}
			for _, p := range d.Panels {
				if len(p.Targets) == 0 || p.Targets[0].Expr == "" {
					t.Errorf("%s: panel %q has no query", key, p.Title)
				}
			}
		}
	}
	if dashboards != 5 {
		t.Errorf("%d dashboard ConfigMaps, want 5 (operators, consumer lag, brokers, controllers, topics)", dashboards)
	}
	rules := byKind(all, "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(rules))
	}
	root, _ := build.RepoRoot()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(readme), -1) {
		anchors[strings.ToLower(strings.ReplaceAll(m[1], " ", "-"))] = true
	}
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	n := 0
	for _, g := range groups {
		rs, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rs {
			r := r.(map[string]any)
			n++
			name, _ := r["alert"].(string)
			ann, _ := r["annotations"].(map[string]any)
			for _, k := range []string{"summary", "description", "runbook_url"} {
				if s, _ := ann[k].(string); s == "" {
					t.Errorf("alert %s has no %s", name, k)
				}
			}
			if url, _ := ann["runbook_url"].(string); !anchors[url[strings.Index(url, "#")+1:]] {
				t.Errorf("alert %s: runbook %s is not a README section", name, url)
			}
			if d, _ := ann["description"].(string); strings.Contains(d, `"{{"`) {
				t.Errorf("alert %s: description %q still escaped for Helm", name, d)
			}
			if name == "KafkaConsumerGroupLagHigh" && !strings.HasSuffix(r["expr"].(string), "> 500") {
				t.Errorf("lag threshold not from the values: %s", r["expr"])
			}
		}
	}
	if n != 12 {
		t.Errorf("%d alerts, want 12", n)
	}
}
