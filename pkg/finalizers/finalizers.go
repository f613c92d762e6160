// Package finalizers adds and removes finalizers, in memory or as a JSON patch that fails when
// someone else changed the object's finalizers in between (no lost update, no overwrite).
package finalizers

import (
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Has reports whether obj carries the finalizer.
func Has(obj metav1.Object, finalizer string) bool {
	return slices.Contains(obj.GetFinalizers(), finalizer)
}

// Add adds the finalizer to obj and reports whether it was missing.
func Add(obj metav1.Object, finalizer string) bool {
	if Has(obj, finalizer) {
		return false
	}
	obj.SetFinalizers(append(obj.GetFinalizers(), finalizer))
	return true
}

// Remove removes the finalizer from obj and reports whether it was there.
func Remove(obj metav1.Object, finalizer string) bool {
	fs := obj.GetFinalizers()
	out := slices.DeleteFunc(slices.Clone(fs), func(f string) bool { return f == finalizer })
	if len(out) == len(fs) {
		return false
	}
	obj.SetFinalizers(out)
	return true
}

// stringOp is an operation with a string value (patchOp has a list).
type stringOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

type patchOp struct {
	Op    string   `json:"op"`
	Path  string   `json:"path"`
	Value []string `json:"value"`
}

// AddPatch returns a JSON patch (types.JSONPatchType) adding the finalizer to obj, and nil
// when obj already has it. The patch tests the current list first, so it fails with a
// 422 Unprocessable Entity when the finalizers changed since obj was read; retry from the cache.
func AddPatch(obj metav1.Object, finalizer string) ([]byte, error) {
	if Has(obj, finalizer) {
		return nil, nil
	}
	return patch(obj, append(slices.Clone(obj.GetFinalizers()), finalizer))
}

// RemovePatch returns a JSON patch removing the finalizer from obj, and nil when obj lacks it.
func RemovePatch(obj metav1.Object, finalizer string) ([]byte, error) {
	if !Has(obj, finalizer) {
		return nil, nil
	}
	return patch(obj, slices.DeleteFunc(slices.Clone(obj.GetFinalizers()), func(f string) bool { return f == finalizer }))
}

func patch(obj metav1.Object, next []string) ([]byte, error) {
	cur := obj.GetFinalizers()
	var ops []any
	if len(cur) == 0 {
		// "test" cannot compare a member that may be absent, and "add" would silently replace a
		// list someone created meanwhile: guard with the resourceVersion instead. The API server
		// clears it from the object it patches (a "test" on it always fails) and treats one the
		// patch sets as a precondition: a conflict (409) when the object changed.
		ops = append(ops,
			stringOp{Op: "add", Path: "/metadata/resourceVersion", Value: obj.GetResourceVersion()},
			patchOp{Op: "add", Path: "/metadata/finalizers", Value: next})
	} else {
		ops = append(ops,
			patchOp{Op: "test", Path: "/metadata/finalizers", Value: cur},
			patchOp{Op: "replace", Path: "/metadata/finalizers", Value: next})
	}
	b, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encoding finalizer patch: %w", err)
	}
	return b, nil
}
