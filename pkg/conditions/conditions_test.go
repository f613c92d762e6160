package conditions

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTransitions(t *testing.T) {
	var conds []metav1.Condition
	if !Set(&conds, Ready(1, metav1.ConditionFalse, "Reconciling", "creating")) {
		t.Fatal("adding a condition reported no change")
	}
	first := conds[0].LastTransitionTime
	if first.IsZero() {
		t.Fatal("lastTransitionTime not set")
	}
	if Set(&conds, Ready(1, metav1.ConditionFalse, "Reconciling", "creating")) {
		t.Error("setting the same condition reported a change (a no-op would write status)")
	}

	// Same status, new generation and message: changed, but the transition time stays.
	time.Sleep(1100 * time.Millisecond) // metav1.Time has second precision
	if !Set(&conds, Ready(2, metav1.ConditionFalse, "Reconciling", "creating pods")) {
		t.Error("new generation and message reported no change")
	}
	if !conds[0].LastTransitionTime.Equal(&first) {
		t.Errorf("lastTransitionTime moved without a status flip: %v -> %v", first, conds[0].LastTransitionTime)
	}
	if conds[0].ObservedGeneration != 2 {
		t.Errorf("observedGeneration = %d, want 2", conds[0].ObservedGeneration)
	}
	if IsReady(conds, 2) {
		t.Error("IsReady with status False")
	}

	// The status flips: the transition time moves.
	if !Set(&conds, Ready(2, metav1.ConditionTrue, "Ready", "")) {
		t.Error("flip reported no change")
	}
	if conds[0].LastTransitionTime.Equal(&first) {
		t.Error("lastTransitionTime kept across a status flip")
	}
	if !IsReady(conds, 2) || IsReady(conds, 3) {
		t.Error("IsReady must hold for the observed generation only")
	}
}
