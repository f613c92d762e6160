// Package promrules reads the chart's Prometheus alerting rules and Grafana dashboards the way
// Helm renders them (the rules file is a template for its thresholds), for the tests that check
// them with Prometheus' own code: rule validation as `promtool check rules` does it, every alert
// evaluated on synthetic series as `promtool test rules` does, and every panel's query parsed
// by the PromQL parser.
package promrules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/template"

	"sigs.k8s.io/yaml"
)

// Chart is the chart's directory under the repository root.
const Chart = "charts/kafkaplane"

// RenderRules renders files/alerts/kafkaplane.rules.yaml with the chart's default values, as
// the chart's PrometheusRule template does (tpl with .Values).
func RenderRules(root string) ([]byte, error) {
	chart := filepath.Join(root, Chart)
	vb, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		return nil, err
	}
	var values map[string]any
	if err := yaml.Unmarshal(vb, &values); err != nil {
		return nil, fmt.Errorf("values.yaml: %w", err)
	}
	src, err := os.ReadFile(filepath.Join(chart, "files", "alerts", "kafkaplane.rules.yaml"))
	if err != nil {
		return nil, err
	}
	tpl, err := template.New("rules").Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("the rules file as a template: %w", err)
	}
	var out bytes.Buffer
	if err := tpl.Execute(&out, map[string]any{"Values": values}); err != nil {
		return nil, fmt.Errorf("rendering the rules file: %w", err)
	}
	return out.Bytes(), nil
}

// Query is one dashboard panel's query.
type Query struct {
	Dashboard, Panel, Expr string
}

// DashboardQueries are the queries of every panel of the chart's dashboards.
func DashboardQueries(root string) ([]Query, error) {
	files, err := filepath.Glob(filepath.Join(root, Chart, "files", "dashboards", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d struct {
			Title  string `json:"title"`
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, p := range d.Panels {
			for _, t := range p.Targets {
				out = append(out, Query{Dashboard: d.Title, Panel: p.Title, Expr: t.Expr})
			}
		}
	}
	return out, nil
}
