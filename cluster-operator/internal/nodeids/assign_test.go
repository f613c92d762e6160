package nodeids

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRanges(t *testing.T) {
	for in, want := range map[string][]int32{
		"":              nil,
		"[]":            nil,
		"[100-102]":     {100, 101, 102},
		"[3, 5, 10-12]": {3, 5, 10, 11, 12},
		"7":             {7},
	} {
		got, err := ParseRanges(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseRanges(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"[a]", "[5-3]", "[-1]", "[0-2000000000]", "[1,,2]"} {
		if _, err := ParseRanges(bad); err == nil {
			t.Errorf("ParseRanges(%q) accepted", bad)
		}
	}
}

func TestAssign(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pools []Pool
		want  map[string][]int32
		err   string
	}{
		{name: "new cluster: lowest free IDs, pools in name order",
			pools: []Pool{{Name: "controllers", Replicas: 3}, {Name: "brokers", Replicas: 3}},
			want:  map[string][]int32{"brokers": {0, 1, 2}, "controllers": {3, 4, 5}}},
		{name: "next-node-ids ranges per pool",
			pools: []Pool{{Name: "controllers", Replicas: 3, Next: "[0-2]"}, {Name: "brokers", Replicas: 3, Next: "[100-199]"}},
			want:  map[string][]int32{"brokers": {100, 101, 102}, "controllers": {0, 1, 2}}},
		{name: "stable: nothing changes without a replica change",
			pools: []Pool{{Name: "brokers", Replicas: 3, Current: []int32{7, 2, 40}, Next: "[0-1]"}},
			want:  map[string][]int32{"brokers": {2, 7, 40}}},
		{name: "scale up fills gaps, never another pool's IDs",
			pools: []Pool{{Name: "a", Replicas: 4, Current: []int32{0, 2}}, {Name: "b", Replicas: 1, Current: []int32{1}}},
			want:  map[string][]int32{"a": {0, 2, 3, 4}, "b": {1}}},
		{name: "next IDs already used are skipped",
			pools: []Pool{{Name: "a", Replicas: 2, Current: []int32{10}, Next: "[10, 11]"}, {Name: "b", Replicas: 1, Current: []int32{11}}},
			want:  map[string][]int32{"a": {0, 10}, "b": {11}}},
		{name: "scale down removes the highest",
			pools: []Pool{{Name: "brokers", Replicas: 2, Current: []int32{3, 4, 5}}},
			want:  map[string][]int32{"brokers": {3, 4}}},
		{name: "scale down removes listed IDs first, from the middle",
			pools: []Pool{{Name: "brokers", Replicas: 2, Current: []int32{3, 4, 5}, Remove: "[4]"}},
			want:  map[string][]int32{"brokers": {3, 5}}},
		{name: "remove list longer than the scale-down stops at the target",
			pools: []Pool{{Name: "brokers", Replicas: 2, Current: []int32{3, 4, 5}, Remove: "[9, 5, 3]"}},
			want:  map[string][]int32{"brokers": {3, 4}}},
		{name: "an ID freed by one pool is not reused by another in the same pass",
			pools: []Pool{{Name: "a", Replicas: 0, Current: []int32{0}}, {Name: "b", Replicas: 1}},
			want:  map[string][]int32{"a": {}, "b": {1}}},
		{name: "two pools claim one ID", err: "claimed by pools",
			pools: []Pool{{Name: "a", Replicas: 1, Current: []int32{0}}, {Name: "b", Replicas: 1, Current: []int32{0}}}},
		{name: "bad annotation is an error", err: "next-node-ids",
			pools: []Pool{{Name: "a", Replicas: 1, Next: "[x]"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Assign(tc.pools)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for pool, want := range tc.want {
				if !slices.Equal(got[pool], want) && !(len(got[pool]) == 0 && len(want) == 0) {
					t.Errorf("pool %s: %v, want %v", pool, got[pool], want)
				}
			}
		})
	}
}
