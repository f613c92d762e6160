package kafka

import (
	"reflect"
	"testing"
	"time"
)

func TestRoundsNeverRepeatAKey(t *testing.T) {
	ins := []string{"a", "b", "a", "c", "a", "b"}
	got := rounds(ins, func(s string) string { return s })
	want := [][]int{{0, 1, 3}, {2, 5}, {4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rounds = %v, want %v", got, want)
	}
}

// TestUnsureUntilADescribeAfterItSettled: a user whose write got no answer stays unsure until
// a describe that began once the write had settled; an earlier describe may not have seen what
// Kafka made of it.
func TestUnsureUntilADescribeAfterItSettled(t *testing.T) {
	a := &Admin{}
	if _, ok := a.Unsure("alice"); ok {
		t.Fatal("a user nothing was written for is unsure")
	}
	before := time.Now()
	a.markUnsure("alice", "bob")
	until, ok := a.Unsure("alice")
	if !ok || until.Before(before.Add(SettleMargin)) {
		t.Fatalf("Unsure = %v, %v; want true and at least %s from now", until, ok, SettleMargin)
	}
	a.settled(until.Add(-time.Millisecond))
	if _, ok := a.Unsure("alice"); !ok {
		t.Fatal("a describe that began before the write settled made the user sure")
	}
	a.settled(until)
	if _, ok := a.Unsure("alice"); ok {
		t.Fatal("a describe that began once the write settled left the user unsure")
	}
	if _, ok := a.Unsure("bob"); ok {
		t.Fatal("bob, marked with alice, is still unsure")
	}
}
