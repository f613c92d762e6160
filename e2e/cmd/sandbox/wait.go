package main

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

// waitExamples waits until every Kafka, KafkaTopic and KafkaUser is Ready (users also have their
// Secret), or the timeout; it returns one line per resource with its state, hiding nothing.
func waitExamples(ctx context.Context, kp versioned.Interface, e *env.Env, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		lines, done := exampleStates(ctx, kp, e)
		if done || time.Now().After(deadline) || ctx.Err() != nil {
			return lines
		}
		time.Sleep(2 * time.Second)
	}
}

func state(conds []metav1.Condition, generation int64) (bool, string) {
	if conditions.IsReady(conds, generation) {
		return true, "Ready"
	}
	if c := conditions.Find(conds, v1beta1.ConditionReady); c != nil {
		return false, fmt.Sprintf("not ready: %s: %s", c.Reason, c.Message)
	}
	return false, "not ready: no status yet"
}

func exampleStates(ctx context.Context, kp versioned.Interface, e *env.Env) ([]string, bool) {
	all := true
	var lines []string
	add := func(kind, ns, name string, ok bool, msg string) {
		all = all && ok
		lines = append(lines, fmt.Sprintf("%-12s %s/%s: %s", kind, ns, name, msg))
	}
	ks, err := kp.KafkaplaneV1beta1().Kafkas(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{err.Error()}, false
	}
	for _, k := range ks.Items {
		ok, msg := state(k.Status.Conditions, k.Generation)
		add("Kafka", k.Namespace, k.Name, ok, msg)
	}
	ts, err := kp.KafkaplaneV1beta1().KafkaTopics(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{err.Error()}, false
	}
	for _, t := range ts.Items {
		ok, msg := state(t.Status.Conditions, t.Generation)
		add("KafkaTopic", t.Namespace, t.Name, ok, msg)
	}
	us, err := kp.KafkaplaneV1beta1().KafkaUsers(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{err.Error()}, false
	}
	for _, u := range us.Items {
		ok, msg := state(u.Status.Conditions, u.Generation)
		if ok && u.Status.Secret != "" {
			if _, err := e.Kube.CoreV1().Secrets(u.Namespace).Get(ctx, u.Status.Secret, metav1.GetOptions{}); err != nil {
				ok, msg = false, "Secret "+u.Status.Secret+" missing"
			} else {
				msg += ", Secret " + u.Status.Secret
			}
		}
		add("KafkaUser", u.Namespace, u.Name, ok, msg)
	}
	return lines, all
}
