package integration

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestUserOperatorSecretPrefix (kfake): entityOperator.userOperator.secretPrefix names the users'
// Secrets <prefix><user>. When the prefix changes, the user's Secret under the old name goes once
// the new one is written, its password works, and a Secret of the new name the operator did not
// make is never taken over.
func TestUserOperatorSecretPrefix(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, context.Background()
	args := []string{"--sasl-username=operator", "--sasl-password-file=" + e.pwFile, "--clients-ca-namespace=" + e.ns}
	p := startOperator(t, f, "user-operator", ns, e.bootstrap, args...)

	for _, name := range []string{"bob", "carol"} {
		if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Create(ctx, kafkaUser(name, v1beta1.KafkaUserSpec{
			Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512}}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if ku := waitUser(t, f, ns, name, v1beta1.ReasonReady); ku.Status.Secret != name {
			t.Fatalf("status.secret = %q without a prefix", ku.Status.Secret)
		}
	}
	// Someone else's Secret holds carol's name under the new prefix.
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "kp-carol", Namespace: ns}, StringData: map[string]string{"password": "not-yours"}}
	if _, err := f.Kube.CoreV1().Secrets(ns).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	startOperator(t, f, "user-operator", ns, e.bootstrap, append(args, "--secret-prefix=kp-")...)

	eventually(t, "bob's Secret renamed to kp-bob", func() (bool, error) {
		ku, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Get(ctx, "bob", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		_, err = f.Kube.CoreV1().Secrets(ns).Get(ctx, "bob", metav1.GetOptions{})
		return ku.Status.Secret == "kp-bob" && apierrors.IsNotFound(err), nil
	})
	s := getSecret(t, f, ns, "kp-bob")
	cl := scramClient(t, e.bootstrap, "bob", string(s.Data["password"]))
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("bob's password in kp-bob does not log in: %v", err)
	}

	ku := waitUser(t, f, ns, "carol", v1beta1.ReasonResourceConflict)
	if ku.Status.Secret != "carol" {
		t.Errorf("carol's status.secret = %q; her Secret could not move", ku.Status.Secret)
	}
	if got := getSecret(t, f, ns, "kp-carol"); string(got.Data["password"]) != "not-yours" || len(got.OwnerReferences) != 0 {
		t.Errorf("the foreign kp-carol was changed: %v, owners %v", got.Data, got.OwnerReferences)
	}
	getSecret(t, f, ns, "carol") // still there: carol keeps working until the conflict is resolved
}
