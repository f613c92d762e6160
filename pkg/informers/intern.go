package informers

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Intern returns s backed by one shared copy per distinct value: namespaces, label keys and
// values, finalizers, enum-like fields repeat in every cached object, and decoding gives each
// object its own copy. Interned strings are freed when no longer used.
func Intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// yes and no back the shared *bool fields of cached objects.
var yes, no = true, false

// BoolPtr returns a shared pointer with b's value, or nil for nil: cached objects are never
// written to, so they can share it.
func BoolPtr(b *bool) *bool {
	switch {
	case b == nil:
		return nil
	case *b:
		return &yes
	default:
		return &no
	}
}

// CompactOwnerReference is ref with its API version and kind interned, its name shared with
// name when equal (an owned object named after its owner) and shared *bool fields.
func CompactOwnerReference(ref metav1.OwnerReference, name string) metav1.OwnerReference {
	if ref.Name == name {
		ref.Name = name
	}
	ref.APIVersion, ref.Kind = Intern(ref.APIVersion), Intern(ref.Kind)
	ref.Controller, ref.BlockOwnerDeletion = BoolPtr(ref.Controller), BoolPtr(ref.BlockOwnerDeletion)
	return ref
}

// sharedMaps holds canonical label and annotation maps by content, so that objects with the same
// labels (every KafkaUser of a cluster carries kafkaplane.io/cluster=<name>) share one map.
// Bounded: when full it starts over (maps already shared stay shared).
var sharedMaps = struct {
	sync.Mutex
	m map[string]map[string]string
}{m: map[string]map[string]string{}}

const maxSharedMaps = 1024

// ShareMap returns a map equal to m that other cached objects may share, keys and values
// interned. Cached objects are never written to, which is what makes sharing safe.
func ShareMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder // length-prefixed, so that no two maps have the same id
	for _, k := range keys {
		for _, s := range []string{k, m[k]} {
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteByte(':')
			b.WriteString(s)
		}
	}
	id := b.String()
	sharedMaps.Lock()
	defer sharedMaps.Unlock()
	if s, ok := sharedMaps.m[id]; ok {
		return s
	}
	if len(sharedMaps.m) >= maxSharedMaps {
		clear(sharedMaps.m)
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[Intern(k)] = Intern(v)
	}
	sharedMaps.m[id] = out
	return out
}

// CompactMeta shrinks the metadata of an object about to be cached: namespace and finalizers
// interned, label and annotation maps shared, owner references compacted.
func CompactMeta(m *metav1.ObjectMeta) {
	m.Namespace = Intern(m.Namespace)
	m.Labels = ShareMap(m.Labels)
	m.Annotations = ShareMap(m.Annotations)
	for i, f := range m.Finalizers {
		m.Finalizers[i] = Intern(f)
	}
	for i, ref := range m.OwnerReferences {
		m.OwnerReferences[i] = CompactOwnerReference(ref, m.Name)
	}
}
