package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
)

// ReassignmentPlan returns the new replica list of every partition whose replica count is not
// rf. Replicas stay in order and the partition's leader is never removed, so no leadership moves
// and clients notice nothing; new replicas go to the brokers that hold the fewest replicas of the
// topic (ties by broker ID), never twice to one broker.
func ReassignmentPlan(assignment map[int32][]int32, leaders map[int32]int32, brokers []int32, rf int32) (map[int32][]int32, error) {
	if rf < 1 {
		return nil, fmt.Errorf("replication factor %d is below 1", rf)
	}
	if int(rf) > len(brokers) {
		return nil, fmt.Errorf("replication factor %d needs %d brokers; the cluster has %d", rf, rf, len(brokers))
	}
	load := map[int32]int{}
	for _, b := range brokers {
		load[b] = 0
	}
	for _, replicas := range assignment {
		for _, b := range replicas {
			load[b]++
		}
	}
	parts := make([]int32, 0, len(assignment))
	for p := range assignment {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	plan := map[int32][]int32{}
	for _, p := range parts {
		cur := assignment[p]
		if int32(len(cur)) == rf {
			continue
		}
		next := slices.Clone(cur)
		for int32(len(next)) > rf {
			drop := -1
			for i := len(next) - 1; i >= 0; i-- {
				if l, ok := leaders[p]; !ok || next[i] != l {
					drop = i
					break
				}
			}
			load[next[drop]]--
			next = slices.Delete(next, drop, drop+1)
		}
		for int32(len(next)) < rf {
			candidates := make([]int32, 0, len(brokers))
			for _, b := range brokers {
				if !slices.Contains(next, b) {
					candidates = append(candidates, b)
				}
			}
			sort.Slice(candidates, func(i, j int) bool {
				if load[candidates[i]] != load[candidates[j]] {
					return load[candidates[i]] < load[candidates[j]]
				}
				return candidates[i] < candidates[j]
			})
			next = append(next, candidates[0])
			load[candidates[0]]++
		}
		plan[p] = next
	}
	return plan, nil
}

// Reassign asks Kafka to move the topic's partitions to the plan's replicas.
func (a *Admin) Reassign(ctx context.Context, topic string, plan map[int32][]int32) error {
	var req kadm.AlterPartitionAssignmentsReq
	for p, replicas := range plan {
		req.Assign(topic, p, replicas)
	}
	resp, err := a.adm.AlterPartitionAssignments(ctx, req)
	if err != nil {
		return fmt.Errorf("reassigning the partitions of %s: %w", topic, err)
	}
	var errs []error
	resp.Each(func(r kadm.AlterPartitionAssignmentsResponse) {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("reassigning %s-%d: %w", r.Topic, r.Partition, r.Err))
		}
	})
	return errors.Join(errs...)
}

// Reassigning reports whether Kafka is moving replicas of the topic's partitions.
func (a *Admin) Reassigning(ctx context.Context, topic string, partitions int32) (bool, error) {
	set := kadm.TopicsSet{}
	for p := range partitions {
		set.Add(topic, p)
	}
	resp, err := a.adm.ListPartitionReassignments(ctx, set)
	if err != nil {
		return false, fmt.Errorf("listing reassignments of %s: %w", topic, err)
	}
	ongoing := false
	resp.Each(func(r kadm.ListPartitionReassignmentsResponse) {
		if r.Topic == topic && (len(r.AddingReplicas) > 0 || len(r.RemovingReplicas) > 0) {
			ongoing = true
		}
	})
	return ongoing, nil
}
