// Package ownwrites remembers an operator's own writes per object, so that a cache lagging
// behind them never causes the same write twice (a repeated status write, or a conflict from a
// write based on a version that our previous write already replaced).
package ownwrites

import (
	"slices"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// Memo holds, per object UID, the last status written (S) and the resourceVersions our writes
// superseded. Safe for concurrent use.
type Memo[S any] struct {
	written    sync.Map // types.UID → *writtenStatus[S]
	superseded sync.Map // types.UID → []string
	pending    sync.Map // types.UID → *versions: written by the reconcile in progress
	settled    sync.Map // types.UID → *versions: written by the last reconcile that finished
}

// writtenStatus is a status we wrote and the resourceVersion the write produced.
type writtenStatus[S any] struct {
	status S
	rv     string
}

// versions are resourceVersions our writes produced, in order; visible says whether one of
// them changed more than status (so that its watch event brings the key back).
type versions struct {
	rvs     []string
	visible bool
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
	return v.(*writtenStatus[S]).status, true
}

// StoreWritten records the status just written for uid, and the resourceVersion the write
// produced.
func (m *Memo[S]) StoreWritten(uid types.UID, s S, rv string) {
	m.written.Store(uid, &writtenStatus[S]{status: s, rv: rv})
}

// Seen tells the memo that the cache shows version rv of uid: what was kept only until the
// cache caught up is dropped now, not when the object is next reconciled (a status-only write
// brings no reconcile, and the next resync can be minutes away while 20,000 new objects each
// keep a status): superseded versions once rv is another one, the written status once rv is the
// version that write produced or a later one.
func (m *Memo[S]) Seen(uid types.UID, rv string) {
	m.Stale(uid, rv)
	if v, ok := m.written.Load(uid); ok && !OlderThan(rv, v.(*writtenStatus[S]).rv) {
		m.written.CompareAndDelete(uid, v)
	}
}

// Handler is an informer event handler that tells the memo what the cache shows (Seen) and
// forgets deleted objects.
func (m *Memo[S]) Handler() cache.ResourceEventHandler {
	seen := func(obj any) {
		if o, ok := obj.(metav1.Object); ok {
			m.Seen(o.GetUID(), o.GetResourceVersion())
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { seen(obj) },
		UpdateFunc: func(_, obj any) { seen(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if o, ok := obj.(metav1.Object); ok {
				m.Forget(o.GetUID())
			}
		},
	}
}

// OlderThan compares resourceVersions as the integers etcd makes them; unparsable ones never
// count as older, so a cache that shows them is believed.
func OlderThan(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x < y
}

// ForgetWritten drops the status remembered for uid, once the cache shows it (so that memory
// does not grow with every object ever written).
func (m *Memo[S]) ForgetWritten(uid types.UID) { m.written.Delete(uid) }

// Forget drops everything about uid (the object is gone).
func (m *Memo[S]) Forget(uid types.UID) {
	m.written.Delete(uid)
	m.superseded.Delete(uid)
	m.pending.Delete(uid)
	m.settled.Delete(uid)
}

// Wrote records that the reconcile in progress for uid wrote version rv; visible says the write
// changed more than status (a finalizer, say), which the event handler passes on.
func (m *Memo[S]) Wrote(uid types.UID, rv string, visible bool) {
	v := &versions{}
	if p, ok := m.pending.Load(uid); ok {
		v = p.(*versions)
	}
	v.rvs = append(v.rvs, rv)
	v.visible = v.visible || visible
	m.pending.Store(uid, v)
}

// Finish ends the reconcile of uid. When it left nothing to do (done) and wrote a version whose
// watch event will bring the key back, the versions it wrote are settled: reconciling any of
// them again would only find the state it just made. Reconciles of one key never overlap.
func (m *Memo[S]) Finish(uid types.UID, done bool) {
	p, ok := m.pending.LoadAndDelete(uid)
	if done && ok && p.(*versions).visible {
		m.settled.Store(uid, p)
		return
	}
	m.settled.Delete(uid)
}

// Settled reports whether a cached object at rv is as the last finished reconcile left it, so
// that the reconcile its own write's event asks for can be skipped. It answers true once: later
// reconciles of the same version (a resync that found Kafka drifted) run. When rv is the last
// version that reconcile wrote, the cache has caught up and the remembered status is dropped.
func (m *Memo[S]) Settled(uid types.UID, rv string) bool {
	s, ok := m.settled.LoadAndDelete(uid)
	if !ok {
		return false
	}
	rvs := s.(*versions).rvs
	if len(rvs) > 0 && rvs[len(rvs)-1] == rv {
		m.written.Delete(uid)
	}
	return slices.Contains(rvs, rv)
}
