// Package apply writes the objects the cluster operator computes with server-side apply, and
// skips the request when the cached object was applied from the same desired state: a resync
// where nothing changed costs no API writes.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
)

// AnnotationHash on an applied object is the digest of the desired state it was applied from.
const AnnotationHash = "kafkaplane.io/applied-hash"

// Patcher is the Patch method every typed client has.
type Patcher[T any] interface {
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error)
}

// Object is a typed Kubernetes object.
type Object interface {
	metav1.Object
	runtime.Object
}

// Apply server-side applies desired (forcing our field manager's ownership) unless current — the
// cached object, nil when there is none — was applied from the same desired state. It reports
// whether it wrote. desired gets its apiVersion and kind from client-go's scheme, and the
// AnnotationHash it is applied with.
func Apply[T any](ctx context.Context, c Patcher[T], desired Object, current metav1.Object, fieldManager string) (bool, error) {
	gvks, _, err := scheme.Scheme.ObjectKinds(desired)
	if err != nil || len(gvks) == 0 {
		return false, fmt.Errorf("apply %s: unknown kind: %w", desired.GetName(), err)
	}
	desired.GetObjectKind().SetGroupVersionKind(gvks[0])
	h, err := Hash(desired)
	if err != nil {
		return false, err
	}
	ann := desired.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationHash] = h
	desired.SetAnnotations(ann)
	if !isNil(current) && current.GetAnnotations()[AnnotationHash] == h {
		return false, nil
	}
	data, err := json.Marshal(desired)
	if err != nil {
		return false, fmt.Errorf("apply %s %s: %w", gvks[0].Kind, desired.GetName(), err)
	}
	force := true
	if _, err := c.Patch(ctx, desired.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: fieldManager, Force: &force}); err != nil {
		return false, fmt.Errorf("applying %s %s/%s: %w", gvks[0].Kind, desired.GetNamespace(), desired.GetName(), err)
	}
	klog.FromContext(ctx).V(4).Info("Applied", "kind", gvks[0].Kind, "name", desired.GetName(), "hash", h)
	return true, nil
}

// isNil reports whether o is nil or a nil pointer in an interface (what a cache lookup that
// found nothing returns).
func isNil(o metav1.Object) bool {
	if o == nil {
		return true
	}
	v := reflect.ValueOf(o)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// Hash is a short digest of an object's JSON, without its AnnotationHash.
func Hash(obj any) (string, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:16], nil
}
