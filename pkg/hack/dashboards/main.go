// Command dashboards writes the Grafana dashboards and the Prometheus alerting rules the chart
// ships (make charts): dashboards as code, from the metric names in pkg/metrics, so a renamed
// metric breaks the build rather than a panel. Usage: dashboards <chart dir>.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kafkaplane/kafkaplane/pkg/metrics"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dashboards <chart dir>")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "dashboards:", err)
		os.Exit(1)
	}
}

func write(chart string) error {
	dir := filepath.Join(chart, "files", "dashboards")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range []dashboard{operators(), consumerLag(), kafkaBrokers(), kafkaControllers(), kafkaTopics()} {
		b, err := json.MarshalIndent(d.model(), "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, d.UID+".json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	alerts := filepath.Join(chart, "files", "alerts")
	if err := os.MkdirAll(alerts, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(alerts, "kafkaplane.rules.yaml"), []byte(rules()), 0o644)
}

// panel is one time series panel: its queries and their legends.
type panel struct {
	Title, Unit, Description string
	Queries                  []query
}

type query struct{ Expr, Legend string }

type dashboard struct {
	UID, Title string
	Panels     []panel
}

// model is the Grafana dashboard JSON: a Prometheus data source variable and time series panels
// two to a row.
func (d dashboard) model() map[string]any {
	ds := map[string]any{"type": "prometheus", "uid": "${datasource}"}
	var panels []any
	for i, p := range d.Panels {
		var targets []any
		for j, q := range p.Queries {
			targets = append(targets, map[string]any{"datasource": ds, "expr": q.Expr, "legendFormat": q.Legend, "refId": string(rune('A' + j))})
		}
		unit := p.Unit
		if unit == "" {
			unit = "short"
		}
		panels = append(panels, map[string]any{
			"id": i + 1, "type": "timeseries", "title": p.Title, "description": p.Description, "datasource": ds,
			"gridPos":     map[string]int{"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
			"fieldConfig": map[string]any{"defaults": map[string]any{"unit": unit}, "overrides": []any{}},
			"options":     map[string]any{"legend": map[string]any{"displayMode": "list", "placement": "bottom"}},
			"targets":     targets,
		})
	}
	return map[string]any{
		"uid": d.UID, "title": d.Title, "tags": []string{"kafkaplane"}, "schemaVersion": 39, "editable": true,
		"time": map[string]string{"from": "now-1h", "to": "now"}, "refresh": "30s",
		"templating": map[string]any{"list": []any{map[string]any{
			"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
		}}},
		"panels": panels,
	}
}

// operatorJobs selects the operators' scrape jobs (their Services: <release>-<binary>).
const operatorJobs = `job=~".*(cluster|topic|user)-operator.*"`

func operators() dashboard {
	return dashboard{UID: "kafkaplane-operators", Title: "Kafkaplane operators", Panels: []panel{
		{Title: "Operators up", Description: "1 per scraped operator process.",
			Queries: []query{{`sum by (job) (up{` + operatorJobs + `})`, "{{job}}"}}},
		{Title: "Reconciles by result", Unit: "ops",
			Queries: []query{{`sum by (controller, result) (rate(` + metrics.ReconcilesTotal + `[5m]))`, "{{controller}} {{result}}"}}},
		{Title: "Reconcile errors", Unit: "ops", Description: "Failed reconciles; each is retried with backoff (100 ms to 30 s).",
			Queries: []query{{`sum by (controller) (rate(` + metrics.ReconcilesTotal + `{result="error"}[5m]))`, "{{controller}}"}}},
		{Title: "Reconcile duration (p50, p99)", Unit: "s", Queries: []query{
			{`histogram_quantile(0.5, sum by (controller, le) (rate(` + metrics.ReconcileDuration + `_bucket[5m])))`, "{{controller}} p50"},
			{`histogram_quantile(0.99, sum by (controller, le) (rate(` + metrics.ReconcileDuration + `_bucket[5m])))`, "{{controller}} p99"}}},
		{Title: "Queue depth", Queries: []query{{`sum by (name) (` + metrics.WorkqueueDepth + `)`, "{{name}}"}}},
		{Title: "Queue wait (p99)", Unit: "s",
			Queries: []query{{`histogram_quantile(0.99, sum by (name, le) (rate(` + metrics.WorkqueueQueueDuration + `_bucket[5m])))`, "{{name}}"}}},
		{Title: "Longest running reconcile", Unit: "s", Description: "Past --stall-timeout, /healthz fails and the liveness probe restarts the operator.",
			Queries: []query{{`max by (name) (` + metrics.WorkqueueLongestRunning + `)`, "{{name}}"}}},
		{Title: "Retries", Unit: "ops", Queries: []query{{`sum by (name) (rate(` + metrics.WorkqueueRetries + `[5m]))`, "{{name}}"}}},
		{Title: "Managed resources", Queries: []query{{`sum by (controller) (` + metrics.ManagedResources + `)`, "{{controller}}"}}},
		{Title: "Certificate expiry", Unit: "d", Description: "Days until each CA and certificate the cluster operator keeps expires.",
			Queries: []query{{`(` + metrics.CertificateExpiry + ` - time()) / 86400`, "{{namespace}}/{{cluster}} {{certificate}}"}}},
	}}
}

func consumerLag() dashboard {
	return dashboard{UID: "kafkaplane-consumer-lag", Title: "Kafka consumer lag", Panels: []panel{
		{Title: "Lag by group", Description: "Records behind the end of the partitions (spec.kafkaExporter).",
			Queries: []query{{`sum by (namespace, consumergroup) (` + metrics.ConsumerGroupLag + `)`, "{{namespace}} {{consumergroup}}"}}},
		{Title: "Lag by group and topic",
			Queries: []query{{`sum by (consumergroup, topic) (` + metrics.ConsumerGroupLag + `)`, "{{consumergroup}} {{topic}}"}}},
		{Title: "Lag in seconds (worst partition)", Unit: "s", Description: "The lag over the produce rate since the last read: an estimate.",
			Queries: []query{{`max by (consumergroup, topic) (` + metrics.ConsumerGroupLagSecond + `)`, "{{consumergroup}} {{topic}}"}}},
		{Title: "Consumption and production", Unit: "ops", Queries: []query{
			{`sum by (consumergroup, topic) (rate(` + metrics.ConsumerGroupOffset + `[5m]))`, "consumed {{consumergroup}} {{topic}}"},
			{`sum by (topic) (rate(` + metrics.PartitionEndOffset + `[5m]))`, "produced {{topic}}"}}},
		{Title: "Lag reads", Unit: "s", Description: "How long the topic operator's last read of the lag took, and whether it failed.", Queries: []query{
			{metrics.LagReadDuration, "{{namespace}} {{pod}} read"},
			{metrics.LagReadFailed, "{{namespace}} {{pod}} failed"}}},
		{Title: "Groups skipped", Description: "Groups past spec.kafkaExporter.maxPartitions, not exported.",
			Queries: []query{{metrics.LagSkippedGroups, "{{namespace}} {{pod}}"}}},
	}}
}
