package lag

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
)

// fakeAdmin answers from fixed offsets: per group, topic and partition the commit, and per
// topic and partition the end.
type fakeAdmin struct {
	commits map[string]map[string]map[int32]int64
	ends    map[string]map[int32]int64
	lagCall int
}

func (f *fakeAdmin) ListGroups(context.Context, ...string) (kadm.ListedGroups, error) {
	out := kadm.ListedGroups{}
	for g := range f.commits {
		out[g] = kadm.ListedGroup{Group: g, State: "Empty"}
	}
	return out, nil
}

func (f *fakeAdmin) Lag(_ context.Context, groups ...string) (kadm.DescribedGroupLags, error) {
	f.lagCall++
	out := kadm.DescribedGroupLags{}
	for _, g := range groups {
		gl := kadm.GroupLag{}
		for topic, ps := range f.commits[g] {
			gl[topic] = map[int32]kadm.GroupMemberLag{}
			for p, c := range ps {
				end := f.ends[topic][p]
				gl[topic][p] = kadm.GroupMemberLag{Topic: topic, Partition: p, Commit: kadm.Offset{Topic: topic, Partition: p, At: c},
					End: kadm.ListedOffset{Topic: topic, Partition: p, Offset: end}, Lag: end - c}
			}
		}
		out[g] = kadm.DescribedGroupLag{Group: g, State: "Empty", Lag: gl}
	}
	return out, nil
}

// one is a collector of a single metric, for testutil.ToFloat64.
type one struct{ m prometheus.Metric }

func (o one) Describe(ch chan<- *prometheus.Desc) { ch <- o.m.Desc() }
func (o one) Collect(ch chan<- prometheus.Metric) { ch <- o.m }

func collect(e *Exporter) []prometheus.Metric {
	ch := make(chan prometheus.Metric, 1000)
	e.Collect(ch)
	close(ch)
	var out []prometheus.Metric
	for m := range ch {
		out = append(out, m)
	}
	return out
}

// collectOne is the metric of desc whose label values are values (in desc's label order:
// consumergroup, topic, partition), or a collector of nothing (testutil.ToFloat64 then panics).
func collectOne(e *Exporter, desc *prometheus.Desc, values ...string) prometheus.Collector {
	for _, m := range collect(e) {
		if m.Desc() != desc {
			continue
		}
		var d dto.Metric
		_ = m.Write(&d)
		got := map[string]string{}
		for _, l := range d.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		names := labels
		if desc == descEnd {
			names = labels[1:]
		}
		match := len(got) == len(values)
		for i, v := range values {
			match = match && got[names[i]] == v
		}
		if match {
			return one{m}
		}
	}
	return prometheus.NewPedanticRegistry()
}

func countSeries(e *Exporter, name string) int {
	n := 0
	for _, m := range collect(e) {
		if strings.Contains(m.Desc().String(), `fqName: "`+name+`"`) {
			n++
		}
	}
	return n
}

func TestLagAndItsEstimateInSeconds(t *testing.T) {
	admin := &fakeAdmin{
		commits: map[string]map[string]map[int32]int64{"billing": {"orders": {0: 7, 1: 4}}, "audit": {"orders": {0: 10}}},
		ends:    map[string]map[int32]int64{"orders": {0: 10, 1: 4}},
	}
	groups, _ := Regexp("billing|audit")
	e := New(admin, Options{Groups: groups})
	clock := time.Unix(1000, 0)
	e.now = func() time.Time { return clock }
	if err := e.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	lag := func(group, partition string) float64 {
		t.Helper()
		return testutil.ToFloat64(collectOne(e, descLag, group, "orders", partition))
	}
	if got := lag("billing", "0"); got != 3 {
		t.Errorf("billing's lag on orders-0 = %v, want 3", got)
	}
	if got := lag("billing", "1"); got != 0 {
		t.Errorf("billing's lag on orders-1 = %v, want 0", got)
	}
	// No produce rate known yet: a lag of 3 has no estimate in seconds, a lag of 0 is 0 s.
	if n := countSeries(e, "kafka_consumergroup_lag_seconds"); n != 2 {
		t.Errorf("%d lag_seconds series after one read, want 2 (the two partitions without lag)", n)
	}
	// 20 s later, orders-0 grew by 40 records (2/s) and billing committed 10 more: lag 33, 16.5 s.
	clock = clock.Add(20 * time.Second)
	admin.ends["orders"][0] = 50
	admin.commits["billing"]["orders"][0] = 17
	if err := e.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := lag("billing", "0"); got != 33 {
		t.Errorf("billing's lag on orders-0 = %v, want 33", got)
	}
	if got := testutil.ToFloat64(collectOne(e, descLagSeconds, "billing", "orders", "0")); got != 16.5 {
		t.Errorf("billing's lag in seconds on orders-0 = %v, want 16.5 (33 records at 2/s)", got)
	}
	if got := testutil.ToFloat64(collectOne(e, descLagSeconds, "audit", "orders", "0")); got != 20 {
		t.Errorf("audit's lag in seconds on orders-0 = %v, want 20 (40 records at 2/s)", got)
	}
}

func TestLagSelectsAndBounds(t *testing.T) {
	admin := &fakeAdmin{
		commits: map[string]map[string]map[int32]int64{
			"a": {"orders": {0: 1}, "payments": {0: 0}}, "b": {"orders": {0: 1, 1: 1}}, "c": {"orders": {1: 1}}, "skip-me": {"orders": {0: 0}},
		},
		ends: map[string]map[int32]int64{"orders": {0: 5, 1: 5}, "payments": {0: 9}},
	}
	groups, _ := Regexp("[abc]")
	topics, _ := Regexp("orders")
	e := New(admin, Options{Groups: groups, Topics: topics, MaxPartitions: 2, GroupsPerRequest: 1})
	if err := e.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	// a (orders only: payments is not selected) takes 1 of the 2; b's two partitions do not fit
	// and b is skipped whole, not cut; c's one fits. skip-me is not selected.
	if n := countSeries(e, "kafka_consumergroup_lag"); n != 2 {
		t.Errorf("%d lag series, want 2", n)
	}
	if got := testutil.ToFloat64(collectOne(e, descLag, "a", "orders", "0")); got != 4 {
		t.Errorf("a's lag on orders-0 = %v, want 4", got)
	}
	if got := testutil.ToFloat64(collectOne(e, descLag, "c", "orders", "1")); got != 4 {
		t.Errorf("c's lag on orders-1 = %v, want 4", got)
	}
	if got := testutil.ToFloat64(collectOne(e, descSkipped)); got != 1 {
		t.Errorf("skipped groups = %v, want 1", got)
	}
	// Once the limit is reached, no group is asked about: with a limit of 1, only a is.
	admin.lagCall = 0
	e = New(admin, Options{Groups: groups, Topics: topics, MaxPartitions: 1, GroupsPerRequest: 1})
	if err := e.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	if admin.lagCall != 1 || testutil.ToFloat64(collectOne(e, descSkipped)) != 2 {
		t.Errorf("%d Lag requests and %v groups skipped at a limit of 1, want 1 and 2", admin.lagCall, testutil.ToFloat64(collectOne(e, descSkipped)))
	}
	if _, err := Regexp("("); err == nil {
		t.Error("an invalid regular expression was accepted")
	}
}
