package roller

import (
	"strings"
	"testing"
)

func roll(n Node) Node { n.Reasons = []string{"config changed"}; return n }

func ids(nodes []Node) []int32 {
	out := make([]int32, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

func TestOrder(t *testing.T) {
	nodes := []Node{
		roll(Node{ID: 100, Broker: true, Ready: true}),
		roll(Node{ID: 1, Controller: true, Ready: true}), // quorum leader
		roll(Node{ID: 101, Broker: true, Ready: false}),
		roll(Node{ID: 0, Controller: true, Ready: true}),
		{ID: 102, Broker: true, Ready: true}, // nothing to do
		roll(Node{ID: 2, Controller: true, Broker: true, Ready: true}),
	}
	got := ids(Order(nodes, Quorum{Leader: 1}))
	want := []int32{101, 0, 2, 1, 100}
	if len(got) != len(want) {
		t.Fatalf("Order = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Order = %v, want %v (not ready, controllers with the leader last, brokers)", got, want)
		}
	}
}

func TestCanRestartBroker(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Partition
		ok   bool
	}{
		{"RF3 ISR3 min2", Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, MinISR: 2}, true},
		{"RF3 ISR2 min2: last in-sync pair", Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}, MinISR: 2}, false},
		{"RF3 ISR2 min2, broker out of sync", Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{2, 3}, MinISR: 2}, true},
		{"broker not a replica", Partition{Replicas: []int32{2, 3, 4}, ISR: []int32{2, 3}, MinISR: 2}, true},
		{"RF1 cannot be protected", Partition{Replicas: []int32{1}, ISR: []int32{1}, MinISR: 1}, true},
		{"RF2 min2 cannot be protected", Partition{Replicas: []int32{1, 2}, ISR: []int32{1, 2}, MinISR: 2}, true},
		{"RF2 min1 ISR1", Partition{Replicas: []int32{1, 2}, ISR: []int32{1}, MinISR: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Topic = "orders"
			ok, why := CanRestartBroker(1, []Partition{{Topic: "other", Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, MinISR: 2}, tc.p})
			if ok != tc.ok {
				t.Fatalf("CanRestartBroker = %v (%s), want %v", ok, why, tc.ok)
			}
			if !ok && !strings.Contains(why, "orders-0") {
				t.Errorf("reason %q does not name the partition", why)
			}
		})
	}
}

func TestCanRestartController(t *testing.T) {
	up := func(ids ...int32) []Voter {
		var vs []Voter
		for _, id := range ids {
			vs = append(vs, Voter{ID: id, CaughtUp: true})
		}
		return vs
	}
	for _, tc := range []struct {
		name string
		q    Quorum
		ok   bool
	}{
		{"3 voters all caught up", Quorum{Voters: up(0, 1, 2)}, true},
		{"3 voters, one lagging", Quorum{Voters: append(up(0, 1), Voter{ID: 2})}, false},
		{"5 voters, one lagging", Quorum{Voters: append(up(0, 1, 2, 3), Voter{ID: 4})}, true},
		{"5 voters, two lagging", Quorum{Voters: append(up(0, 1, 2), Voter{ID: 3}, Voter{ID: 4})}, false},
		{"not a voter", Quorum{Voters: up(5, 6, 7)}, true},
		{"single voter", Quorum{Voters: up(0)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ok, why := CanRestartController(0, tc.q); ok != tc.ok {
				t.Fatalf("CanRestartController = %v (%s), want %v", ok, why, tc.ok)
			}
		})
	}
}

func TestNext(t *testing.T) {
	q := Quorum{Leader: 0, Voters: []Voter{{ID: 0, CaughtUp: true}, {ID: 1, CaughtUp: true}, {ID: 2}}}
	parts := []Partition{{Topic: "t", Replicas: []int32{100, 101, 102}, ISR: []int32{100, 101}, MinISR: 2}}
	brokers := []Node{
		roll(Node{ID: 100, Broker: true, Ready: true}), // blocked: t-0 at min ISR
		roll(Node{ID: 102, Broker: true, Ready: true}), // out of sync for t-0: safe
		roll(Node{ID: 101, Broker: true, Ready: true}), // blocked
	}
	n, ok, _ := Next(brokers, parts, q)
	if !ok || n.ID != 102 {
		t.Fatalf("Next = %d, %v; want 102", n.ID, ok)
	}
	// Controllers that still need a restart but must wait (voter 2 lags) hold the brokers back:
	// controllers roll before brokers (a broker was rolled between two controllers before).
	nodes := append([]Node{
		roll(Node{ID: 1, Controller: true, Ready: true}), // blocked: voter 2 lags
		roll(Node{ID: 0, Controller: true, Ready: true}), // leader, blocked too
	}, brokers...)
	if n, ok, waits := Next(nodes, parts, q); ok {
		t.Fatalf("Next = %d while the controllers wait; want to wait (%v)", n.ID, waits)
	} else if len(waits) != 5 {
		t.Fatalf("waits %v, want a reason per node", waits)
	}
	// A node that is not ready goes first, whatever the state.
	nodes = append(nodes, roll(Node{ID: 2, Controller: true, Ready: false}))
	if n, ok, _ := Next(nodes, parts, q); !ok || n.ID != 2 {
		t.Fatalf("Next = %d, %v; want the not-ready 2", n.ID, ok)
	}
	// Everything blocked: wait, with reasons.
	_, ok, waits := Next(brokers[:1], parts, q)
	if ok || len(waits) != 1 {
		t.Fatalf("Next with all blocked = %v, waits %v", ok, waits)
	}
}
