package credentials

import (
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// Cached is what the operator's cache keeps of a user Secret (CacheTransform): its identity, its
// controlling KafkaUser, and what its annotations and data say, parsed. Never the data: keys and
// passwords do not sit in the operator's memory. It is not a Secret (nor an ObjectMeta, most of
// whose 30 fields would be empty): at 20,000 users it is about a third of the Secret with its
// annotations. Informers and handlers reach its metadata through GetObjectMeta.
type Cached struct {
	Namespace, Name string
	UID             types.UID
	ResourceVersion string
	// Owner and OwnerName identify the KafkaUser that controls the Secret; Owner is "" when
	// none does.
	Owner     types.UID
	OwnerName string
	// Intact: the data holds what the operator wrote (its digest is the recorded one).
	Intact bool
	// Issued is what the operator recorded of the certificate or password it wrote.
	Issued
}

// Issued is what the operator records in a user Secret's annotations.
type Issued struct {
	// NotBefore and NotAfter bound a tls user's certificate; zero when not recorded.
	NotBefore, NotAfter time.Time
	// ValidityDays the certificate was issued with; 0 when not recorded.
	ValidityDays int32
	// CertGeneration and KeyGeneration of the clients CA that signed it.
	CertGeneration, KeyGeneration int
	// PasswordSource of a SCRAM user's password (AnnotationPasswordSource), "" for tls users.
	PasswordSource string
	// Digest of the data the operator wrote; kept for SCRAM users only, whose password is read
	// back and checked against it.
	Digest string
}

// ParseIssued reads what the annotations of a user Secret record.
func ParseIssued(ann map[string]string) Issued {
	out := Issued{
		CertGeneration: pki.ParseGeneration(ann, pki.AnnotationCertGeneration),
		KeyGeneration:  pki.ParseGeneration(ann, pki.AnnotationKeyGeneration),
		PasswordSource: ann[AnnotationPasswordSource],
	}
	out.NotBefore, _ = time.Parse(time.RFC3339, ann[AnnotationNotBefore])
	out.NotAfter, _ = time.Parse(time.RFC3339, ann[AnnotationNotAfter])
	if v, err := strconv.ParseInt(ann[AnnotationValidityDays], 10, 32); err == nil && v > 0 {
		out.ValidityDays = int32(v)
	}
	if out.PasswordSource != "" {
		out.Digest = ann[AnnotationDigest]
	}
	return out
}

// GetObjectMeta implements metav1.ObjectMetaAccessor (meta.Accessor), building the metadata.
func (c *Cached) GetObjectMeta() metav1.Object {
	m := &metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion}
	if c.Owner != "" {
		m.OwnerReferences = []metav1.OwnerReference{{APIVersion: v1beta1.SchemeGroupVersion.String(), Kind: v1beta1.KindKafkaUser,
			Name: c.OwnerName, UID: c.Owner, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	}
	return m
}

// GetObjectKind implements runtime.Object.
func (c *Cached) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object.
func (c *Cached) DeepCopyObject() runtime.Object {
	out := *c
	return &out
}

// CacheTransform is the informer transform of user Secrets: it turns each into a Cached. The
// data is digested and dropped; labels (the cache is already filtered by them), other
// annotations and owners other than a controlling KafkaUser are not kept.
func CacheTransform(obj any) (any, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	return Cache(s), nil
}

// Cache is what the cache keeps of s.
func Cache(s *corev1.Secret) *Cached {
	d := s.Annotations[AnnotationDigest]
	c := &Cached{Namespace: informers.Intern(s.Namespace), Name: s.Name, UID: s.UID, ResourceVersion: s.ResourceVersion,
		Intact: d != "" && d == Digest(s.Data), Issued: ParseIssued(s.Annotations)}
	if ref := metav1.GetControllerOfNoCopy(s); ref != nil && ref.Kind == v1beta1.KindKafkaUser {
		c.Owner, c.OwnerName = ref.UID, ref.Name
		if ref.Name == s.Name {
			c.OwnerName = c.Name // one string for both
		}
	}
	return c
}
