package informers

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// Multi is one resource's informers across the watched namespaces, used as one: a handler added
// once sees every namespace, and lookups go to the informer of the object's namespace.
type Multi struct {
	all        bool
	byNS       map[string]cache.SharedIndexInformer
	namespaces []string
}

// ForResource collects, from every factory, the informer that get returns (e.g.
// func(f F) cache.SharedIndexInformer { return f.Kafkaplane().V1beta1().KafkaTopics().Informer() }).
func ForResource[F Factory](p *PerNamespace[F], get func(F) cache.SharedIndexInformer) *Multi {
	return ForResourceIn(p, func(_ string, f F) cache.SharedIndexInformer { return get(f) })
}

// ForResourceIn is ForResource for a get that needs the namespace of the factory ("" for all).
func ForResourceIn[F Factory](p *PerNamespace[F], get func(namespace string, f F) cache.SharedIndexInformer) *Multi {
	m := &Multi{all: p.namespaces.All(), byNS: map[string]cache.SharedIndexInformer{}}
	p.Each(func(namespace string, f F) {
		m.byNS[namespace] = get(namespace, f)
		m.namespaces = append(m.namespaces, namespace)
	})
	return m
}

// IndexersIn are the indexers an informer of one namespace ("" for all) starts with: the
// namespace index only where there are several namespaces to tell apart. In one namespace it is a
// set of every key, megabytes for 20,000 objects, which no lookup needs.
func IndexersIn(namespace string) cache.Indexers {
	if namespace == "" {
		return cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	}
	return cache.Indexers{}
}

// AddEventHandler adds a handler to every namespace's informer.
func (m *Multi) AddEventHandler(h cache.ResourceEventHandler) error {
	return m.each("adding event handler", func(inf cache.SharedIndexInformer) error {
		_, err := inf.AddEventHandler(h)
		return err
	})
}

// each calls fn on every namespace's informer, joining the errors with what was being done.
func (m *Multi) each(doing string, fn func(cache.SharedIndexInformer) error) error {
	var errs []error
	for _, ns := range m.namespaces {
		if err := fn(m.byNS[ns]); err != nil {
			errs = append(errs, fmt.Errorf("%s in namespace %q: %w", doing, ns, err))
		}
	}
	return errors.Join(errs...)
}

// SetTransform replaces the transform of every namespace's informer (the factory's, such as
// StripManagedFields, included: compose it). Call it before the informers start.
func (m *Multi) SetTransform(t cache.TransformFunc) error {
	return m.each("setting the transform", func(inf cache.SharedIndexInformer) error { return inf.SetTransform(t) })
}

// HasSynced reports whether every namespace's informer has synced.
func (m *Multi) HasSynced() bool {
	for _, inf := range m.byNS {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// Indexer returns the indexer holding a namespace's objects, or nil when it is not watched.
// Generated listers wrap it: v1beta1listers.NewKafkaTopicLister(m.Indexer(ns)).
func (m *Multi) Indexer(namespace string) cache.Indexer {
	if m.all {
		return m.byNS[""].GetIndexer()
	}
	if inf, ok := m.byNS[namespace]; ok {
		return inf.GetIndexer()
	}
	return nil
}

// GetByKey returns the cached object for a namespace/name key.
func (m *Multi) GetByKey(namespace, name string) (any, bool, error) {
	idx := m.Indexer(namespace)
	if idx == nil {
		return nil, false, nil
	}
	return idx.GetByKey(cache.ObjectName{Namespace: namespace, Name: name}.String())
}

// List returns the cached objects of every namespace that match selector.
func (m *Multi) List(selector labels.Selector) ([]any, error) {
	var out []any
	for _, ns := range m.namespaces {
		err := cache.ListAll(m.byNS[ns].GetIndexer(), selector, func(obj any) { out = append(out, obj) })
		if err != nil {
			return nil, fmt.Errorf("listing namespace %q: %w", ns, err)
		}
	}
	return out, nil
}

// Keys returns the namespace/name of every cached object, for a controller's resync.
func (m *Multi) Keys() []cache.ObjectName {
	var out []cache.ObjectName
	for _, ns := range m.namespaces {
		for _, k := range m.byNS[ns].GetIndexer().ListKeys() {
			name, err := cache.ParseObjectName(k)
			if err == nil {
				out = append(out, name)
			}
		}
	}
	return out
}

// WaitForSync blocks until every informer of every Multi has synced, or fails when ctx ends.
func WaitForSync(ctx context.Context, ms ...*Multi) error {
	synced := make([]cache.InformerSynced, len(ms))
	for i, m := range ms {
		synced[i] = m.HasSynced
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("informer caches did not sync: %w", context.Cause(ctx))
	}
	return nil
}

// AddIndexers adds indexers to every namespace's informer; call it before the informers start.
func (m *Multi) AddIndexers(indexers cache.Indexers) error {
	return m.each("adding indexers", func(inf cache.SharedIndexInformer) error { return inf.AddIndexers(indexers) })
}

// ByIndex returns the cached objects of every namespace whose index value is value.
func (m *Multi) ByIndex(index, value string) ([]any, error) {
	var out []any
	for _, ns := range m.namespaces {
		objs, err := m.byNS[ns].GetIndexer().ByIndex(index, value)
		if err != nil {
			return nil, fmt.Errorf("looking up %s=%s in namespace %q: %w", index, value, ns, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}
