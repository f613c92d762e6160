package clusters

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// TestUserProvidedClusterCA: with generateCertificateAuthority false the operator signs with the
// user's CA and never writes its Secrets; without them the Kafka says so and nothing is created.
func TestUserProvidedClusterCA(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil
	k.Spec.ClusterCa = &v1beta1.CertificateAuthority{GenerateCertificateAuthority: ptr.To(false)}
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || c.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(c.Message, "user-provided") {
		t.Fatalf("condition without the user's CA: %+v", c)
	}
	if n := len(e.pods(t)); n != 0 {
		t.Fatalf("%d pods", n)
	}
	ca, err := pki.NewCA("my-own-ca", 365*24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := pki.EncodeKey(ca.Key)
	ctx := context.Background()
	for name, data := range map[string]map[string][]byte{
		"c-cluster-ca-cert": {"ca.crt": pki.EncodeCerts(ca.Cert)},
		"c-cluster-ca":      {"ca.key": keyPEM},
	} {
		if _, err := e.kube.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.reconcile(t)
	broker := e.nodeNames(t, "brokers")[0]
	certs, err := pki.DecodeCerts(e.secretData(t, broker)["node.crt"])
	if err != nil {
		t.Fatal(err)
	}
	if err := certs[0].CheckSignatureFrom(ca.Cert); err != nil {
		t.Fatalf("the node certificate is not from the user's CA: %v", err)
	}
	s, _ := e.kube.CoreV1().Secrets(ns).Get(ctx, "c-cluster-ca-cert", metav1.GetOptions{})
	if len(s.Data) != 1 || len(s.OwnerReferences) != 0 {
		t.Errorf("the user's CA Secret was changed: keys %d, owners %v", len(s.Data), s.OwnerReferences)
	}
}
