package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// crossNamespaceYAML is a Kafka whose entity operators watch another namespace (%s).
const crossNamespaceYAML = `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata:
  name: dual
  labels: {kafkaplane.io/cluster: c, team: a}
spec:
  replicas: 1
  roles: [controller, broker]
  storage: {type: ephemeral}
---
apiVersion: kafkaplane.io/v1beta1
kind: Kafka
metadata:
  name: c
  labels: {team: a}
spec:
  kafka:
    listeners:
      - {name: plain, port: 9092, type: internal, tls: false}
  entityOperator:
    topicOperator: {watchedNamespace: %[1]s}
    userOperator: {watchedNamespace: %[1]s}
`

// TestReleaseOnlyWhenOperatorGone: a KafkaTopic and a KafkaUser in an application namespace,
// served by a Kafka elsewhere whose entity operators watch that namespace, keep their finalizers
// while being deleted — also when the Kafka leaves the cluster operator's label selector — until
// their operator provably goes: the topic's when the Kafka stops running the topic operator, the
// user's when the Kafka is deleted. The entity operators' Roles and RoleBindings in the watched
// namespace go with them. (Before the fix, both finalizers were removed at once because no Kafka
// lives in the application namespace, and the Roles there were never deleted.)
func TestReleaseOnlyWhenOperatorGone(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ctx := context.Background()
	kafkaNS, appNS := f.Namespace(t), f.Namespace(t)
	if _, err := f.Apply(ctx, kafkaNS, fmt.Appendf(nil, crossNamespaceYAML, appNS)); err != nil {
		t.Fatal(err)
	}
	startClusterOperator(t, f, kafkaNS+","+appNS, "--resource-labels=team=a")
	rbac := f.Kube.RbacV1()
	for _, name := range []string{"c-entity-topic-operator", "c-entity-user-operator"} {
		framework.Eventually(t, time.Minute, "Role and RoleBinding "+name+" in the watched namespace", func() (bool, error) {
			if _, err := rbac.Roles(appNS).Get(ctx, name, metav1.GetOptions{}); err != nil {
				return false, err
			}
			_, err := rbac.RoleBindings(appNS).Get(ctx, name, metav1.GetOptions{})
			return err == nil, err
		})
	}

	// What the user operator watching the application namespace may read: every Secret there,
	// and in the Kafka's namespace only the clients CA, by name — not the cluster CA key, not the
	// nodes' keys.
	framework.Eventually(t, time.Minute, "the user operator's Role for the clients CA", func() (bool, error) {
		_, err := rbac.RoleBindings(kafkaNS).Get(ctx, "c-entity-user-operator-clients-ca", metav1.GetOptions{})
		return err == nil, err
	})
	uo := "system:serviceaccount:" + kafkaNS + ":c-entity-user-operator"
	can := func(ns, verb, name string) bool {
		t.Helper()
		r, err := f.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: uo, Groups: []string{"system:serviceaccounts", "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: "secrets", Name: name}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status.Allowed
	}
	for _, c := range []struct {
		ns, verb, name string
		want           bool
	}{
		{appNS, "get", "any-user", true}, {appNS, "list", "", true},
		{kafkaNS, "get", "c-clients-ca", true}, {kafkaNS, "get", "c-clients-ca-cert", true},
		{kafkaNS, "get", "c-cluster-ca", false}, {kafkaNS, "get", "c-dual-0", false},
		{kafkaNS, "list", "", false}, {kafkaNS, "create", "", false},
	} {
		if got := can(c.ns, c.verb, c.name); got != c.want {
			t.Errorf("user operator may %s Secret %s/%s: %v, want %v", c.verb, c.ns, c.name, got, c.want)
		}
	}

	labels := map[string]string{v1beta1.LabelCluster: "c", "team": "a"}
	topics, users := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(appNS), f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(appNS)
	kt := kafkaTopic("t", v1beta1.KafkaTopicSpec{}, labels)
	kt.Finalizers = []string{v1beta1.FinalizerTopicOperator}
	if _, err := topics.Create(ctx, kt, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ku := &v1beta1.KafkaUser{ObjectMeta: metav1.ObjectMeta{Name: "u", Labels: labels, Finalizers: []string{v1beta1.FinalizerUserOperator}}}
	if _, err := users.Create(ctx, ku, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := topics.Delete(ctx, "t", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := users.Delete(ctx, "u", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	keeps := func(what string) {
		t.Helper()
		// Three of the cluster operator's 2 s resyncs.
		time.Sleep(6 * time.Second)
		got, err := topics.Get(ctx, "t", metav1.GetOptions{})
		if err != nil || !slices.Contains(got.Finalizers, v1beta1.FinalizerTopicOperator) {
			t.Fatalf("%s: the topic lost its finalizer while its operator is running (%v)", what, err)
		}
		gotU, err := users.Get(ctx, "u", metav1.GetOptions{})
		if err != nil || !slices.Contains(gotU.Finalizers, v1beta1.FinalizerUserOperator) {
			t.Fatalf("%s: the user lost its finalizer while its operator is running (%v)", what, err)
		}
	}
	keeps("Kafka running both operators")

	// The Kafka leaves the label selector: it is out of the cache, not deleted.
	kafkas := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(kafkaNS)
	if _, err := kafkas.Patch(ctx, "c", types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"b"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	keeps("Kafka out of the label selector")
	if _, err := kafkas.Patch(ctx, "c", types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"a"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	// The topic operator is dropped from the spec: the topic is released, its RBAC goes.
	if _, err := kafkas.Patch(ctx, "c", types.MergePatchType, []byte(`{"spec":{"entityOperator":{"topicOperator":null}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	gone := func(what string, get func() error) {
		t.Helper()
		framework.Eventually(t, time.Minute, what+" gone", func() (bool, error) {
			err := get()
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, fmt.Errorf("still there (%v)", err)
		})
	}
	gone("KafkaTopic t", func() error { _, err := topics.Get(ctx, "t", metav1.GetOptions{}); return err })
	gone("topic operator RoleBinding", func() error {
		_, err := rbac.RoleBindings(appNS).Get(ctx, "c-entity-topic-operator", metav1.GetOptions{})
		return err
	})
	gone("topic operator Role", func() error {
		_, err := rbac.Roles(appNS).Get(ctx, "c-entity-topic-operator", metav1.GetOptions{})
		return err
	})
	if _, err := users.Get(ctx, "u", metav1.GetOptions{}); err != nil {
		t.Fatalf("the user went with the topic operator: %v", err)
	}

	// The Kafka is deleted: the user is released, the user operator's RBAC goes.
	if err := kafkas.Delete(ctx, "c", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	gone("KafkaUser u", func() error { _, err := users.Get(ctx, "u", metav1.GetOptions{}); return err })
	for _, name := range []string{"c-entity-user-operator"} {
		gone("user operator RoleBinding", func() error { _, err := rbac.RoleBindings(appNS).Get(ctx, name, metav1.GetOptions{}); return err })
		gone("user operator Role", func() error { _, err := rbac.Roles(appNS).Get(ctx, name, metav1.GetOptions{}); return err })
	}
	// Nothing of ours is left in the application namespace.
	rbs, err := rbac.RoleBindings(appNS).List(ctx, metav1.ListOptions{LabelSelector: v1beta1.LabelCluster + "=c"})
	if err != nil || len(rbs.Items) != 0 {
		t.Fatalf("RoleBindings left in %s: %v %v", appNS, rbs, err)
	}
}
