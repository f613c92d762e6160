package ownwrites

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSettledOnceForTheVersionsWritten(t *testing.T) {
	var m Memo[string]
	m.StoreWritten("u", "status", "3")
	m.Wrote("u", "2", true)  // finalizer
	m.Wrote("u", "3", false) // status
	m.Finish("u", true)
	if !m.Settled("u", "2") {
		t.Fatal("the event of our own finalizer patch was not recognised")
	}
	if m.Settled("u", "3") {
		t.Error("a version was skipped twice: a resync of it would never run")
	}
	if _, ok := m.Written("u"); !ok {
		t.Error("the written status was dropped before the cache showed it")
	}

	m.Wrote("u", "4", true)
	m.Wrote("u", "5", false)
	m.Finish("u", true)
	if !m.Settled("u", "5") {
		t.Fatal("the last version written was not recognised")
	}
	if _, ok := m.Written("u"); ok {
		t.Error("the cache shows our status, yet it is still remembered")
	}
}

func TestNotSettled(t *testing.T) {
	for name, run := range map[string]func(m *Memo[string]){
		"failed":      func(m *Memo[string]) { m.Wrote("u", "2", true); m.Finish("u", false) },
		"status only": func(m *Memo[string]) { m.Wrote("u", "2", false); m.Finish("u", true) },
		"forgotten":   func(m *Memo[string]) { m.Wrote("u", "2", true); m.Finish("u", true); m.Forget("u") },
		"later fail": func(m *Memo[string]) {
			m.Wrote("u", "2", true)
			m.Finish("u", true)
			m.Finish("u", false)
		},
	} {
		var m Memo[string]
		run(&m)
		if m.Settled("u", "2") {
			t.Errorf("%s: a reconcile would be skipped", name)
		}
	}
	var m Memo[string]
	m.Wrote("u", "2", true)
	m.Finish("u", true)
	if m.Settled("u", "7") {
		t.Error("someone else's version counts as ours")
	}
	if m.Settled("u", "2") {
		t.Error("a newer version seen did not end the record")
	}
}

func TestSeenDropsWhatTheCacheCaughtUpWith(t *testing.T) {
	var m Memo[[]string] // statuses hold slices: not comparable
	status := []string{"status"}
	m.Supersede("u", "4")
	m.StoreWritten("u", status, "6")

	m.Seen("u", "4")
	if !m.Stale("u", "4") {
		t.Error("the superseded version was forgotten while the cache still showed it")
	}
	m.Seen("u", "5")
	if _, ok := m.Written("u"); !ok {
		t.Error("the written status was forgotten before the cache showed it")
	}
	if m.Stale("u", "4") {
		t.Error("the superseded version is still remembered after the cache showed another")
	}
	m.Seen("u", "6")
	if _, ok := m.Written("u"); ok {
		t.Error("the written status is still remembered after the cache showed it")
	}

	m.StoreWritten("v", status, "8")
	m.Handler().OnDelete(&metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{UID: "v", ResourceVersion: "7"}})
	if _, ok := m.Written("v"); ok {
		t.Error("a deleted object's status is still remembered")
	}
}
