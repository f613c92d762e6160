package clusters

import (
	"errors"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
)

// Caches are the informers the reconciler reads: the Kafkaplane resources, and the objects the
// cluster operator creates (label-filtered: kafkaplane.io/kind=Kafka), nothing else.
type Caches struct {
	Kafkas, Pools *informers.Multi
	Pods, Services, ConfigMaps, Secrets, Claims,
	Budgets, NetworkPolicies, ServiceAccounts, Roles, RoleBindings, Deployments, Ingresses *informers.Multi
}

// All lists every cache, to wait for and to watch.
func (c *Caches) All() []*informers.Multi {
	return []*informers.Multi{c.Kafkas, c.Pools, c.Pods, c.Services, c.ConfigMaps, c.Secrets, c.Claims,
		c.Budgets, c.NetworkPolicies, c.ServiceAccounts, c.Roles, c.RoleBindings, c.Deployments, c.Ingresses}
}

// Owned lists the caches of objects the operator creates.
func (c *Caches) Owned() []*informers.Multi {
	return c.All()[2:]
}

// get returns a cached object by namespace and name, nil when absent.
func get[T any](m *informers.Multi, namespace, name string) *T {
	obj, ok, err := m.GetByKey(namespace, name)
	if err != nil || !ok {
		return nil
	}
	t, _ := obj.(*T)
	return t
}

// list returns the cached objects of a namespace matching a selector.
func list[T any](m *informers.Multi, namespace string, sel labels.Selector) []*T {
	var out []*T
	idx := m.Indexer(namespace)
	if idx == nil {
		return nil
	}
	objs, err := idx.ByIndex(cache.NamespaceIndex, namespace)
	if err != nil {
		return nil
	}
	for _, obj := range objs {
		t, ok := obj.(*T)
		if !ok {
			continue
		}
		if o, ok := obj.(interface{ GetLabels() map[string]string }); ok && sel.Matches(labels.Set(o.GetLabels())) {
			out = append(out, t)
		}
	}
	return out
}

// clusterSelector selects the objects of a cluster.
func clusterSelector(cluster string) labels.Selector {
	return labels.SelectorFromSet(labels.Set{v1beta1.LabelCluster: cluster})
}

func errorsJoin(errs ...error) error { return errors.Join(errs...) }
