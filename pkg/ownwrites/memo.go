// Package ownwrites remembers an operator's own writes per object, so that a cache lagging
// behind them never causes the same write twice (a repeated status write, or a conflict from a
// write based on a version that our previous write already replaced).
package ownwrites

import (
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// Memo holds, per object UID, the last status written (S) and the resourceVersions our writes
// superseded. Safe for concurrent use.
type Memo[S any] struct {
	written    sync.Map // types.UID → S
	superseded sync.Map // types.UID → []string
}

// Stale reports whether a cached object at resourceVersion rv has not yet caught up with our
// writes (a finalizer patch then a status patch supersede two versions). Reconciling it would
// repeat a write; the watch event of our write brings the key back if there is more to do. The
// memory is dropped as soon as the cache shows any other version.
func (m *Memo[S]) Stale(uid types.UID, rv string) bool {
	if rvs, ok := m.superseded.Load(uid); ok {
		if slices.Contains(rvs.([]string), rv) {
			return true
		}
		m.superseded.Delete(uid)
	}
	return false
}

// Supersede records that a write of ours replaced version rv.
func (m *Memo[S]) Supersede(uid types.UID, rv string) {
	var rvs []string
	if v, ok := m.superseded.Load(uid); ok {
		rvs = v.([]string)
	}
	m.superseded.Store(uid, append(slices.Clip(rvs), rv))
}

// Written returns the last status written for uid.
func (m *Memo[S]) Written(uid types.UID) (S, bool) {
	v, ok := m.written.Load(uid)
	if !ok {
		var zero S
		return zero, false
	}
	return v.(S), true
}

// StoreWritten records the status just written for uid.
func (m *Memo[S]) StoreWritten(uid types.UID, s S) { m.written.Store(uid, s) }

// ForgetWritten drops the status remembered for uid, once the cache shows it (so that memory
// does not grow with every object ever written).
func (m *Memo[S]) ForgetWritten(uid types.UID) { m.written.Delete(uid) }

// Forget drops everything about uid (the object is gone).
func (m *Memo[S]) Forget(uid types.UID) {
	m.written.Delete(uid)
	m.superseded.Delete(uid)
}
