package rbac

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestNoBroaderThanNeeded: no operator may delete collections, escalate, bind or impersonate,
// and none holds a wildcard. (The cluster operator held deletecollection on Secrets, Pods, claims
// and more, which only the sandbox's own admin client ever used.)
func TestNoBroaderThanNeeded(t *testing.T) {
	for name, rules := range map[string][]rbacv1.PolicyRule{
		"cluster-operator": ClusterOperatorRules(), "topic-operator": TopicOperatorRules(), "user-operator": UserOperatorRules(),
	} {
		for _, r := range rules {
			for _, v := range r.Verbs {
				if slices.Contains([]string{"deletecollection", "escalate", "bind", "impersonate", "*"}, v) {
					t.Errorf("%s: verb %q on %v", name, v, r.Resources)
				}
			}
			if slices.Contains(r.Resources, "*") || slices.Contains(r.APIGroups, "*") {
				t.Errorf("%s: wildcard rule %+v", name, r)
			}
		}
	}
}

// TestTopicOperatorReadsNoSecrets: its Kafka credentials are mounted files.
func TestTopicOperatorReadsNoSecrets(t *testing.T) {
	for _, r := range TopicOperatorRules() {
		if slices.Contains(r.Resources, "secrets") {
			t.Errorf("the topic operator may %v Secrets", r.Verbs)
		}
	}
}
