package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/e2e/promrules"
	"github.com/kafkaplane/kafkaplane/e2e/promserver"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/metrics"
)

// exampleMetricsConfigMap is the ConfigMap kafka-metrics of deploy/examples/tls-cluster.yaml
// (the JMX exporter's rules we ship), to create in namespace ns.
func exampleMetricsConfigMap(t *testing.T, ns string) *corev1.ConfigMap {
	t.Helper()
	root, err := build.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "deploy", "examples", "tls-cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range bytes.Split(b, []byte("\n---\n")) {
		var cm corev1.ConfigMap
		if err := yaml.Unmarshal(doc, &cm); err != nil || cm.Kind != "ConfigMap" || cm.Name != "kafka-metrics" {
			continue
		}
		cm.Namespace = ns
		return &cm
	}
	t.Fatal("deploy/examples/tls-cluster.yaml has no ConfigMap kafka-metrics")
	return nil
}

// Metric names each role must serve with the shipped rules: what the alerts and dashboards are
// built on (the test also checks every kafka_ name they use, from the chart's files).
var (
	brokerMetrics = []string{
		"kafka_server_replicamanager_underreplicatedpartitions", "kafka_server_replicamanager_underminisrpartitioncount",
		"kafka_server_replicamanager_partitioncount", "kafka_server_replicamanager_leadercount",
		"kafka_server_kafkaserver_brokerstate",
		"kafka_server_brokertopicmetrics_messagesin_total", "kafka_server_brokertopicmetrics_bytesin_total", "kafka_server_brokertopicmetrics_bytesout_total",
		"kafka_network_requestmetrics_requests_total", "kafka_network_requestmetrics_total_time_ms",
		"kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent", "kafka_network_socketserver_networkprocessoravgidlepercent",
		"kafka_log_log_size", "kafka_cluster_partition_underreplicated",
		"kafka_server_raftmetrics_current_leader", "kafka_server_raftmetrics_high_watermark",
		"jvm_memory_used_bytes", "jvm_gc_collection_seconds_count", "process_cpu_seconds_total",
	}
	controllerMetrics = []string{
		"kafka_controller_kafkacontroller_activecontrollercount", "kafka_controller_kafkacontroller_offlinepartitionscount",
		"kafka_controller_kafkacontroller_globalpartitioncount", "kafka_controller_kafkacontroller_activebrokercount",
		"kafka_controller_kafkacontroller_fencedbrokercount",
		"kafka_server_raftmetrics_current_leader", "kafka_server_raftmetrics_current_epoch", "kafka_server_raftmetrics_high_watermark",
		"kafka_server_raftmetrics_log_end_offset", "kafka_server_raftmetrics_commit_latency_avg",
		"jvm_memory_used_bytes", "process_cpu_seconds_total",
	}
)

// nodesServeMetrics: every node of the example cluster, started with the jmx-exporter image's
// init container (the pinned agent copied by its static cp), serves Prometheus metrics on 9404
// with the shipped rules: the names each role needs, and every Kafka metric name the chart's
// dashboards and alerts use (from their generated files).
func nodesServeMetrics(t *testing.T, f *framework.Framework, ns string) {
	ctx := t.Context()
	pods, err := f.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "kafkaplane.io/cluster=c,kafkaplane.io/kind=Kafka"})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]map[string]bool{"broker": {}, "controller": {}}
	for _, p := range pods.Items {
		if _, node := p.Labels[v1beta1.LabelBrokerRole]; !node {
			continue // the entity operators
		}
		if len(p.Spec.InitContainers) != 1 || !strings.HasPrefix(p.Spec.InitContainers[0].Image, v1beta1.ContainerImageRegistry+"/"+v1beta1.ImageJMXExporter+":") {
			t.Fatalf("pod %s init containers %v: want the jmx-exporter image's", p.Name, p.Spec.InitContainers)
		}
		role := "controller"
		if p.Labels[v1beta1.LabelBrokerRole] == "true" {
			role = "broker"
		}
		var sc scrape
		framework.Eventually(t, 2*time.Minute, "metrics of "+p.Name, func() (bool, error) {
			sc, err = scrapeNames(ctx, fmt.Sprintf("http://%s:%d/metrics", p.Status.PodIP, v1beta1.PortMetrics))
			return err == nil && len(sc.names) > 0, err
		})
		for n := range sc.names {
			served[role][n] = true
		}
		t.Logf("%s (%s): %d metric names, %d samples, %d KiB, scraped in %s", p.Name, role, len(sc.names), sc.samples, sc.bytes>>10, sc.took.Round(time.Millisecond))
	}
	for role, names := range served {
		t.Logf("%ss serve %v", role, kafkaNames(names))
	}
	for role, want := range map[string][]string{"broker": brokerMetrics, "controller": controllerMetrics} {
		var missing []string
		for _, n := range want {
			if !served[role][n] {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%ss do not serve %v; they serve: %v", role, missing, kafkaNames(served[role]))
		}
	}
	// Every Kafka metric the dashboards and alerts query is served by some node (the consumer
	// lag's are the topic operator's).
	root, err := build.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range chartKafkaMetricNames(t, root) {
		if !served["broker"][name] && !served["controller"][name] {
			t.Errorf("the chart queries %s, which no node serves", name)
		}
	}
}

// kafkaNames lists the kafka_ names of a set, sorted.
func kafkaNames(set map[string]bool) []string {
	var out []string
	for n := range set {
		if strings.HasPrefix(n, "kafka_") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// chartKafkaMetricName finds a Kafka metric name in a query: kafka_ then lower-case words.
var chartKafkaMetricName = regexp.MustCompile(`\bkafka_[a-z0-9_]+\b`)

// lagMetrics are the Kafka Exporter's names, which the topic operator serves, not the nodes.
var lagMetrics = []string{metrics.ConsumerGroupOffset, metrics.ConsumerGroupLag, metrics.ConsumerGroupLagSecond, metrics.PartitionEndOffset}

// chartKafkaMetricNames are the Kafka metric names the chart's dashboards and alert rules use
// (histogram and summary suffixes are the series Prometheus gets, as served).
func chartKafkaMetricNames(t *testing.T, root string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "charts", "kafkaplane", "files", "dashboards", "*.json"))
	files = append(files, filepath.Join(root, "charts", "kafkaplane", "files", "alerts", "kafkaplane.rules.yaml"))
	set := map[string]bool{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range chartKafkaMetricName.FindAllString(string(b), -1) {
			if !slices.Contains(lagMetrics, m) {
				set[m] = true
			}
		}
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// scrape is what one scrape of an exposition returned.
type scrape struct {
	names          map[string]bool
	samples, bytes int
	took           time.Duration
}

// scrapeNames reads a Prometheus text exposition and returns its sample names, sample count,
// size and the time it took.
func scrapeNames(ctx context.Context, url string) (scrape, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return scrape{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return scrape{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return scrape{}, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return scrape{}, err
	}
	out := scrape{names: map[string]bool{}, bytes: len(body), took: time.Since(start)}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			out.names[line[:i]] = true
			out.samples++
		}
	}
	return out, sc.Err()
}

// startPrometheus runs a real Prometheus that discovers the namespace's Kafka nodes as the
// chart's PodMonitor does, scrapes the cluster operator at coAddr, and evaluates the chart's
// rules (rendered with the default values).
func startPrometheus(t *testing.T, f *framework.Framework, ns, coAddr string) *promserver.Server {
	t.Helper()
	root, err := build.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := promrules.RenderRules(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	writeAdminKubeconfig(t, f, kc)
	start := time.Now()
	s, err := promserver.Start(t.Context(), promserver.Options{Dir: filepath.Join(dir, "prometheus"), LogDir: dir, Kubeconfig: kc,
		Namespaces: []string{ns}, Static: map[string][]string{"kafkaplane-cluster-operator": {coAddr}}, Rules: rules, Interval: promInterval})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Prometheus at %s (started in %s, build included)", s.URL, time.Since(start).Round(time.Second))
	t.Cleanup(s.Stop)
	return s
}

// promInterval is the live Prometheus' scrape and evaluation interval.
const promInterval = 10 * time.Second

// noDataHere are the series (by name, or by selector) a dashboard or alert may find empty in
// this test, and why.
var noDataHere = map[string]string{
	metrics.ConsumerGroupLag: "no spec.kafkaExporter here", metrics.ConsumerGroupLagSecond: "no spec.kafkaExporter here",
	metrics.ConsumerGroupOffset: "no spec.kafkaExporter here", metrics.PartitionEndOffset: "no spec.kafkaExporter here",
	metrics.LagReadDuration: "no spec.kafkaExporter here", metrics.LagReadFailed: "no spec.kafkaExporter here",
	metrics.LagSkippedGroups: "no spec.kafkaExporter here",
	// A labelled series that appears with its first sample.
	metrics.ReconcilesTotal + `{result="error"}`: "no reconcile of the cluster operator failed (the series appears with the first failure)",
}

// liveQueries: with Prometheus scraping the six nodes and the cluster operator, every
// dashboard panel's query returns data, and every series an alert's expression selects exists,
// except those noDataHere lists (each logged with its reason).
func liveQueries(t *testing.T, prom *promserver.Server) {
	ctx := t.Context()
	framework.Eventually(t, 3*time.Minute, "Prometheus scraping 6 Kafka nodes and the cluster operator", func() (bool, error) {
		tg, err := prom.Targets(ctx)
		if err != nil {
			return false, err
		}
		return tg[promserver.KafkaJob]["up"] == 6 && tg["kafkaplane-cluster-operator"]["up"] == 1, fmt.Errorf("targets %v", tg)
	})
	// Two scrapes at least, for rate().
	time.Sleep(3 * promInterval)
	root, err := build.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	qs, err := promrules.DashboardQueries(root)
	if err != nil {
		t.Fatal(err)
	}
	p := parser.NewParser(parser.Options{})
	withData, excused := 0, 0
	// missingSelectors are the vector selectors of expr with no series now.
	missingSelectors := func(expr string) []string {
		e, err := p.ParseExpr(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		var out []string
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				if res, err := prom.Query(ctx, "count("+vs.String()+")"); err != nil || len(res) == 0 {
					out = append(out, vs.String())
				}
			}
			return nil
		})
		return out
	}
	excuse := func(sels []string) (string, bool) {
		for _, s := range sels {
			name, _, _ := strings.Cut(s, "{")
			if r, ok := noDataHere[s]; ok {
				return r, true
			}
			if r, ok := noDataHere[name]; ok {
				return r, true
			}
		}
		return "", false
	}
	for _, q := range qs {
		res, err := prom.Query(ctx, q.Expr)
		if err != nil {
			t.Errorf("%s / %s: %q: %v", q.Dashboard, q.Panel, q.Expr, err)
			continue
		}
		if len(res) > 0 {
			withData++
			continue
		}
		missing := missingSelectors(q.Expr)
		if why, ok := excuse(missing); ok {
			excused++
			t.Logf("no data, as expected (%s): %s / %s", why, q.Dashboard, q.Panel)
			continue
		}
		t.Errorf("%s / %s returns no data: %q (selectors without series: %v)", q.Dashboard, q.Panel, q.Expr, missing)
	}
	t.Logf("dashboards: %d of %d queries return data, %d without data for a reason given", withData, len(qs), excused)
	rendered, err := promrules.RenderRules(root)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
				Expr  string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(rendered, &file); err != nil {
		t.Fatal(err)
	}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			missing := missingSelectors(r.Expr)
			if len(missing) == 0 {
				continue
			}
			if why, ok := excuse(missing); ok {
				t.Logf("alert %s: no series, as expected (%s)", r.Alert, why)
				continue
			}
			t.Errorf("alert %s selects series that do not exist: %v", r.Alert, missing)
		}
	}
	// Healthy: no Kafka alert is active.
	alerts, err := prom.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if strings.HasPrefix(a.Name, "Kafka") && !strings.HasPrefix(a.Name, "Kafkaplane") {
			t.Errorf("alert %s is %s on a healthy cluster: %v", a.Name, a.State, a.Labels)
		}
	}
}

// waitAlert waits until alert name is in state ("pending" also accepts "firing"), and returns
// when it was seen so.
func waitAlert(ctx context.Context, prom *promserver.Server, name, state string, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	var seen []string
	for {
		alerts, err := prom.Alerts(ctx)
		seen = seen[:0]
		for _, a := range alerts {
			if a.Name == name && (a.State == state || state == "pending" && a.State == "firing") {
				return time.Now(), nil
			}
			seen = append(seen, a.Name+":"+a.State)
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("alert %s not %s after %s (active: %v, last error: %v)", name, state, timeout, seen, err)
		}
		time.Sleep(time.Second)
	}
}

// brokerCutFiresAlerts: with a broker's network cut off, the chart's alerts, evaluated by a real
// Prometheus on the real cluster, say so — KafkaBrokerDown fires within its for: (1m) plus a
// scrape and an evaluation (the broker's scrape fails and the controllers fence it), and
// KafkaUnderReplicatedPartitions becomes active once its partitions' ISR shrinks
// (replica.lag.time.max.ms, 30 s; it fires after its for: of 5m, which the promrules tests cover
// on synthetic series). Once the link is back, the alerts end and the cluster is Ready.
func brokerCutFiresAlerts(t *testing.T, f *framework.Framework, ns string, prom *promserver.Server) {
	ctx := t.Context()
	victim := "c-brokers-1"
	setNetcut(t, f, ns, victim, true)
	cutAt := time.Now()
	healed := false
	defer func() {
		if !healed {
			setNetcut(t, f, ns, victim, false)
		}
	}()
	timeout := time.Minute + 3*promInterval + 30*time.Second
	firing, err := waitAlert(ctx, prom, "KafkaBrokerDown", "firing", timeout)
	if err != nil {
		t.Fatalf("%v; %s", err, promDiagnosis(ctx, prom))
	}
	t.Logf("KafkaBrokerDown firing %s after the cut", firing.Sub(cutAt).Round(time.Second))
	active, err := waitAlert(ctx, prom, "KafkaUnderReplicatedPartitions", "pending", timeout)
	if err != nil {
		t.Fatalf("%v; %s", err, promDiagnosis(ctx, prom))
	}
	t.Logf("KafkaUnderReplicatedPartitions active %s after the cut", active.Sub(cutAt).Round(time.Second))
	setNetcut(t, f, ns, victim, false)
	healed = true
	waitKafkaReady(t, f, ns, "c", 5*time.Minute)
	framework.Eventually(t, 2*time.Minute+3*promInterval, "KafkaBrokerDown to end", func() (bool, error) {
		alerts, err := prom.Alerts(ctx)
		if err != nil {
			return false, err
		}
		for _, a := range alerts {
			if a.Name == "KafkaBrokerDown" {
				return false, fmt.Errorf("still %s", a.State)
			}
		}
		return true, nil
	})
}

// stillScraped: after the steps that replaced every pod (rolls, a new CA, scale-down, upgrade,
// quorum changes), Prometheus still discovers and scrapes every node.
func stillScraped(t *testing.T, prom *promserver.Server, nodes int) {
	ctx := t.Context()
	var last map[string]map[string]int
	deadline := time.Now().Add(time.Minute + 3*promInterval)
	for {
		tg, err := prom.Targets(ctx)
		if err == nil && tg[promserver.KafkaJob]["up"] == nodes && len(tg[promserver.KafkaJob]) == 1 {
			return
		}
		last = tg
		if time.Now().After(deadline) {
			t.Fatalf("Kafka targets %v, want %d up; %s", last, nodes, promDiagnosis(ctx, prom))
		}
		time.Sleep(2 * time.Second)
	}
}

// promDiagnosis says what Prometheus sees of the Kafka nodes: its targets with their health and
// last error, and the alerts.
func promDiagnosis(ctx context.Context, prom *promserver.Server) string {
	var b strings.Builder
	ts, err := prom.TargetDetails(ctx)
	fmt.Fprintf(&b, "targets (err %v):", err)
	for _, t := range ts {
		fmt.Fprintf(&b, " [%s %s %s %q]", t.Job, t.Labels["pod"], t.Health, t.LastError)
	}
	alerts, err := prom.Alerts(ctx)
	fmt.Fprintf(&b, "; alerts (err %v):", err)
	for _, a := range alerts {
		fmt.Fprintf(&b, " %s:%s", a.Name, a.State)
	}
	return b.String()
}

// setNetcut cuts a pod's network (the harness kubelet's netcut fault) or restores it.
func setNetcut(t *testing.T, f *framework.Framework, ns, pod string, on bool) {
	t.Helper()
	v := "null"
	if on {
		v = `"netcut"`
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, kubelet.FaultAnnotation, v)
	if _, err := f.Kube.CoreV1().Pods(ns).Patch(t.Context(), pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}
