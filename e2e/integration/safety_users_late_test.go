package integration

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// TestDeletedUserWhoseACLsLandedLate (kfake): the user operator's CreateACLs for a user gets no
// answer (its connection dies, each time, until the call gives up), the user is deleted
// meanwhile, and Kafka carries the request out after the client gave up (here the test makes
// the binding, as a broker processing the request from its queue would). The deletion must
// still leave nothing of the user in Kafka. The finalizer used to be removed at once, by a
// cleanup working from a view that did not know of the binding: the deleted user kept its
// access for good (CI's handover chaos slice showed a deleted user's ACLs, quota and SCRAM
// credential left behind).
func TestDeletedUserWhoseACLsLandedLate(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, context.Background()
	var lost atomic.Int32
	var carriedOut atomic.Bool
	e.kf.ControlKey(int16(kmsg.CreateACLs), func(req kmsg.Request) (kmsg.Response, error, bool) {
		e.kf.KeepControl()
		if carriedOut.Load() {
			return nil, nil, false
		}
		for _, c := range req.(*kmsg.CreateACLsRequest).Creations {
			if c.Principal == "User:late" {
				lost.Add(1)
				return nil, errors.New("answer lost"), true
			}
		}
		return nil, nil, false
	})
	e.startOperator(t, ns)
	users := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns)
	rate := int64(1024)
	spec := v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512},
		Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders"}, Operations: []v1beta1.ACLOperation{"Write"}}}},
		Quotas: &v1beta1.KafkaUserQuotas{ProducerByteRate: &rate}}
	if _, err := users.Create(ctx, kafkaUser("late", spec), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the operator's CreateACLs for late", func() (bool, error) { return lost.Load() > 0, nil })
	if err := users.Delete(ctx, "late", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Kafka carries the request out once the operator's call has failed (the user says so), or
	// once the user is gone, whichever comes first.
	framework.Eventually(t, 30*time.Second, "the operator's call for late to fail", func() (bool, error) {
		ku, err := users.Get(ctx, "late", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(ku.Status.Conditions, v1beta1.ConditionReady)
		return c != nil && c.Reason == v1beta1.ReasonKafkaError, nil
	})
	time.Sleep(time.Second)
	carriedOut.Store(true)
	late := kadm.NewACLs().Allow("User:late").AllowHosts("*").Topics("orders").Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral)
	if _, err := e.adm.CreateACLs(ctx, late); err != nil {
		t.Fatal(err)
	}
	waitUserGone(t, f, ns, "late")

	acls, err := e.adm.DescribeACLs(ctx, kadm.NewACLs().Allow("User:late").AnyResource().ResourcePatternType(kadm.ACLPatternAny).
		Operations(kadm.OpAny).AllowHosts())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range acls {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		n += len(r.Described)
	}
	if n > 0 {
		t.Errorf("the deleted user late keeps %d ACLs in Kafka", n)
	}
	scrams, err := e.adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := scrams["late"]; ok && s.Err == nil && len(s.CredInfos) > 0 {
		t.Error("the deleted user late keeps its SCRAM credential")
	}
	quotas, err := e.adm.DescribeClientQuotas(ctx, false, []kadm.DescribeClientQuotaComponent{{Type: "user", MatchName: ptrTo("late")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(quotas) > 0 {
		t.Errorf("the deleted user late keeps quotas: %+v", quotas)
	}
}
