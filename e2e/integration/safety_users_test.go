package integration

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// TestUserPrincipalTakeover: a KafkaUser may not take over a principal it did not create — one
// that already has ACLs, quotas or a SCRAM credential in Kafka (made with Kafka tools), or a super
// user of the Kafka — unless it asks with kafkaplane.io/adopted: "true" (never for a super user);
// a refused user's deletion leaves the principal alone. (Before the fix, the user reset the
// outsider's ACLs and quotas and overwrote its password, and then deleted them with itself.)
func TestUserPrincipalTakeover(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, context.Background()
	checkOutsider := e.addOutsider(t)
	e.startOperator(t, ns, "--super-users=User:CN=admin;User:root")
	users := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns)
	scram := v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512}}

	// The outsider's principal, made with Kafka tools.
	if _, err := users.Create(ctx, kafkaUser("outsider", scram), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	u := waitUser(t, f, ns, "outsider", v1beta1.ReasonResourceConflict)
	if !strings.Contains(readyMessage(u), "no KafkaUser made") {
		t.Errorf("message %q", readyMessage(u))
	}
	time.Sleep(3 * time.Second) // a resync
	checkOutsider()
	if _, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, "outsider", metav1.GetOptions{}); err == nil {
		t.Error("a refused user got a password Secret")
	}
	if err := users.Delete(ctx, "outsider", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUserGone(t, f, ns, "outsider")
	checkOutsider()

	// Super users, whatever the annotation says.
	for name, spec := range map[string]v1beta1.KafkaUserSpec{
		"root":  scram,
		"admin": {Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthTLS}},
	} {
		ku := kafkaUser(name, spec)
		ku.Annotations = map[string]string{"kafkaplane.io/adopted": "true"}
		if _, err := users.Create(ctx, ku, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		u := waitUser(t, f, ns, name, v1beta1.ReasonResourceConflict)
		if !strings.Contains(readyMessage(u), "super user") {
			t.Errorf("%s: message %q", name, readyMessage(u))
		}
		if _, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			t.Errorf("the super user %s got a credential Secret", name)
		}
	}
	if hasSCRAM(t, e.adm, "root") {
		t.Error("a SCRAM credential was set for the super user root")
	}

	// Adopting the outsider explicitly works, and makes it the user's.
	adopt := kafkaUser("outsider", scram)
	adopt.Annotations = map[string]string{"kafkaplane.io/adopted": "true"}
	if _, err := users.Create(ctx, adopt, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUser(t, f, ns, "outsider", v1beta1.ReasonReady)
	eventually(t, "the adopted principal to follow its spec", func() (bool, error) {
		acls, q := aclsOf(t, e.cl, "User:outsider"), quotasOf(t, e.adm, "outsider")
		return len(acls) == 0 && len(q) == 0, fmt.Errorf("ACLs %v quotas %v", acls, q)
	})
}

// TestUserCleanupIgnoresStatus: the principal a deleted user's cleanup acts on comes from its
// spec and name; a status.username aimed at another principal is ignored. (Before the fix the
// cleanup of status.username removed that principal's ACLs, quotas and password.)
func TestUserCleanupIgnoresStatus(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, context.Background()
	checkOutsider := e.addOutsider(t)
	e.startOperator(t, ns)
	users := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns)
	// A managed user whose ACLs and password are the target.
	victim := v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512},
		Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders"}, Operations: []v1beta1.ACLOperation{"Read"}}}}}
	if _, err := users.Create(ctx, kafkaUser("victim", victim), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUser(t, f, ns, "victim", v1beta1.ReasonReady)
	spec := v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthTLS}}
	if _, err := users.Create(ctx, kafkaUser("mallory", spec), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUser(t, f, ns, "mallory", v1beta1.ReasonReady)
	// Someone who may patch the status aims it at the victim, and deletes the user at once.
	if _, err := users.Patch(ctx, "mallory", types.MergePatchType, []byte(`{"status":{"username":"victim"}}`), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	if err := users.Delete(ctx, "mallory", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUserGone(t, f, ns, "mallory")
	checkOutsider()
	if acls := aclsOf(t, e.cl, "User:victim"); len(acls) != 1 {
		t.Errorf("the victim's ACLs changed: %v", acls)
	}
	if !hasSCRAM(t, e.adm, "victim") {
		t.Error("the victim's SCRAM credential was deleted")
	}
	// The deletion Event says how long the certificate stays valid.
	evs, err := f.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs.Items {
		if ev.Reason == "CleanedUp" && strings.Contains(ev.Message, "certificate stays valid until") {
			found = true
		}
	}
	if !found {
		t.Error("no CleanedUp event saying until when the certificate stays valid")
	}
}

// TestUserPasswordSourceRestricted: a SCRAM password may not be copied from a Secret a Kafkaplane
// operator made (a CA key, another user's credentials); a Secret of the user's own is fine.
// (Before the fix, the clients CA key became the user's password and was copied into its Secret.)
func TestUserPasswordSourceRestricted(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, context.Background()
	// Label the clients CA key as the cluster operator does.
	if _, err := f.Kube.CoreV1().Secrets(ns).Patch(ctx, v1beta1.ClientsCAKeySecretName("c"), types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"kafkaplane.io/kind":"Kafka","kafkaplane.io/cluster":"c"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	mine := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "my-password"}, Data: map[string][]byte{"pw": []byte("a-password-of-mine")}}
	if _, err := f.Kube.CoreV1().Secrets(ns).Create(ctx, mine, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.startOperator(t, ns)
	users := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns)
	from := func(secret, key string) v1beta1.KafkaUserSpec {
		return v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512,
			Password: &v1beta1.Password{ValueFrom: v1beta1.PasswordSource{SecretKeyRef: v1beta1.SecretKeySelector{Name: secret, Key: key}}}}}
	}
	if _, err := users.Create(ctx, kafkaUser("thief", from(v1beta1.ClientsCAKeySecretName("c"), "ca.key")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	u := waitUser(t, f, ns, "thief", v1beta1.ReasonInvalidSpec)
	if !strings.Contains(readyMessage(u), "made by a Kafkaplane operator") {
		t.Errorf("message %q", readyMessage(u))
	}
	if s, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, "thief", metav1.GetOptions{}); err == nil {
		t.Errorf("the CA key was copied into a user Secret: %v", s.Data)
	}
	if hasSCRAM(t, e.adm, "thief") {
		t.Error("the CA key became a SCRAM password")
	}
	if _, err := users.Create(ctx, kafkaUser("honest", from("my-password", "pw")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUser(t, f, ns, "honest", v1beta1.ReasonReady)
	if s := getSecret(t, f, ns, "honest"); string(s.Data["password"]) != "a-password-of-mine" {
		t.Errorf("password %q", s.Data["password"])
	}
}

func readyMessage(ku *v1beta1.KafkaUser) string {
	for _, c := range ku.Status.Conditions {
		if c.Type == v1beta1.ConditionReady {
			return c.Message
		}
	}
	return ""
}

func waitUserGone(t *testing.T, f *framework.Framework, ns, name string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, "KafkaUser "+name+" gone", func() (bool, error) {
		_, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
}

// TestUserCertificatesWaitForBrokersToTrustNewKey: when the clients CA key is replaced, user
// certificates stay on the old key (and a new user waits) until the clients CA cert Secret says
// every Kafka node trusts the new key; then they move. (Before, they were re-issued from the new
// key at once, which brokers that had not restarted refused.)
func TestUserCertificatesWaitForBrokersToTrustNewKey(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, context.Background()
	e.startOperator(t, ns)
	users := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns)
	tls := v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthTLS}}
	if _, err := users.Create(ctx, kafkaUser("early", tls), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUser(t, f, ns, "early", v1beta1.ReasonReady)
	oldCert := string(getSecret(t, f, ns, "early").Data["user.crt"])

	// The key is replaced (generation 1); the nodes still trust only generation 0.
	newCA := e.writeClientsCATrusting(t, 1, 1, 0, nil)
	setTrusted := func(gen string) {
		t.Helper()
		if _, err := f.Kube.CoreV1().Secrets(ns).Patch(ctx, v1beta1.ClientsCACertSecretName("c"), types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"`+pki.AnnotationTrustedKeyGeneration+`":"`+gen+`"}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := users.Create(ctx, kafkaUser("late", tls), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	u := waitUser(t, f, ns, "late", v1beta1.ReasonCAUnavailable)
	if !strings.Contains(readyMessage(u), "trust the new clients CA key") {
		t.Errorf("message %q", readyMessage(u))
	}
	time.Sleep(3 * time.Second) // resyncs
	if got := string(getSecret(t, f, ns, "early").Data["user.crt"]); got != oldCert {
		t.Fatal("a user certificate moved to the new key before the brokers trust it")
	}
	if early, err := users.Get(ctx, "early", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	} else if r := meta.FindStatusCondition(early.Status.Conditions, v1beta1.ConditionReady); r == nil || r.Status != metav1.ConditionTrue {
		t.Errorf("a user keeping its valid certificate is not Ready: %+v", r)
	}

	// Every node trusts the new key: both users get certificates from it.
	setTrusted("1")
	for _, name := range []string{"early", "late"} {
		eventually(t, name+" on the new key", func() (bool, error) {
			s, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			certs, err := pki.DecodeCerts(s.Data["user.crt"])
			return err == nil && pki.SignedBy(certs[0], []*x509.Certificate{newCA.Cert}, x509.ExtKeyUsageClientAuth, time.Now()), err
		})
	}
	waitUser(t, f, ns, "late", v1beta1.ReasonReady)
}
