// Package roller decides which Kafka node may restart next without hurting availability: one
// node at a time; nodes that are not ready first (restarting them cannot make things worse);
// controllers before brokers; the active quorum leader last; a broker only when no partition it
// is in-sync for would fall below min.insync.replicas; a controller only when the caught-up
// voters left keep a majority. The decisions are pure functions of what the Kafka admin API
// reports, so they are tested with tables; the roller that restarts pods builds on them.
package roller

import (
	"fmt"
	"slices"
	"sort"
)

// Node is a Kafka node as the roller sees it.
type Node struct {
	ID                 int32
	Broker, Controller bool
	// Ready is the pod's readiness.
	Ready bool
	// Reasons it must restart (config or certificate change, manual annotation…); none means no
	// restart is needed.
	Reasons []string
}

// Partition is a partition's replicas and in-sync replicas with its topic's min.insync.replicas.
type Partition struct {
	Topic     string
	Partition int32
	Replicas  []int32
	ISR       []int32
	MinISR    int
}

// Voter is a controller quorum voter and whether it has caught up with the leader.
type Voter struct {
	ID       int32
	CaughtUp bool
}

// Quorum is the KRaft controller quorum: its leader and voters.
type Quorum struct {
	Leader int32
	Voters []Voter
}

// Order returns the nodes that need a restart in the order to try them: not-ready nodes first,
// then controllers (combined nodes count as controllers) with the active quorum leader last
// among them, then brokers — controllers before brokers, so that brokers restart against a
// quorum already on the new revision, as Strimzi's roller does; by ID within a group, so that
// the order is stable across reconciles.
func Order(nodes []Node, q Quorum) []Node {
	var out []Node
	for _, n := range nodes {
		if len(n.Reasons) > 0 {
			out = append(out, n)
		}
	}
	rank := func(n Node) int {
		switch {
		case !n.Ready:
			return 0
		case n.Controller && n.ID == q.Leader:
			return 2
		case n.Controller:
			return 1
		default:
			return 3
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// CanRestartBroker reports whether broker id can restart now, and if not, why: a partition for
// which it is in sync would be left with fewer in-sync replicas than min.insync.replicas. A
// partition whose replication factor does not exceed min.insync.replicas cannot be kept
// writable through any restart, so it does not block (it would block forever otherwise).
func CanRestartBroker(id int32, partitions []Partition) (bool, string) {
	for _, p := range partitions {
		if !slices.Contains(p.ISR, id) || len(p.Replicas) <= p.MinISR {
			continue
		}
		if len(p.ISR)-1 < p.MinISR {
			return false, fmt.Sprintf("%s-%d would have %d in-sync replicas, below min.insync.replicas=%d",
				p.Topic, p.Partition, len(p.ISR)-1, p.MinISR)
		}
	}
	return true, ""
}

// CanRestartController reports whether controller id can restart now, and if not, why: the
// caught-up voters other than it must still be a majority of the quorum.
func CanRestartController(id int32, q Quorum) (bool, string) {
	isVoter := false
	caughtUp := 0
	for _, v := range q.Voters {
		if v.ID == id {
			isVoter = true
			continue
		}
		if v.CaughtUp {
			caughtUp++
		}
	}
	if !isVoter {
		return true, ""
	}
	if majority := len(q.Voters)/2 + 1; caughtUp < majority {
		return false, fmt.Sprintf("only %d other caught-up voters, a quorum of %d needs %d", caughtUp, len(q.Voters), majority)
	}
	return true, ""
}

// Next picks the node to restart now: the first in Order that is safe. A not-ready node is
// always safe to restart. A broker waits while a controller still needs a restart (one that
// must wait for the quorum to catch up, say), so that controllers always roll before brokers.
// It returns false with the reasons when every candidate must wait.
func Next(nodes []Node, partitions []Partition, q Quorum) (Node, bool, []string) {
	var waits []string
	controllerPending := false
	for _, n := range Order(nodes, q) {
		if !n.Ready {
			return n, true, nil
		}
		if n.Controller {
			if ok, why := CanRestartController(n.ID, q); !ok {
				waits = append(waits, fmt.Sprintf("node %d: %s", n.ID, why))
				controllerPending = true
				continue
			}
		} else if controllerPending {
			waits = append(waits, fmt.Sprintf("node %d: waits until the controllers have restarted", n.ID))
			continue
		}
		if n.Broker {
			if ok, why := CanRestartBroker(n.ID, partitions); !ok {
				waits = append(waits, fmt.Sprintf("node %d: %s", n.ID, why))
				continue
			}
		}
		return n, true, nil
	}
	return Node{}, false, waits
}
