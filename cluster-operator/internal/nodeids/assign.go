package nodeids

import (
	"fmt"
	"slices"
	"sort"
)

// Pool is what assignment needs of a KafkaNodePool.
type Pool struct {
	Name     string
	Replicas int32
	// Current are the pool's node IDs (status.nodeIds, or the IDs of its existing pods).
	Current []int32
	// Next and Remove are the raw kafkaplane.io/next-node-ids and remove-node-ids annotations.
	Next, Remove string
}

// Assign returns each pool's node IDs, sorted. Existing IDs are kept; a pool that shrinks drops
// the IDs its Remove annotation lists first (in that order), then its highest; a pool that grows
// takes IDs from its Next annotation first, then the lowest IDs free in the cluster. An ID that
// any pool holds now is never handed to another pool in the same pass, so a node's identity
// never moves between pools.
func Assign(pools []Pool) (map[string][]int32, error) {
	used := map[int32]string{}
	for _, p := range pools {
		for _, id := range p.Current {
			if owner, dup := used[id]; dup {
				return nil, fmt.Errorf("node ID %d is claimed by pools %s and %s", id, owner, p.Name)
			}
			used[id] = p.Name
		}
	}
	ordered := slices.Clone(pools)
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].Name < ordered[j].Name })

	out := map[string][]int32{}
	for _, p := range ordered {
		if p.Replicas < 0 {
			return nil, fmt.Errorf("pool %s: negative replicas", p.Name)
		}
		ids := slices.Clone(p.Current)
		switch n := int(p.Replicas); {
		case len(ids) > n:
			remove, err := ParseRanges(p.Remove)
			if err != nil {
				return nil, fmt.Errorf("pool %s: remove-node-ids: %w", p.Name, err)
			}
			ids = shrink(ids, n, remove)
		case len(ids) < n:
			next, err := ParseRanges(p.Next)
			if err != nil {
				return nil, fmt.Errorf("pool %s: next-node-ids: %w", p.Name, err)
			}
			for _, id := range grow(used, n-len(ids), next) {
				used[id] = p.Name
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		out[p.Name] = ids
	}
	return out, nil
}

// shrink keeps n of ids, dropping the listed ones first, then the highest.
func shrink(ids []int32, n int, remove []int32) []int32 {
	for _, r := range remove {
		if len(ids) <= n {
			return ids
		}
		if i := slices.Index(ids, r); i >= 0 {
			ids = slices.Delete(ids, i, i+1)
		}
	}
	slices.Sort(ids)
	return ids[:n]
}

// grow picks k free IDs: from next in order, then the lowest free ones.
func grow(used map[int32]string, k int, next []int32) []int32 {
	var out []int32
	taken := func(id int32) bool { _, ok := used[id]; return ok || slices.Contains(out, id) }
	for _, id := range next {
		if len(out) == k {
			return out
		}
		if !taken(id) {
			out = append(out, id)
		}
	}
	for id := int32(0); len(out) < k; id++ {
		if !taken(id) {
			out = append(out, id)
		}
	}
	return out
}
