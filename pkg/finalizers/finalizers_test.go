package finalizers

import (
	"context"
	"errors"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned/fake"
)

const f = v1beta1.FinalizerTopicOperator

func TestInMemory(t *testing.T) {
	obj := &metav1.ObjectMeta{Finalizers: []string{"other"}}
	if !Add(obj, f) || Add(obj, f) {
		t.Fatal("Add must report a change once")
	}
	if !Has(obj, f) || !slices.Equal(obj.Finalizers, []string{"other", f}) {
		t.Fatalf("finalizers %v", obj.Finalizers)
	}
	if !Remove(obj, f) || Remove(obj, f) {
		t.Fatal("Remove must report a change once")
	}
	if !slices.Equal(obj.Finalizers, []string{"other"}) {
		t.Fatalf("Remove touched another finalizer: %v", obj.Finalizers)
	}
}

func TestPatches(t *testing.T) {
	ctx := t.Context()
	client := fake.NewSimpleClientset(&v1beta1.KafkaTopic{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "t", ResourceVersion: "1"}})
	topics := client.KafkaplaneV1beta1().KafkaTopics("ns")
	apply := func(p []byte) error {
		_, err := topics.Patch(ctx, "t", types.JSONPatchType, p, metav1.PatchOptions{})
		return err
	}
	cur, _ := topics.Get(ctx, "t", metav1.GetOptions{})

	p, err := AddPatch(cur, f)
	if err != nil || p == nil {
		t.Fatalf("AddPatch = %s, %v", p, err)
	}
	if err := apply(p); err != nil {
		t.Fatalf("applying add patch: %v", err)
	}
	got, _ := topics.Get(ctx, "t", metav1.GetOptions{})
	if !Has(got, f) {
		t.Fatalf("finalizer not added: %v", got.Finalizers)
	}
	if p, _ := AddPatch(got, f); p != nil {
		t.Errorf("AddPatch on an object that has the finalizer = %s, want nil", p)
	}

	// Someone else adds a finalizer; a removal computed from the stale copy must fail, not drop it.
	stale := got.DeepCopy()
	got.Finalizers = append(got.Finalizers, "someone/else")
	if _, err := topics.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	p, _ = RemovePatch(stale, f)
	if err := apply(p); err == nil {
		t.Fatal("a patch from a stale copy succeeded")
	} else if !apierrors.IsInvalid(err) && !apierrors.IsConflict(err) && !apierrors.IsBadRequest(err) {
		t.Logf("stale patch failed with %v", err)
	}
	fresh, _ := topics.Get(ctx, "t", metav1.GetOptions{})
	p, _ = RemovePatch(fresh, f)
	if err := apply(p); err != nil {
		t.Fatalf("applying remove patch: %v", err)
	}
	final, _ := topics.Get(ctx, "t", metav1.GetOptions{})
	if !slices.Equal(final.Finalizers, []string{"someone/else"}) {
		t.Fatalf("finalizers after removal %v, want only someone/else", final.Finalizers)
	}
}

// TestAddToAGoneObjectIsAnError: a finalizer cannot be added to an object the API server no
// longer has; the caller must stop (it read a stale cache), not go on as if it had the
// finalizer. Removing from a gone object is done.
func TestAddToAGoneObjectIsAnError(t *testing.T) {
	kt := &v1beta1.KafkaTopic{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gone"}}
	gone := func(context.Context, string, types.PatchType, []byte, metav1.PatchOptions, ...string) (*v1beta1.KafkaTopic, error) {
		return nil, apierrors.NewNotFound(v1beta1.Resource("kafkatopics"), "gone")
	}
	if _, wrote, err := Set(t.Context(), kt, f, true, gone, "test"); !errors.Is(err, ErrGone) || wrote {
		t.Errorf("adding to a gone object: wrote %v, err %v; want ErrGone", wrote, err)
	}
	kt.Finalizers = []string{f}
	if _, wrote, err := Set(t.Context(), kt, f, false, gone, "test"); err != nil || wrote {
		t.Errorf("removing from a gone object: wrote %v, err %v; want nothing and no error", wrote, err)
	}
}
