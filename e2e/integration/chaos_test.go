package integration

import (
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/e2e/chaos"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

// TestChaosTopicsSlice is the fixed-seed slice of `make chaos` that make test runs (kfake): 150
// KafkaTopics created, a third changed, a third deleted, the topic operator SIGKILLed at the
// points seed 1 picks; the final state in Kafka and the API server must be exactly the desired
// one, with no panic.
func TestChaosTopicsSlice(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	dir, bins, kc := localOperators(t, f)
	logsOnFailure(t, dir)
	r, err := chaos.Topics(t.Context(), chaos.Env{KP: f.Kafkaplane, Kube: f.Kube, Kubeconfig: kc, Binary: bins["topic-operator"], LogDir: dir}, ns, 1, 150)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	for _, p := range r.Problems() {
		t.Error(p)
	}
}

// TestChaosUsersSlice is the users scenario's fixed-seed slice (kfake): 60 KafkaUsers, the user
// operator SIGKILLed at the points seed 1 picks; ACLs, quotas, SCRAM credentials and Secrets
// must be exactly the spec, nothing left of the deleted users, no Secret rewritten afterwards.
func TestChaosUsersSlice(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	dir, bins, kc := localOperators(t, f)
	logsOnFailure(t, dir)
	r, err := chaos.Users(t.Context(), chaos.Env{KP: f.Kafkaplane, Kube: f.Kube, Kubeconfig: kc, UserBinary: bins["user-operator"], LogDir: dir}, ns, 1, 60)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	for _, p := range r.Problems() {
		t.Error(p)
	}
}

// TestChaosHandoverSlice is the handover scenarios' slice (kfake): the topics and users
// operations with two replicas of each operator under leader election, each fault SIGKILLing
// the leader. The standby must hold the lease within the lease duration of the kill (and the
// retries' slack: it learns of the last renewal only when it next looks), and the final state
// must be exact, as with one replica.
func TestChaosHandoverSlice(t *testing.T) {
	f := framework.Get(t)
	dir, bins, kc := localOperators(t, f)
	logsOnFailure(t, dir)
	env := chaos.Env{KP: f.Kafkaplane, Kube: f.Kube, Kubeconfig: kc, Binary: bins["topic-operator"], UserBinary: bins["user-operator"],
		LogDir: dir, Handover: true}
	for _, sc := range []struct {
		name string
		run  func(ns string) (chaos.Result, error)
	}{
		{"topics", func(ns string) (chaos.Result, error) { return chaos.Topics(t.Context(), env, ns, 2, 90) }},
		{"users", func(ns string) (chaos.Result, error) { return chaos.Users(t.Context(), env, ns, 2, 30) }},
	} {
		t.Run(sc.name, func(t *testing.T) {
			r, err := sc.run(f.Namespace(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r)
			for _, p := range r.Problems() {
				t.Error(p)
			}
			if len(r.Takeovers) != r.Faults {
				t.Errorf("%d takeovers for %d kills of the leader", len(r.Takeovers), r.Faults)
			}
			for _, d := range r.Takeovers {
				// The standby may take the lease once it has seen no renewal for the lease
				// duration; it looks every retry period (0.5 s, jittered up to 1.1 s), so it
				// sees the last renewal and the expiry each up to a period late.
				if limit := chaos.LeaseDuration + 3*time.Second; d > limit {
					t.Errorf("the standby took the lease %s after the leader's kill, want within %s", d, limit)
				}
			}
		})
	}
}

// logsOnFailure prints, when the test fails, the end of each operator log in dir: a chaos
// failure seen only in CI (timing-dependent, as they are) can then be told from the log.
func logsOnFailure(t *testing.T, dir string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(chaos.LogReport(dir, nil))
		}
	})
}
