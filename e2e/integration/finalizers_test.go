package integration

import (
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/finalizers"
)

// TestFinalizerPatchesOnAPIServer: the finalizer patches apply to a fresh copy and fail with a
// conflict (not a silent overwrite) on a stale one, on the real API server.
func TestFinalizerPatchesOnAPIServer(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	api := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns)
	kt, err := api.Create(t.Context(), kafkaTopic("t", v1beta1.KafkaTopicSpec{}, nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(p []byte) error {
		_, err := api.Patch(t.Context(), "t", types.JSONPatchType, p, metav1.PatchOptions{})
		return err
	}
	stale := kt.DeepCopy()
	// Someone else changes the object: the add computed from the stale copy must conflict.
	if _, err := api.Patch(t.Context(), "t", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	p, _ := finalizers.AddPatch(stale, v1beta1.FinalizerTopicOperator)
	if err := apply(p); !apierrors.IsConflict(err) {
		t.Fatalf("add from a stale copy: %v, want a conflict", err)
	}
	fresh, _ := api.Get(t.Context(), "t", metav1.GetOptions{})
	p, _ = finalizers.AddPatch(fresh, v1beta1.FinalizerTopicOperator)
	if err := apply(p); err != nil {
		t.Fatalf("add from a fresh copy: %v", err)
	}
	got, _ := api.Get(t.Context(), "t", metav1.GetOptions{})
	if !slices.Equal(got.Finalizers, []string{v1beta1.FinalizerTopicOperator}) {
		t.Fatalf("finalizers %v", got.Finalizers)
	}
	p, _ = finalizers.RemovePatch(got, v1beta1.FinalizerTopicOperator)
	if err := apply(p); err != nil {
		t.Fatalf("remove: %v", err)
	}
}
