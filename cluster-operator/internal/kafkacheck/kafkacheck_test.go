package kafkacheck

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/certs"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// A client whose calls keep failing to reach Kafka is replaced after MaxFailures in a row; an
// answer (even an error code, or an unsupported request) keeps it.
func TestClientReplacedAfterFailures(t *testing.T) {
	ca, err := pki.NewCA("ca", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.Issue(pki.Leaf{CommonName: "op", Client: true, Validity: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.EncodeKey(kp.Key)
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{Data: map[string][]byte{certs.ClientCertKey: pki.EncodeCerts(kp.Cert), certs.ClientKeyKey: key, certs.CATrustKey: pki.EncodeCerts(ca.Cert)}}
	c := &Checker{Secret: func(string, string) *corev1.Secret { return secret }, SecretName: func(string) string { return "s" }}
	k := &v1beta1.Kafka{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}}
	first, err := c.Client(k)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	timeout := fmt.Errorf("describing the quorum: %w", context.DeadlineExceeded)
	for range MaxFailures - 1 {
		c.Report(k, timeout)
	}
	c.Report(k, errors.New("UNSUPPORTED_VERSION: the broker does not support this request")) // an answer: not counted
	if cl, _ := c.Client(k); cl != first {
		t.Fatal("the client was replaced before MaxFailures failures")
	}
	c.Report(k, timeout)
	second, err := c.Client(k)
	if err != nil || second == first {
		t.Fatalf("the client was not replaced after %d failures in a row (%v)", MaxFailures, err)
	}
	for range MaxFailures - 1 {
		c.Report(k, timeout)
	}
	c.Report(k, nil)
	c.Report(k, timeout)
	if cl, _ := c.Client(k); cl != second {
		t.Fatal("a success did not reset the count")
	}
}
