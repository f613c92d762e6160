// Package clientsca keeps the clients CA that signs user certificates: it watches exactly the
// two CA Secrets (by name, nothing else in their namespace) and parses them when they change.
package clientsca

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/credentials"
)

// Source is the clients CA as its Secrets say now.
type Source struct {
	Namespace, CertSecret, KeySecret string

	cert, key cache.SharedIndexInformer
	mu        sync.Mutex
	ca        *credentials.ClientsCA
	err       error
	onChange  []func()
}

// ErrNotConfigured: no clients CA Secrets were named, so tls users cannot be served.
var ErrNotConfigured = errors.New("no clients CA is configured (--clients-ca-cert-secret and --clients-ca-key-secret)")

// New returns a Source over the named Secrets; an empty name makes Current fail with
// ErrNotConfigured.
func New(kube kubernetes.Interface, namespace, certSecret, keySecret string) *Source {
	s := &Source{Namespace: namespace, CertSecret: certSecret, KeySecret: keySecret}
	if namespace == "" || certSecret == "" || keySecret == "" {
		s.err = ErrNotConfigured
		return s
	}
	s.err = fmt.Errorf("the clients CA Secrets %s/%s and %s/%s have not been read yet", namespace, certSecret, namespace, keySecret)
	s.cert = s.informer(kube, certSecret)
	s.key = s.informer(kube, keySecret)
	return s
}

func (s *Source) informer(kube kubernetes.Interface, name string) cache.SharedIndexInformer {
	lw := cache.NewListWatchFromClient(kube.CoreV1().RESTClient(), "secrets", s.Namespace, fields.OneTermEqualSelector("metadata.name", name))
	inf := cache.NewSharedIndexInformer(lw, &corev1.Secret{}, 0, cache.Indexers{})
	_ = inf.SetTransform(informers.StripManagedFields)
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.reload() },
		UpdateFunc: func(any, any) { s.reload() },
		DeleteFunc: func(any) { s.reload() },
	})
	return inf
}

// OnChange registers fn to run after the CA changed (e.g. to enqueue every tls user).
func (s *Source) OnChange(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onChange = append(s.onChange, fn)
}

// Run watches the Secrets until ctx ends.
func (s *Source) Run(ctx context.Context) {
	if s.cert == nil {
		return
	}
	go s.cert.RunWithContext(ctx)
	s.key.RunWithContext(ctx)
}

// HasSynced reports whether both Secrets were listed.
func (s *Source) HasSynced() bool {
	return s.cert == nil || (s.cert.HasSynced() && s.key.HasSynced())
}

// Current returns the CA, or why it cannot be used.
func (s *Source) Current() (*credentials.ClientsCA, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ca, s.err
}

func (s *Source) reload() {
	ca, err := s.load()
	s.mu.Lock()
	changed := err != nil || s.ca == nil || !sameCA(s.ca, ca)
	s.ca, s.err = ca, err
	fns := s.onChange
	s.mu.Unlock()
	if changed {
		for _, fn := range fns {
			fn()
		}
	}
}

func (s *Source) load() (*credentials.ClientsCA, error) {
	certObj, certOK, _ := s.cert.GetStore().GetByKey(s.Namespace + "/" + s.CertSecret)
	keyObj, keyOK, _ := s.key.GetStore().GetByKey(s.Namespace + "/" + s.KeySecret)
	if !certOK || !keyOK {
		return nil, fmt.Errorf("the clients CA Secrets %s/%s and %s/%s must both exist", s.Namespace, s.CertSecret, s.Namespace, s.KeySecret)
	}
	cert, key := certObj.(*corev1.Secret), keyObj.(*corev1.Secret)
	ca, err := pki.LoadCA(pki.CAState{
		CertData: cert.Data, KeyData: key.Data,
		CertGeneration: pki.ParseGeneration(cert.Annotations, pki.AnnotationCertGeneration),
		KeyGeneration:  pki.ParseGeneration(key.Annotations, pki.AnnotationKeyGeneration),
	})
	if err != nil {
		return nil, fmt.Errorf("reading the clients CA from %s/%s and %s/%s: %w", s.Namespace, s.CertSecret, s.Namespace, s.KeySecret, err)
	}
	return &credentials.ClientsCA{KeyPair: ca.KeyPair, CertPEM: cert.Data[pki.CACertKey],
		CertGeneration: ca.CertGeneration, KeyGeneration: ca.KeyGeneration,
		TrustedKeyGeneration: pki.TrustedKeyGeneration(cert.Annotations, ca.KeyGeneration)}, nil
}

func sameCA(a, b *credentials.ClientsCA) bool {
	return a.CertGeneration == b.CertGeneration && a.KeyGeneration == b.KeyGeneration && a.TrustedKeyGeneration == b.TrustedKeyGeneration &&
		string(a.CertPEM) == string(b.CertPEM)
}
