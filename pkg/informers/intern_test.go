package informers

import (
	"fmt"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestShareMapSharesEqualMapsAndStaysBounded(t *testing.T) {
	a := ShareMap(map[string]string{"kafkaplane.io/cluster": "c", "team": "x"})
	b := ShareMap(map[string]string{"team": "x", "kafkaplane.io/cluster": "c"})
	if reflect.ValueOf(a).UnsafePointer() != reflect.ValueOf(b).UnsafePointer() {
		t.Error("equal maps are not shared")
	}
	if c := ShareMap(map[string]string{"team": "y"}); c["team"] != "y" || len(c) != 1 {
		t.Errorf("a different map came back as %v", c)
	}
	x := ShareMap(map[string]string{"a": "b\x00c", "d": "e"})
	if y := ShareMap(map[string]string{"a": "b", "c\x00d": "e"}); len(y) != 2 || y["a"] != "b" || x["a"] != "b\x00c" {
		t.Errorf("maps whose entries join alike were shared: %q and %q", x, y)
	}
	for i := range 3 * maxSharedMaps {
		m := ShareMap(map[string]string{"instance": fmt.Sprint(i)})
		if m["instance"] != fmt.Sprint(i) {
			t.Fatalf("map %d came back as %v", i, m)
		}
	}
	sharedMaps.Lock()
	n := len(sharedMaps.m)
	sharedMaps.Unlock()
	if n > maxSharedMaps {
		t.Errorf("%d maps kept, bound %d", n, maxSharedMaps)
	}
	if ShareMap(nil) != nil {
		t.Error("nil labels became a map")
	}
}

func TestCompactMetaKeepsValues(t *testing.T) {
	m := metav1.ObjectMeta{Name: "alice", Namespace: "ns", Labels: map[string]string{"a": "b"}, Finalizers: []string{"f"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "K", Name: "alice", UID: "u", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(false)}}}
	want := *m.DeepCopy()
	CompactMeta(&m)
	if !reflect.DeepEqual(m, want) {
		t.Errorf("compacted %+v, want %+v", m, want)
	}
}
