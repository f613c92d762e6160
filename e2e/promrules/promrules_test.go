package promrules

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/pkg/metrics"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := build.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var promParser = parser.NewParser(parser.Options{})

// loadRules renders and validates the rules file as `promtool check rules` does: the groups
// format with no unknown field, every expression parsed, every label and annotation template
// parsed by Prometheus' template engine.
func loadRules(t *testing.T) []rulefmt.Rule {
	t.Helper()
	rendered, err := RenderRules(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(rendered, false, model.UTF8Validation, promParser, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("rules: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	var out []rulefmt.Rule
	for _, g := range groups.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// TestRulesAreValid is `promtool check rules` on the rendered file: it also wants a summary,
// a description and a runbook on every alert, and a known severity.
func TestRulesAreValid(t *testing.T) {
	rs := loadRules(t)
	if len(rs) == 0 {
		t.Fatal("no rules")
	}
	for _, r := range rs {
		for _, k := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[k] == "" {
				t.Errorf("%s has no %s", r.Alert, k)
			}
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s has severity %q", r.Alert, s)
		}
	}
}

// TestDashboardQueriesParse: every panel's query is valid PromQL.
func TestDashboardQueriesParse(t *testing.T) {
	qs, err := DashboardQueries(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 40 {
		t.Fatalf("%d dashboard queries: the dashboards were not found", len(qs))
	}
	for _, q := range qs {
		if _, err := promParser.ParseExpr(q.Expr); err != nil {
			t.Errorf("%s / %s: %q: %v", q.Dashboard, q.Panel, q.Expr, err)
		}
	}
}

// Synthetic series: a Kafka node's labels as the chart's PodMonitor gives them, and an
// operator's.
func node(pod string, broker bool) string {
	return fmt.Sprintf(`job="kafka", namespace="ns", pod=%q, kafkaplane_io_cluster="c", kafkaplane_io_broker_role="%t", kafkaplane_io_controller_role="%t"`, pod, broker, !broker)
}

const operator = `job="kafkaplane-cluster-operator", namespace="kafkaplane", pod="co-0"`

// alertCase is one evaluation of an alert on series loaded every minute (promqltest's load
// syntax): evaluated every minute from 0 to At, as promtool test rules does; Firing are the
// label values the firing alerts must have (one map per alert; none: must not fire).
type alertCase struct {
	Alert, Name string
	Series      []string
	At          time.Duration
	Firing      []map[string]string
}

var alertCases = []alertCase{
	{"KafkaBrokerDown", "a broker stops answering", []string{
		`up{` + node("c-brokers-0", true) + `} 1 1 0x8`, `up{` + node("c-brokers-1", true) + `} 1x10`}, 4 * time.Minute,
		[]map[string]string{{"pod": "c-brokers-0"}}},
	{"KafkaBrokerDown", "the controllers fence a broker", []string{
		`up{` + node("c-brokers-0", true) + `} 1x10`, `kafka_controller_kafkacontroller_fencedbrokercount{` + node("c-controllers-3", false) + `} 0 1x9`}, 4 * time.Minute,
		[]map[string]string{{"kafkaplane_io_cluster": "c"}}},
	{"KafkaBrokerDown", "every broker up", []string{
		`up{` + node("c-brokers-0", true) + `} 1x10`, `kafka_controller_kafkacontroller_fencedbrokercount{` + node("c-controllers-3", false) + `} 0x10`}, 8 * time.Minute, nil},
	{"KafkaBrokerDown", "down for less than its for", []string{`up{` + node("c-brokers-0", true) + `} 1 1 1 0x8`}, 3 * time.Minute, nil},

	{"KafkaOfflinePartitions", "partitions lose their leader", []string{
		`kafka_controller_kafkacontroller_offlinepartitionscount{` + node("c-controllers-3", false) + `} 0 3x9`}, 4 * time.Minute,
		[]map[string]string{{"namespace": "ns", "kafkaplane_io_cluster": "c"}}},
	{"KafkaOfflinePartitions", "none offline", []string{`kafka_controller_kafkacontroller_offlinepartitionscount{` + node("c-controllers-3", false) + `} 0x10`}, 8 * time.Minute, nil},

	{"KafkaUnderMinISRPartitions", "a broker's partitions under min ISR", []string{
		`kafka_server_replicamanager_underminisrpartitioncount{` + node("c-brokers-0", true) + `} 0x10`,
		`kafka_server_replicamanager_underminisrpartitioncount{` + node("c-brokers-1", true) + `} 0 0 2x8`}, 5 * time.Minute,
		[]map[string]string{{"kafkaplane_io_cluster": "c"}}},
	{"KafkaUnderMinISRPartitions", "none", []string{`kafka_server_replicamanager_underminisrpartitioncount{` + node("c-brokers-0", true) + `} 0x10`}, 8 * time.Minute, nil},

	{"KafkaUnderReplicatedPartitions", "under-replicated for 7 minutes", []string{
		`kafka_server_replicamanager_underreplicatedpartitions{` + node("c-brokers-0", true) + `} 0 4x12`}, 8 * time.Minute,
		[]map[string]string{{"kafkaplane_io_cluster": "c"}}},
	{"KafkaUnderReplicatedPartitions", "a roll's few minutes", []string{
		`kafka_server_replicamanager_underreplicatedpartitions{` + node("c-brokers-0", true) + `} 0 4 4 4 0x8`}, 8 * time.Minute, nil},

	{"KafkaNoActiveController", "no controller is active", []string{
		`kafka_controller_kafkacontroller_activecontrollercount{` + node("c-controllers-3", false) + `} 1 0x9`,
		`kafka_controller_kafkacontroller_activecontrollercount{` + node("c-controllers-4", false) + `} 0x10`}, 4 * time.Minute,
		[]map[string]string{{"kafkaplane_io_cluster": "c"}}},
	{"KafkaNoActiveController", "one active", []string{
		`kafka_controller_kafkacontroller_activecontrollercount{` + node("c-controllers-3", false) + `} 0x10`,
		`kafka_controller_kafkacontroller_activecontrollercount{` + node("c-controllers-4", false) + `} 1x10`}, 8 * time.Minute, nil},

	{"KafkaQuorumWithoutMajority", "two of three controllers down", []string{
		`up{` + node("c-controllers-3", false) + `} 1x10`, `up{` + node("c-controllers-4", false) + `} 1 0x9`, `up{` + node("c-controllers-5", false) + `} 1 0x9`}, 4 * time.Minute,
		[]map[string]string{{"kafkaplane_io_cluster": "c"}}},
	{"KafkaQuorumWithoutMajority", "no controller sees a leader", []string{
		`up{` + node("c-controllers-3", false) + `} 1x10`, `kafka_server_raftmetrics_current_leader{` + node("c-controllers-3", false) + `} 3 -1x9`}, 4 * time.Minute,
		[]map[string]string{{"kafkaplane_io_cluster": "c"}}},
	{"KafkaQuorumWithoutMajority", "one of three down, a leader seen", []string{
		`up{` + node("c-controllers-3", false) + `} 1x10`, `up{` + node("c-controllers-4", false) + `} 1x10`, `up{` + node("c-controllers-5", false) + `} 1 0x9`,
		`kafka_server_raftmetrics_current_leader{` + node("c-controllers-3", false) + `} 4x10`}, 8 * time.Minute, nil},

	{"KafkaplaneOperatorDown", "down for 6 minutes", []string{`up{` + operator + `} 1 0x9`}, 7 * time.Minute, []map[string]string{{"pod": "co-0"}}},
	{"KafkaplaneOperatorDown", "down for 3 minutes", []string{`up{` + operator + `} 1 0x9`}, 4 * time.Minute, nil},

	{"KafkaplaneReconcileErrors", "errors for 20 minutes", []string{metrics.ReconcilesTotal + `{` + operator + `, controller="kafka", result="error"} 0+1x30`}, 20 * time.Minute,
		[]map[string]string{{"controller": "kafka"}}},
	{"KafkaplaneReconcileErrors", "old errors only", []string{metrics.ReconcilesTotal + `{` + operator + `, controller="kafka", result="error"} 5x30`}, 20 * time.Minute, nil},

	{"KafkaplaneReconcileStalled", "a reconcile running for 400 s", []string{metrics.WorkqueueLongestRunning + `{` + operator + `, name="kafka"} 400x10`}, 7 * time.Minute,
		[]map[string]string{{"name": "kafka"}}},
	{"KafkaplaneReconcileStalled", "short reconciles", []string{metrics.WorkqueueLongestRunning + `{` + operator + `, name="kafka"} 10x10`}, 7 * time.Minute, nil},

	// Synthetic time starts at the Unix epoch: a certificate expiring on day 10 is close.
	{"KafkaplaneCertificateExpiring", "expires in 10 days", []string{metrics.CertificateExpiry + `{` + operator + `, cluster="c", certificate="cluster-ca"} 864000x70`}, 65 * time.Minute,
		[]map[string]string{{"certificate": "cluster-ca"}}},
	{"KafkaplaneCertificateExpiring", "expires in 100 days", []string{metrics.CertificateExpiry + `{` + operator + `, cluster="c", certificate="cluster-ca"} 8640000x70`}, 65 * time.Minute, nil},

	{"KafkaConsumerGroupLagHigh", "20,000 records behind", []string{metrics.ConsumerGroupLag + `{namespace="ns", consumergroup="g", topic="t", partition="0"} 20000x20`}, 12 * time.Minute,
		[]map[string]string{{"consumergroup": "g", "topic": "t"}}},
	{"KafkaConsumerGroupLagHigh", "500 records behind", []string{metrics.ConsumerGroupLag + `{namespace="ns", consumergroup="g", topic="t", partition="0"} 500x20`}, 12 * time.Minute, nil},

	{"KafkaplaneLagReadFailing", "failing for 12 minutes", []string{metrics.LagReadFailed + `{namespace="ns", pod="to-0"} 1x20`}, 12 * time.Minute, []map[string]string{{"pod": "to-0"}}},
	{"KafkaplaneLagReadFailing", "reads succeed", []string{metrics.LagReadFailed + `{namespace="ns", pod="to-0"} 0x20`}, 12 * time.Minute, nil},
}

// TestAlerts is `promtool test rules` for every alert: each fires on the series it is for (with
// the labels its description names) once its for: has passed, and stays quiet on healthy series
// or before then; every alert has both kinds of case.
func TestAlerts(t *testing.T) {
	byName := map[string]rulefmt.Rule{}
	for _, r := range loadRules(t) {
		byName[r.Alert] = r
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, c := range alertCases {
		r, ok := byName[c.Alert]
		if !ok {
			t.Errorf("case for %s, which is not in the rules", c.Alert)
			continue
		}
		t.Run(c.Alert+"/"+c.Name, func(t *testing.T) {
			got := evalAlert(t, r, c)
			if len(got) != len(c.Firing) {
				t.Fatalf("at %s: %d firing %v, want %d %v", c.At, len(got), got, len(c.Firing), c.Firing)
			}
			for i, want := range c.Firing {
				for k, v := range want {
					if got[i].Get(k) != v {
						t.Errorf("alert %d: %s=%q, want %q (labels %v)", i, k, got[i].Get(k), v, got[i])
					}
				}
			}
		})
		if len(c.Firing) > 0 {
			fires[c.Alert] = true
		} else {
			quiet[c.Alert] = true
		}
	}
	var missing []string
	for name := range byName {
		if !fires[name] || !quiet[name] {
			missing = append(missing, fmt.Sprintf("%s (firing case %t, quiet case %t)", name, fires[name], quiet[name]))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("alerts without both a firing and a quiet case: %s", strings.Join(missing, "; "))
	}
}

// evalAlert loads the case's series and evaluates the rule every minute up to c.At, returning
// the labels of the alerts firing then, sorted.
func evalAlert(t *testing.T, r rulefmt.Rule, c alertCase) []labels.Labels {
	t.Helper()
	st := promqltest.LoadedStorage(t, "load 1m\n  "+strings.Join(c.Series, "\n  "))
	t.Cleanup(func() { st.Close() })
	engine := promqltest.NewTestEngine(t, false, 0, 10000)
	expr, err := promParser.ParseExpr(r.Expr)
	if err != nil {
		t.Fatal(err)
	}
	rule := rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For), time.Duration(r.KeepFiringFor),
		labels.FromMap(r.Labels), labels.FromMap(r.Annotations), labels.EmptyLabels(), "", true, slog.New(slog.DiscardHandler))
	query := rules.EngineQueryFunc(engine, st)
	for ts := time.Duration(0); ts <= c.At; ts += time.Minute {
		if _, err := rule.Eval(context.Background(), 0, time.Unix(0, 0).Add(ts), query, nil, 0); err != nil {
			t.Fatalf("evaluating %s at %s: %v", r.Alert, ts, err)
		}
	}
	var out []labels.Labels
	for _, a := range rule.ActiveAlerts() {
		if a.State == rules.StateFiring {
			out = append(out, a.Labels)
		}
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i], out[j]) < 0 })
	return out
}
