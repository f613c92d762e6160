package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

const releaseYAML = `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata:
  name: dual
  labels: {kafkaplane.io/cluster: c}
spec:
  replicas: 1
  roles: [controller, broker]
  storage: {type: ephemeral}
---
apiVersion: kafkaplane.io/v1beta1
kind: Kafka
metadata:
  name: c
spec:
  kafka:
    listeners:
      - {name: plain, port: 9092, type: internal, tls: false}
  entityOperator:
    topicOperator: {}
    userOperator: {}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaTopic
metadata:
  name: t
  labels: {kafkaplane.io/cluster: c}
  finalizers: [kafkaplane.io/topic-operator]
spec: {partitions: 1, replicas: 1}
---
apiVersion: kafkaplane.io/v1beta1
kind: KafkaUser
metadata:
  name: u
  labels: {kafkaplane.io/cluster: c}
  finalizers: [kafkaplane.io/user-operator]
spec:
  authentication: {type: tls}
`

// TestNamespaceDeletionDoesNotHangOnFinalizers: deleting a namespace with a Kafka, a topic and a
// user that carry their operators' finalizers completes — the Kafka and its operators go first,
// and the cluster operator then releases the finalizers nobody is left to process.
func TestNamespaceDeletionDoesNotHangOnFinalizers(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ctx := context.Background()
	ns := "release-" + rand.String(5)
	if _, err := f.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Apply(ctx, ns, []byte(releaseYAML)); err != nil {
		t.Fatal(err)
	}
	_, _ = startClusterOperator(t, f, ns)
	framework.Eventually(t, time.Minute, "the cluster's pod", func() (bool, error) {
		_, err := f.Kube.CoreV1().Pods(ns).Get(ctx, "c-dual-0", metav1.GetOptions{})
		return err == nil, err
	})
	if err := f.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 2*time.Minute, "namespace "+ns+" gone", func() (bool, error) {
		_, err := f.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		t, terr := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns).Get(ctx, "t", metav1.GetOptions{})
		if terr == nil {
			return false, fmt.Errorf("topic t still there with finalizers %v", t.Finalizers)
		}
		return false, err
	})
}
