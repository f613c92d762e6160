// Package promserver runs a real Prometheus server (built by build.Prometheus) for the harness:
// it discovers a namespace's Kafka node pods through the API server (Kubernetes service
// discovery, role pod) and relabels them as the chart's PodMonitor does, scrapes static
// targets such as an operator's /metrics, evaluates a rules file, and answers instant queries
// and the alert list through its HTTP API.
package promserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
)

// Options configure a server.
type Options struct {
	// Dir holds its configuration and TSDB; LogDir its log.
	Dir, LogDir string
	// Kubeconfig reaches the API server; Namespaces are where Kafka node pods are discovered
	// (every namespace when empty).
	Kubeconfig string
	Namespaces []string
	// Static maps a job name to its host:port targets.
	Static map[string][]string
	// Rules is a rules file (the groups format); empty for none.
	Rules []byte
	// Interval is the scrape and rule evaluation interval (default 10s).
	Interval time.Duration
	Log      io.Writer
}

// Server is a running Prometheus.
type Server struct {
	// URL is its HTTP address, e.g. http://127.0.0.1:40123.
	URL  string
	proc *localcluster.Process
}

// KafkaJob is the scrape job of the Kafka nodes.
const KafkaJob = "kafka"

// Start builds (once, cached) and starts Prometheus, and waits until it is ready.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Interval == 0 {
		o.Interval = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	bin, err := build.Prometheus(o.Log)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	cfg := config(o)
	if len(o.Rules) > 0 {
		if err := os.WriteFile(filepath.Join(o.Dir, "rules.yaml"), o.Rules, 0o644); err != nil {
			return nil, err
		}
		cfg["rule_files"] = []string{filepath.Join(o.Dir, "rules.yaml")}
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cfgFile := filepath.Join(o.Dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, b, 0o644); err != nil {
		return nil, err
	}
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p, err := localcluster.StartProcess("prometheus", o.LogDir, os.Environ(), bin,
		"--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(o.Dir, "data"), "--web.listen-address="+addr,
		"--storage.tsdb.retention.time=2h", "--log.level=warn")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + addr, proc: p}
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get(s.URL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if exited, _ := p.Exited(); exited || time.Now().After(deadline) {
			s.Stop()
			log, _ := os.ReadFile(p.LogFile)
			return nil, fmt.Errorf("promserver: prometheus did not become ready; its log: %s", tail(log, 2048))
		}
		select {
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// config is the Prometheus configuration: the Kafka nodes as the chart's PodMonitor selects and
// labels them (kafkaplane.io/kind=Kafka pods with a broker-role label, port tcp-prometheus; the
// cluster, pool and role labels as kafkaplane_io_*), and the static jobs.
func config(o Options) map[string]any {
	iv := o.Interval.String()
	podLabel := func(l string) string {
		return "__meta_kubernetes_pod_label_" + strings.NewReplacer(".", "_", "/", "_", "-", "_").Replace(l)
	}
	relabel := []map[string]any{
		{"source_labels": []string{podLabel("kafkaplane.io/kind")}, "regex": "Kafka", "action": "keep"},
		{"source_labels": []string{"__meta_kubernetes_pod_labelpresent_kafkaplane_io_broker_role"}, "regex": "true", "action": "keep"},
		{"source_labels": []string{"__meta_kubernetes_pod_container_port_name"}, "regex": "tcp-prometheus", "action": "keep"},
		{"source_labels": []string{"__meta_kubernetes_namespace"}, "target_label": "namespace"},
		{"source_labels": []string{"__meta_kubernetes_pod_name"}, "target_label": "pod"},
	}
	for _, l := range []string{"kafkaplane.io/cluster", "kafkaplane.io/pool", "kafkaplane.io/broker-role", "kafkaplane.io/controller-role"} {
		relabel = append(relabel, map[string]any{"source_labels": []string{podLabel(l)}, "target_label": strings.NewReplacer(".", "_", "/", "_", "-", "_").Replace(l)})
	}
	sd := map[string]any{"role": "pod", "kubeconfig_file": o.Kubeconfig}
	if len(o.Namespaces) > 0 {
		sd["namespaces"] = map[string]any{"names": o.Namespaces}
	}
	jobs := []map[string]any{{
		"job_name":        KafkaJob,
		"scrape_interval": iv, "scrape_timeout": iv,
		"kubernetes_sd_configs": []map[string]any{sd},
		"relabel_configs":       relabel,
	}}
	for job, targets := range o.Static {
		jobs = append(jobs, map[string]any{"job_name": job, "scrape_interval": iv, "scrape_timeout": iv,
			"static_configs": []map[string]any{{"targets": targets}}})
	}
	return map[string]any{
		"global":         map[string]any{"scrape_interval": iv, "evaluation_interval": iv},
		"scrape_configs": jobs,
	}
}

// Stop stops the server.
func (s *Server) Stop() { _ = s.proc.Stop(10 * time.Second) }

// Series is one sample of an instant query's result.
type Series struct {
	Labels map[string]string
	Value  string
}

// Query runs an instant query now and returns its samples (a scalar is one sample without
// labels).
func (s *Server) Query(ctx context.Context, expr string) ([]Series, error) {
	var res struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := s.get(ctx, "/api/v1/query?query="+url.QueryEscape(expr), &res); err != nil {
		return nil, err
	}
	switch res.ResultType {
	case "vector":
		var v []struct {
			Metric map[string]string `json:"metric"`
			Value  []any             `json:"value"`
		}
		if err := json.Unmarshal(res.Result, &v); err != nil {
			return nil, err
		}
		out := make([]Series, 0, len(v))
		for _, e := range v {
			out = append(out, Series{Labels: e.Metric, Value: fmt.Sprint(e.Value[1])})
		}
		return out, nil
	case "scalar":
		var v []any
		if err := json.Unmarshal(res.Result, &v); err != nil {
			return nil, err
		}
		return []Series{{Value: fmt.Sprint(v[1])}}, nil
	default:
		return nil, fmt.Errorf("promserver: %q returned a %s", expr, res.ResultType)
	}
}

// Alert is an active alert.
type Alert struct {
	Name, State string
	Labels      map[string]string
	ActiveAt    time.Time
}

// Alerts lists the pending and firing alerts.
func (s *Server) Alerts(ctx context.Context) ([]Alert, error) {
	var res struct {
		Alerts []struct {
			Labels   map[string]string `json:"labels"`
			State    string            `json:"state"`
			ActiveAt time.Time         `json:"activeAt"`
		} `json:"alerts"`
	}
	if err := s.get(ctx, "/api/v1/alerts", &res); err != nil {
		return nil, err
	}
	var out []Alert
	for _, a := range res.Alerts {
		out = append(out, Alert{Name: a.Labels["alertname"], State: a.State, Labels: a.Labels, ActiveAt: a.ActiveAt})
	}
	return out, nil
}

// Targets counts the active scrape targets per job and their health ("up", "down", …).
func (s *Server) Targets(ctx context.Context) (map[string]map[string]int, error) {
	var res struct {
		ActiveTargets []struct {
			ScrapePool string `json:"scrapePool"`
			Health     string `json:"health"`
		} `json:"activeTargets"`
	}
	if err := s.get(ctx, "/api/v1/targets?state=active", &res); err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	for _, t := range res.ActiveTargets {
		if out[t.ScrapePool] == nil {
			out[t.ScrapePool] = map[string]int{}
		}
		out[t.ScrapePool][t.Health]++
	}
	return out, nil
}

// Target is one active scrape target.
type Target struct {
	Job, Health, LastError string
	Labels                 map[string]string
}

// TargetDetails lists the active scrape targets with their labels, health and last error.
func (s *Server) TargetDetails(ctx context.Context) ([]Target, error) {
	var res struct {
		ActiveTargets []struct {
			ScrapePool string            `json:"scrapePool"`
			Health     string            `json:"health"`
			LastError  string            `json:"lastError"`
			Labels     map[string]string `json:"labels"`
		} `json:"activeTargets"`
	}
	if err := s.get(ctx, "/api/v1/targets?state=active", &res); err != nil {
		return nil, err
	}
	var out []Target
	for _, t := range res.ActiveTargets {
		out = append(out, Target{Job: t.ScrapePool, Health: t.Health, LastError: t.LastError, Labels: t.Labels})
	}
	return out, nil
}

// get calls the HTTP API and decodes its data.
func (s *Server) get(ctx context.Context, path string, data any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("promserver: %w", err)
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("promserver: GET %s: %s: %w", path, resp.Status, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("promserver: GET %s: %s", path, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
