package operator

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/pkg/informers"
)

// OwnedSecrets returns an informer over the Secrets matching labelSelector in the watched
// namespaces, e.g. the Secrets an operator creates and labels. Secrets of other applications are
// never cached. transform, when set, runs on each object before it is cached (after
// managedFields are stripped), e.g. to keep a digest of the data instead of the data itself.
func (m *Manager) OwnedSecrets(labelSelector string, transform cache.TransformFunc) *informers.Multi {
	tf := informers.StripManagedFields
	if transform != nil {
		tf = func(obj any) (any, error) {
			obj, err := informers.StripManagedFields(obj)
			if err != nil {
				return nil, err
			}
			return transform(obj)
		}
	}
	p := informers.NewPerNamespace(m.Namespaces, func(namespace string) kubeinformers.SharedInformerFactory {
		return kubeinformers.NewSharedInformerFactoryWithOptions(m.Kube, 0,
			kubeinformers.WithNamespace(namespace),
			kubeinformers.WithTransform(tf),
			kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = labelSelector }))
	})
	m.mu.Lock()
	m.labelled = append(m.labelled, p)
	m.mu.Unlock()
	tweak := func(o *metav1.ListOptions) { o.LabelSelector = labelSelector }
	return informers.ForResourceIn(p, func(ns string, f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.InformerFor(&corev1.Secret{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
			return coreinformers.NewFilteredSecretInformer(c, ns, resync, informers.IndexersIn(ns), tweak)
		})
	})
}

// LabelledKube returns Kubernetes informer factories, one per watched namespace, whose
// informers hold only objects matching labelSelector: how an operator caches the Pods, Services,
// ConfigMaps and Secrets it creates and nothing else. Informers obtained before Setup returns
// start with the others.
func (m *Manager) LabelledKube(labelSelector string) *informers.PerNamespace[kubeinformers.SharedInformerFactory] {
	p := informers.NewPerNamespace(m.Namespaces, func(namespace string) kubeinformers.SharedInformerFactory {
		return kubeinformers.NewSharedInformerFactoryWithOptions(m.Kube, 0,
			kubeinformers.WithNamespace(namespace),
			kubeinformers.WithTransform(informers.StripManagedFields),
			kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = labelSelector }))
	})
	m.mu.Lock()
	m.labelled = append(m.labelled, p)
	m.mu.Unlock()
	return p
}

// SecretsMetadata returns a metadata-only informer over the Secrets of the watched namespaces
// that match labelSelector ("" for all): names, labels and owners without data or annotations,
// so memory stays small however many unrelated Secrets exist. Read a Secret's data with a GET
// when needed (password sources, user-provided CAs).
func (m *Manager) SecretsMetadata(labelSelector string) *informers.Multi {
	p := informers.NewPerNamespace(m.Namespaces, func(namespace string) metadatainformer.SharedInformerFactory {
		return metadatainformer.NewFilteredSharedInformerFactory(m.Metadata, 0, namespace,
			func(o *metav1.ListOptions) { o.LabelSelector = labelSelector })
	})
	m.mu.Lock()
	m.secretsMetadata = append(m.secretsMetadata, p)
	m.mu.Unlock()
	gvr := corev1.SchemeGroupVersion.WithResource("secrets")
	return informers.ForResource(p, func(f metadatainformer.SharedInformerFactory) cache.SharedIndexInformer {
		inf := f.ForResource(gvr).Informer()
		_ = inf.SetTransform(informers.StripMetadataOnly) // fails only once started; we are before Start
		return inf
	})
}
