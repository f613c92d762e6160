package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestUserBadInput (kfake): KafkaUsers the schema admits but the user operator refuses end
// Ready=False with the reason and a message naming the problem, with a Warning Event; the user
// gets no Secret, no credential and no ACL in Kafka, and a Secret that is not the operator's is
// left as it was.
func TestUserBadInput(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, t.Context()
	e.startOperator(t, ns, "--super-users=User:CN=admin;User:root")
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dave"}, StringData: map[string]string{"password": "daves-own"}}
	made := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "stolen", Labels: map[string]string{v1beta1.LabelKind: v1beta1.KindKafka}},
		StringData: map[string]string{"ca.key": "key material"}}
	nokey := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "nokey"}, StringData: map[string]string{"other": "x"}}
	for _, s := range []*corev1.Secret{foreign, made, nokey} {
		if _, err := f.Kube.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	acl := `authorization: {type: simple, acls: [{resource: {type: topic, name: orders}, operations: [Write]}]}`
	cases := []struct{ name, spec, reason, want string }{
		{"rate-word", `{authentication: {type: scram-sha-512}, quotas: {controllerMutationRate: lots}, ` + acl + `}`, v1beta1.ReasonInvalidSpec, "controllerMutationRate"},
		{"rate-negative", `{authentication: {type: scram-sha-512}, quotas: {controllerMutationRate: -0.5}, ` + acl + `}`, v1beta1.ReasonInvalidSpec, "negative"},
		{"rate-object", `{authentication: {type: scram-sha-512}, quotas: {controllerMutationRate: {per: second}}, ` + acl + `}`, v1beta1.ReasonInvalidSpec, "is not a rate"},
		{"missing-pw", `{authentication: {type: scram-sha-512, password: {valueFrom: {secretKeyRef: {name: nothere, key: pw}}}}, ` + acl + `}`, v1beta1.ReasonSecretNotFound, "nothere"},
		{"pw-no-key", `{authentication: {type: scram-sha-512, password: {valueFrom: {secretKeyRef: {name: nokey, key: pw}}}}, ` + acl + `}`, v1beta1.ReasonSecretNotFound, `has no key "pw"`},
		{"pw-from-operator-secret", `{authentication: {type: scram-sha-512, password: {valueFrom: {secretKeyRef: {name: stolen, key: ca.key}}}}, ` + acl + `}`, v1beta1.ReasonInvalidSpec, "made by a Kafkaplane operator"},
		{"dave", `{authentication: {type: scram-sha-512}, ` + acl + `}`, v1beta1.ReasonResourceConflict, "did not make"},
		{"root", `{authentication: {type: scram-sha-512}, ` + acl + `}`, v1beta1.ReasonResourceConflict, "super user"},
		{"admin", `{authentication: {type: tls}, ` + acl + `}`, v1beta1.ReasonResourceConflict, "super user"},
	}
	for _, tc := range cases {
		y := `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaUser
metadata: {name: ` + tc.name + `, labels: {kafkaplane.io/cluster: c}}
spec: ` + tc.spec
		if _, err := f.ApplyObject(ctx, ns, obj(t, y)); err != nil {
			t.Fatalf("%s: the API server refused it (this test is about specs it admits): %v", tc.name, err)
		}
	}
	for _, tc := range cases {
		ku := waitUser(t, f, ns, tc.name, tc.reason)
		c := meta.FindStatusCondition(ku.Status.Conditions, v1beta1.ConditionReady)
		if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, tc.want) {
			t.Errorf("%s: condition %+v, want %q", tc.name, c, tc.want)
		}
		t.Logf("%s: %s: %s", tc.name, c.Reason, c.Message)
		framework.Eventually(t, 30*time.Second, "a Warning event for "+tc.name, func() (bool, error) {
			evs, err := f.Kube.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			for _, ev := range evs.Items {
				if ev.Regarding.Name == tc.name && ev.Type == corev1.EventTypeWarning {
					return true, nil
				}
			}
			return false, fmt.Errorf("none among %d", len(evs.Items))
		})
		principal := tc.name
		if strings.Contains(tc.spec, "type: tls") {
			principal = "CN=" + tc.name
		}
		if hasSCRAM(t, e.adm, tc.name) || len(aclsOf(t, e.cl, "User:"+principal)) != 0 {
			t.Errorf("%s: a credential or ACLs in Kafka", tc.name)
		}
		if s, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, tc.name, metav1.GetOptions{}); tc.name != "dave" && !apierrors.IsNotFound(err) {
			t.Errorf("%s: got a Secret: %v", tc.name, err)
		} else if tc.name == "dave" && (err != nil || string(s.Data["password"]) != "daves-own" || len(s.OwnerReferences) != 0) {
			t.Errorf("dave's own Secret was changed: %v %v", s, err)
		}
	}
}
