// Package nodeids assigns KRaft node IDs to the pools of a cluster: unique across the cluster,
// stable for existing nodes, non-contiguous when the user asks, taken from and removed in the
// order the kafkaplane.io/next-node-ids and kafkaplane.io/remove-node-ids annotations give.
package nodeids

import (
	"fmt"
	"strconv"
	"strings"
)

// maxID bounds IDs and the length of a list, so that a typo like [0-2000000000], or a range
// repeated many times, cannot exhaust memory.
const maxID = 1 << 20

// ParseRanges reads an ID list such as "[100-199]" or "[3, 5, 10-12]" (brackets optional) into
// IDs in the order given.
func ParseRanges(s string) ([]int32, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int32
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseID(lo)
		if err != nil {
			return nil, fmt.Errorf("node ID list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = parseID(hi); err != nil {
				return nil, fmt.Errorf("node ID list %q: %w", s, err)
			}
			if b < a {
				return nil, fmt.Errorf("node ID list %q: range %s runs backwards", s, part)
			}
		}
		// The whole list is bounded too: 64 copies of [0-1048576] in one annotation would
		// otherwise be 67 million IDs, 256 MiB, for every reconcile of the cluster.
		if len(out)+int(b-a)+1 > maxID+1 {
			return nil, fmt.Errorf("node ID list %q: more than %d IDs", s, maxID+1)
		}
		for id := a; id <= b; id++ {
			out = append(out, id)
		}
	}
	return out, nil
}

func parseID(s string) (int32, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > maxID {
		return 0, fmt.Errorf("%q is not a node ID (0 to %d)", strings.TrimSpace(s), maxID)
	}
	return int32(n), nil
}
