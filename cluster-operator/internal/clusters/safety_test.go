package clusters

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	kpfake "github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned/fake"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// TestCAMissingFromCacheIsNotReplaced: a CA Secret the cache does not show (a lagging cache) is
// read from the API server and kept, not replaced by a new CA; one that lost our labels is a
// conflict reported on the Kafka, and nothing is written over it. (Before the fix a new CA was
// force-applied over the Secret both times, breaking every node's and client's trust.)
func TestCAMissingFromCacheIsNotReplaced(t *testing.T) {
	e := newEnv(t, testKafka(), testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	ctx := context.Background()
	secrets := e.kube.CoreV1().Secrets(ns)
	before := e.secretData(t, "c-cluster-ca-cert")["ca.crt"]
	beforeKey := e.secretData(t, "c-cluster-ca")["ca.key"]
	if len(before) == 0 || len(beforeKey) == 0 {
		t.Fatal("no cluster CA")
	}
	dropFromCache := func(name string) {
		t.Helper()
		s, err := secrets.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.caches.Secrets.Indexer(ns).Delete(s); err != nil {
			t.Fatal(err)
		}
	}
	// The cache lags: the cert Secret is missing from it.
	dropFromCache("c-cluster-ca-cert")
	e.reconcile(t)
	if got := e.secretData(t, "c-cluster-ca-cert")["ca.crt"]; !bytes.Equal(got, before) {
		t.Fatal("a CA missing from the cache was replaced by a new one")
	}
	if got := e.secretData(t, "c-cluster-ca")["ca.key"]; !bytes.Equal(got, beforeKey) {
		t.Fatal("the CA key was replaced")
	}

	// Its labels are removed: it is no longer recognisably ours.
	if _, err := secrets.Patch(ctx, "c-cluster-ca", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"kafkaplane.io/kind":null}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	dropFromCache("c-cluster-ca")
	e.reconcile(t)
	if got := e.secretData(t, "c-cluster-ca")["ca.key"]; !bytes.Equal(got, beforeKey) {
		t.Fatal("a new CA key was written over a Secret the operator does not recognise")
	}
	if got := e.secretData(t, "c-cluster-ca-cert")["ca.crt"]; !bytes.Equal(got, before) {
		t.Fatal("the CA certificate was replaced")
	}
	c := findReady(e.kafka(t))
	if c == nil || c.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(c.Message, "was not made by the cluster operator") {
		t.Fatalf("condition: %+v", c)
	}
}

// TestClusterIDWriteIsConditional: the cluster ID is recorded only on the version of the Kafka
// it was found missing in, so a reconcile on a cache that lags behind an ID written meanwhile
// gets a conflict instead of writing a second ID. (Before the fix the status patch carried no
// precondition and replaced the ID.) The fake clientset keeps no resource versions, so a
// reactor checks the precondition as the API server does.
func TestClusterIDWriteIsConditional(t *testing.T) {
	stored := testKafka()
	stored.ResourceVersion = "2"
	stored.Status.ClusterID = "first-id"
	kp := kpfake.NewSimpleClientset(stored)
	kp.PrependReactor("patch", "kafkas", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.PatchAction)
		var body struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(p.GetPatch(), &body)
		if rv := body.Metadata.ResourceVersion; rv != "" && rv != stored.ResourceVersion {
			return true, nil, apierrors.NewConflict(v1beta1.Resource("kafkas"), p.GetName(), nil)
		}
		return false, nil, nil
	})
	r := &Reconciler{Client: kp, Opts: Options{FieldManager: "test"}}
	lagging := testKafka() // what a lagging cache shows: no ID yet
	lagging.ResourceVersion = "1"
	err := r.recordClusterID(context.Background(), lagging, "second-id")
	if !apierrors.IsConflict(err) {
		t.Fatalf("recording a cluster ID from a stale version: %v, want a conflict", err)
	}
	got, err := kp.KafkaplaneV1beta1().Kafkas(ns).Get(context.Background(), "c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.ClusterID != "first-id" {
		t.Fatalf("cluster ID %q, want first-id", got.Status.ClusterID)
	}
}

// TestClientsCAKeyReplacementIsGated: after the clients CA key is replaced, the clients CA cert
// Secret says the nodes trust only the previous key generation until every node has restarted,
// ready, with a trust bundle holding the new CA certificate; then it says the new one. (Before,
// nothing told the user operator, which re-issued user certificates from the new key at once,
// while brokers still trusted only the old CA.)
func TestClientsCAKeyReplacementIsGated(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil
	k.Spec.ClientsCa = &v1beta1.CertificateAuthority{ValidityDays: 10, RenewalDays: 5, CertificateExpirationPolicy: v1beta1.ReplaceKey}
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 2, v1beta1.RoleBroker))
	e.reconcile(t)
	e.markReady(t)
	e.reconcile(t)
	trusted := func() (string, string) {
		s, err := e.kube.CoreV1().Secrets(ns).Get(context.Background(), "c-clients-ca-cert", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s.Annotations[pki.AnnotationTrustedKeyGeneration], s.Annotations[pki.AnnotationKeyGeneration]
	}
	if got, _ := trusted(); got != "0" {
		t.Fatalf("trusted key generation of a new clients CA: %q, want 0", got)
	}
	later := time.Now().Add(6 * 24 * time.Hour)
	e.rec.Opts.Now = func() time.Time { return later }
	e.checker.restart = true
	e.reconcile(t) // replaces the key; no node has restarted yet
	key, err := e.kube.CoreV1().Secrets(ns).Get(context.Background(), "c-clients-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if key.Annotations[pki.AnnotationKeyGeneration] != "1" {
		t.Fatalf("the clients CA key was not replaced: %v", key.Annotations)
	}
	if got, _ := trusted(); got != "0" {
		t.Fatalf("trusted key generation %q before any node restarted, want 0", got)
	}
	for i := 0; i < 40; i++ {
		e.markReady(t)
		e.reconcile(t)
		got, _ := trusted()
		stale := false
		for _, name := range append(e.nodeNames(t, "brokers"), e.nodeNames(t, "controllers")...) {
			bundle := string(e.secretData(t, name)["clients-ca.crt"])
			pod := e.pods(t)[name]
			if strings.Count(bundle, "BEGIN CERTIFICATE") < 2 || pod == nil || !podReady(pod) {
				stale = true
			}
		}
		if got == "1" {
			if stale {
				t.Fatal("the new key was published as trusted while a node does not trust it yet")
			}
			return
		}
	}
	t.Fatal("the new clients CA key was never published as trusted")
}

// TestForceReplaceCAKey: kafkaplane.io/force-replace on the cluster CA's key Secret replaces the
// key once and is cleared; a cache that still shows the request afterwards (it lags behind the
// replacement) does not replace the key a second time: the decision is taken on the API
// server's copy. Before, a stale read replaced the new key again, and the certificates issued
// under the first new key no longer verified.
func TestForceReplaceCAKey(t *testing.T) {
	e := readyCluster(t)
	ctx := context.Background()
	secrets := e.kube.CoreV1().Secrets(ns)
	stale, err := secrets.Patch(ctx, "c-cluster-ca", types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"kafkaplane.io/force-replace":"true"}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	staleCert, err := secrets.Get(ctx, "c-cluster-ca-cert", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldKey := e.secretData(t, "c-cluster-ca")["ca.key"]
	time.Sleep(200 * time.Millisecond)
	e.reconcile(t)
	key, err := secrets.Get(ctx, "c-cluster-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if key.Annotations[pki.AnnotationKeyGeneration] != "1" || bytes.Equal(key.Data["ca.key"], oldKey) {
		t.Fatalf("the key was not replaced: %v", key.Annotations)
	}
	if _, ok := key.Annotations[v1beta1.AnnotationForceReplace]; ok {
		t.Fatalf("the request was not cleared: %v", key.Annotations)
	}
	if n := strings.Count(string(e.secretData(t, "c-cluster-ca-cert")["ca.crt"])+string(e.secretData(t, "c-cluster-ca-cert")[firstOld(t, e)]), "BEGIN CERTIFICATE"); n != 2 {
		t.Fatalf("%d CA certificates trusted during the replacement, want the new and the old", n)
	}
	newKey := key.Data["ca.key"]
	// No node trusts the new key yet: the cluster operator's own client certificate (and the
	// entity operators') stays signed by the old one, or the brokers would refuse it and the
	// operator could no longer ask Kafka whether a node may restart (seen on real Kafka).
	oldCA, err := pki.DecodeCerts(staleCert.Data["ca.crt"])
	if err != nil {
		t.Fatal(err)
	}
	clientSignedBy := func(ca []*x509.Certificate) bool {
		t.Helper()
		leaf, err := pki.DecodeCerts(e.secretData(t, ClusterOperatorCertsSecretName("c"))["tls.crt"])
		if err != nil || len(leaf) == 0 {
			t.Fatalf("the cluster operator's certificate: %v", err)
		}
		return pki.SignedBy(leaf[0], ca, x509.ExtKeyUsageClientAuth, time.Now())
	}
	if !clientSignedBy(oldCA) {
		t.Fatal("the cluster operator's client certificate moved to the new key before any node trusts it")
	}

	// The cache lags: it still holds both Secrets as they were, with the request.
	for _, s := range []*corev1.Secret{stale, staleCert} {
		if err := e.caches.Secrets.Indexer(ns).Update(s); err != nil {
			t.Fatal(err)
		}
	}
	e.reconcile(t)
	if got := e.secretData(t, "c-cluster-ca")["ca.key"]; !bytes.Equal(got, newKey) {
		t.Fatal("a stale read of the request replaced the new key again")
	}
	for range 3 {
		e.markReady(t)
		e.reconcile(t)
	}
	key, _ = secrets.Get(ctx, "c-cluster-ca", metav1.GetOptions{})
	if key.Annotations[pki.AnnotationKeyGeneration] != "1" || !bytes.Equal(key.Data["ca.key"], newKey) {
		t.Fatalf("the key changed again: %v", key.Annotations)
	}
	// Once every node runs trusting the new key, the client certificate moves to it.
	e.checker.restart = true
	newCA, err := pki.DecodeCerts(e.secretData(t, "c-cluster-ca-cert")["ca.crt"])
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		e.reconcile(t)
		e.markReady(t)
		if clientSignedBy(newCA[:1]) {
			if !e.rec.allTrust(e.kafka(t), 1) {
				t.Fatal("the client certificate moved to the new key while a node does not trust it")
			}
			return
		}
	}
	t.Fatal("the cluster operator's client certificate never moved to the new key")
}

// firstOld names the superseded certificate kept in the cluster CA's cert Secret.
func firstOld(t *testing.T, e *env) string {
	t.Helper()
	for k := range e.secretData(t, "c-cluster-ca-cert") {
		if strings.HasPrefix(k, "ca-") && strings.HasSuffix(k, ".crt") {
			return k
		}
	}
	t.Fatal("no superseded CA certificate kept")
	return ""
}
