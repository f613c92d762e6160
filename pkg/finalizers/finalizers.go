// Package finalizers adds and removes finalizers, in memory or as a JSON patch that fails when
// someone else changed the object's finalizers in between (no lost update, no overwrite).
package finalizers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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

// Patcher is a typed client's Patch method, e.g. client.KafkaplaneV1beta1().KafkaTopics(ns).Patch.
type Patcher[T metav1.Object] func(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error)

// ErrGone is the error of adding a finalizer to an object the API server no longer has: the
// caller read it from a cache that has not seen its deletion, and must write nothing for it.
var ErrGone = errors.New("the object is gone")

// Set adds (add) or removes the finalizer on obj with a guarded JSON patch sent through patch.
// It returns the patched object and true when it wrote; obj and false when nothing needed
// changing, or when removing from an object that is gone. Adding to an object that is gone is
// ErrGone: with nil, a reconcile working from a stale cache (an API server restarted, its watch
// not yet back) went on to write Kafka ACLs for a KafkaUser deleted meanwhile, which no
// finalizer would ever remove.
func Set[T metav1.Object](ctx context.Context, obj T, finalizer string, add bool, patch Patcher[T], fieldManager string) (T, bool, error) {
	var data []byte
	var err error
	if add {
		data, err = AddPatch(obj, finalizer)
	} else {
		data, err = RemovePatch(obj, finalizer)
	}
	if err != nil || data == nil {
		return obj, false, err
	}
	patched, err := patch(ctx, obj.GetName(), types.JSONPatchType, data, metav1.PatchOptions{FieldManager: fieldManager})
	if apierrors.IsNotFound(err) {
		if add {
			return obj, false, fmt.Errorf("adding the finalizer of %s/%s: %w", obj.GetNamespace(), obj.GetName(), ErrGone)
		}
		return obj, false, nil
	}
	if err != nil {
		return obj, false, fmt.Errorf("patching the finalizers of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return patched, true, nil
}
