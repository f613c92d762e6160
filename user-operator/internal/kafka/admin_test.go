package kafka

import (
	"reflect"
	"testing"
)

func TestRoundsNeverRepeatAKey(t *testing.T) {
	ins := []string{"a", "b", "a", "c", "a", "b"}
	got := rounds(ins, func(s string) string { return s })
	want := [][]int{{0, 1, 3}, {2, 5}, {4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rounds = %v, want %v", got, want)
	}
}
