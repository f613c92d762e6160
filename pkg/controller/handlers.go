package controller

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// EventHandler enqueues the object of every add and delete, and of every update that changed
// the object (informer resyncs, which repeat the same resourceVersion, are dropped).
func (c *Controller) EventHandler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: c.Enqueue,
		UpdateFunc: func(oldObj, newObj any) {
			if sameResourceVersion(oldObj, newObj) {
				return
			}
			c.Enqueue(newObj)
		},
		DeleteFunc: c.Enqueue,
	}
}

// OwnerHandler enqueues, for every change of a dependent object, the key of its controlling
// owner when that owner is of the given kind (in the dependent's namespace).
func (c *Controller) OwnerHandler(ownerKind string) cache.ResourceEventHandler {
	enqueueOwner := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		o, err := meta.Accessor(obj) // cached objects may be compact types with an ObjectMeta accessor
		if err != nil {
			return
		}
		if ref := metav1.GetControllerOf(o); ref != nil && ref.Kind == ownerKind {
			c.EnqueueKey(Key{Namespace: o.GetNamespace(), Name: ref.Name})
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: enqueueOwner,
		UpdateFunc: func(oldObj, newObj any) {
			if sameResourceVersion(oldObj, newObj) {
				return
			}
			enqueueOwner(newObj)
		},
		DeleteFunc: enqueueOwner,
	}
}

func sameResourceVersion(oldObj, newObj any) bool {
	o, err1 := meta.Accessor(oldObj)
	n, err2 := meta.Accessor(newObj)
	return err1 == nil && err2 == nil && o.GetResourceVersion() == n.GetResourceVersion()
}

// SpecEventHandler is EventHandler without the updates that only touch status (or other
// fields that do not bump metadata.generation): the controller's own status writes then do not
// come back as reconciles. Metadata the reconciler reads (labels, annotations, finalizers,
// deletion) still triggers one.
func (c *Controller) SpecEventHandler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: c.Enqueue,
		UpdateFunc: func(oldObj, newObj any) {
			if sameResourceVersion(oldObj, newObj) || !specChanged(oldObj, newObj) {
				return
			}
			c.Enqueue(newObj)
		},
		DeleteFunc: c.Enqueue,
	}
}

func specChanged(oldObj, newObj any) bool {
	o, ok1 := oldObj.(metav1.Object)
	n, ok2 := newObj.(metav1.Object)
	if !ok1 || !ok2 {
		return true
	}
	return o.GetGeneration() != n.GetGeneration() ||
		!maps.Equal(o.GetLabels(), n.GetLabels()) ||
		!maps.Equal(o.GetAnnotations(), n.GetAnnotations()) ||
		!slices.Equal(o.GetFinalizers(), n.GetFinalizers()) ||
		(o.GetDeletionTimestamp() == nil) != (n.GetDeletionTimestamp() == nil)
}

// LabelHandler enqueues, for every change of an object, the key named by one of its labels in
// its namespace (e.g. a KafkaNodePool's or a node pod's kafkaplane.io/cluster): before and after
// an update, so that an object moving between owners reconciles both. specOnly drops updates
// that only touch status, as SpecEventHandler does.
func (c *Controller) LabelHandler(label string, specOnly bool) cache.ResourceEventHandler {
	enqueue := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if o, ok := obj.(metav1.Object); ok && o.GetLabels()[label] != "" {
			c.EnqueueKey(Key{Namespace: o.GetNamespace(), Name: o.GetLabels()[label]})
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue,
		UpdateFunc: func(oldObj, newObj any) {
			if sameResourceVersion(oldObj, newObj) || specOnly && !specChanged(oldObj, newObj) {
				return
			}
			enqueue(oldObj)
			enqueue(newObj)
		},
		DeleteFunc: enqueue,
	}
}
