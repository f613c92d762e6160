package users

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	kpscheme "github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned/scheme"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/credentials"
)

// userJSON is a KafkaUser as the API server sends it in a watch event (bench-users' user).
const userJSON = `{"apiVersion":"kafkaplane.io/v1beta1","kind":"KafkaUser","metadata":{"creationTimestamp":"2026-11-26T00:41:32Z","finalizers":["kafkaplane.io/user-operator"],"generation":1,"labels":{"kafkaplane.io/cluster":"bench"},"managedFields":[{"apiVersion":"kafkaplane.io/v1beta1","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:kafkaplane.io/cluster":{}}},"f:spec":{".":{},"f:authentication":{".":{},"f:type":{}}}},"manager":"bench","operation":"Update","time":"2026-11-26T00:41:32Z"}],"name":"%s","namespace":"operator-tls-20000","resourceVersion":"%d","uid":"%s"},"spec":{"authentication":{"type":"tls"},"authorization":{"acls":[{"host":"*","operations":["Read","Describe"],"resource":{"name":"topic-%s","patternType":"literal","type":"topic"},"type":"allow"},{"host":"*","operations":["Read"],"resource":{"name":"group-%s","patternType":"prefix","type":"group"},"type":"allow"}],"type":"simple"}},"status":{"conditions":[{"lastTransitionTime":"2026-11-26T00:41:33Z","message":"credentials, ACLs and quotas are in effect","observedGeneration":1,"reason":"Ready","status":"True","type":"Ready"}],"observedGeneration":1,"secret":"%s","username":"CN=%s"}}`

// heap is the live heap after a collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkCachedUserSize reports what a cached KafkaUser costs (decoded as from a watch, after
// CacheTransform), counting the store's map entry:
// go test -run '^$' -bench Cached -benchtime 1x ./internal/users/ (20,000 objects, whatever b.N).
func BenchmarkCachedUserSize(b *testing.B) {
	const n = 20000
	codecs := serializer.NewCodecFactory(kpscheme.Scheme)
	raws := make([][]byte, n)
	for i := range n {
		name := fmt.Sprintf("operator-tls-20000-%06d", i)
		raws[i] = []byte(fmt.Sprintf(userJSON, name, 100000+i, fmt.Sprintf("6f1c2b7e-4f7d-4c9a-9d51-%012d", i), name, name, name, name))
	}
	b.ReportMetric(cachedSize(b, raws, codecs.UniversalDeserializer(), CacheTransform), "B/user")
}

// BenchmarkCachedSecretSize reports what a cached user Secret costs (decoded from protobuf as from
// a watch, after credentials.CacheTransform), counting the store's map entry.
func BenchmarkCachedSecretSize(b *testing.B) {
	const n = 20000
	codecs := serializer.NewCodecFactory(scheme.Scheme)
	info, ok := k8sruntime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), "application/vnd.kubernetes.protobuf")
	if !ok {
		b.Fatal("no protobuf")
	}
	ca := benchCA(b)
	data, ann, err := credentials.TLS(ca, "x", 365, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	raws := make([][]byte, n)
	for i := range n {
		name := fmt.Sprintf("operator-tls-20000-%06d", i)
		ku := &v1beta1.KafkaUser{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(fmt.Sprintf("6f1c2b7e-4f7d-4c9a-9d51-%012d", i))}}
		s := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "operator-tls-20000", UID: types.UID(fmt.Sprintf("7f1c2b7e-4f7d-4c9a-9d51-%012d", i)),
				ResourceVersion: fmt.Sprint(200000 + i), CreationTimestamp: metav1.Now(),
				Labels: ownership.Labels("bench", v1beta1.KindKafkaUser, name, SecretComponent), Annotations: ann,
				OwnerReferences: []metav1.OwnerReference{ownership.ControllerRef(ku, v1beta1.KindKafkaUser)},
				ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kafkaplane-user-operator", Operation: "Update", APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:data":{".":{},"f:ca.crt":{}}}`)}}}},
			Type: corev1.SecretTypeOpaque, Data: data}
		var buf bytes.Buffer
		if err := info.Serializer.Encode(s, &buf); err != nil {
			b.Fatal(err)
		}
		raws[i] = buf.Bytes()
	}
	b.ReportMetric(cachedSize(b, raws, codecs.UniversalDeserializer(), credentials.CacheTransform), "B/secret")
}

// cachedSize is the live heap per object of a store holding raws decoded and transformed as an
// informer does.
func cachedSize(b *testing.B, raws [][]byte, dec k8sruntime.Decoder, transform func(any) (any, error)) float64 {
	before := heap()
	store := make(map[string]any, len(raws))
	for i, raw := range raws {
		obj, _, err := dec.Decode(raw, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		o, _ := informers.StripManagedFields(obj)
		if o, err = transform(o); err != nil {
			b.Fatal(err)
		}
		store[fmt.Sprint(i)] = o
	}
	after := heap()
	runtime.KeepAlive(store)
	runtime.KeepAlive(raws)
	return float64(after-before) / float64(len(raws))
}

func benchCA(b testing.TB) *credentials.ClientsCA {
	kp, err := pki.NewCA("ca", 365*24*time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return &credentials.ClientsCA{KeyPair: kp, CertPEM: pki.EncodeCerts(kp.Cert)}
}
