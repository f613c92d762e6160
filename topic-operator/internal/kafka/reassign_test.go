package kafka

import (
	"reflect"
	"testing"
)

func TestReassignmentPlan(t *testing.T) {
	brokers := []int32{1, 2, 3, 4}
	cases := []struct {
		name       string
		assignment map[int32][]int32
		leaders    map[int32]int32
		rf         int32
		want       map[int32][]int32
		wantErr    bool
	}{
		{
			name:       "increase: existing replicas kept in order, new ones on the least-loaded brokers",
			assignment: map[int32][]int32{0: {1}, 1: {2}, 2: {1}},
			leaders:    map[int32]int32{0: 1, 1: 2, 2: 1},
			rf:         2,
			// loads before: 1→2, 2→1, 3→0, 4→0
			want: map[int32][]int32{0: {1, 3}, 1: {2, 4}, 2: {1, 2}},
		},
		{
			name:       "decrease never drops the leader",
			assignment: map[int32][]int32{0: {1, 2, 3}, 1: {2, 3, 4}},
			leaders:    map[int32]int32{0: 3, 1: 2},
			rf:         1,
			want:       map[int32][]int32{0: {3}, 1: {2}},
		},
		{
			name:       "partitions already at the factor are left out",
			assignment: map[int32][]int32{0: {1, 2}, 1: {3}},
			leaders:    map[int32]int32{0: 1, 1: 3},
			rf:         2,
			want:       map[int32][]int32{1: {3, 4}},
		},
		{name: "more replicas than brokers", assignment: map[int32][]int32{0: {1}}, rf: 5, wantErr: true},
		{name: "zero", assignment: map[int32][]int32{0: {1}}, rf: 0, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReassignmentPlan(c.assignment, c.leaders, brokers, c.rf)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !c.wantErr && !reflect.DeepEqual(got, c.want) {
				t.Errorf("plan = %v, want %v", got, c.want)
			}
		})
	}
}
