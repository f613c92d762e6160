package informers

import (
	"context"
	"sort"
)

// Factory is what every shared informer factory offers: generated, client-go's typed and
// metadata-only ones. Caches are waited for per resource, with WaitForSync.
type Factory interface {
	Start(stopCh <-chan struct{})
	Shutdown()
}

// PerNamespace holds one factory per watched namespace (a single one keyed by
// metav1.NamespaceAll when every namespace is watched), as prometheus-operator does: several
// native informers instead of one that merges namespaces.
type PerNamespace[F Factory] struct {
	namespaces Namespaces
	factories  map[string]F
}

// NewPerNamespace builds a factory for each namespace of ns with newFactory(namespace).
func NewPerNamespace[F Factory](ns Namespaces, newFactory func(namespace string) F) *PerNamespace[F] {
	p := &PerNamespace[F]{namespaces: ns, factories: map[string]F{}}
	for _, namespace := range ns.List() {
		p.factories[namespace] = newFactory(namespace)
	}
	return p
}

// Namespaces returns the watched namespaces.
func (p *PerNamespace[F]) Namespaces() Namespaces { return p.namespaces }

// For returns the factory that watches a namespace, and false when it is not watched.
func (p *PerNamespace[F]) For(namespace string) (F, bool) {
	if p.namespaces.All() {
		return p.factories[""], true
	}
	f, ok := p.factories[namespace]
	return f, ok
}

// Each calls fn for every factory, in namespace order.
func (p *PerNamespace[F]) Each(fn func(namespace string, f F)) {
	keys := make([]string, 0, len(p.factories))
	for k := range p.factories {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fn(k, p.factories[k])
	}
}

// Start starts every informer requested so far; it is safe to call again after requesting more.
func (p *PerNamespace[F]) Start(ctx context.Context) {
	p.Each(func(_ string, f F) { f.Start(ctx.Done()) })
}

// Shutdown stops every informer and waits for them to end.
func (p *PerNamespace[F]) Shutdown() {
	p.Each(func(_ string, f F) { f.Shutdown() })
}
