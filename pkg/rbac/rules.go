// Package rbac holds the least-privilege rules of the entity operators, granted by a Role in
// each watched namespace: the cluster operator creates those Roles, the Helm chart renders them,
// and tests prove with the operators' own credentials that the rules are enough and no more.
package rbac

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

var (
	read        = []string{"get", "list", "watch"}
	leaseVerbs  = []string{"get", "create", "update"}
	eventVerbs  = []string{"create", "patch"}
	statusVerbs = []string{"get", "patch", "update"}
)

// common are the rules every operator needs in its namespace: its leader-election Lease and
// events.
func common() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: leaseVerbs},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: eventVerbs},
	}
}

// UserOperatorRules are what the user operator needs in a watched namespace: its KafkaUsers
// (read, finalizer patches, status), and Secrets — the users' Secrets it writes, password
// sources and the clients CA it reads. Kubernetes RBAC cannot narrow Secrets by label, so the
// namespace is the boundary; nothing is granted cluster-wide.
func UserOperatorRules() []rbacv1.PolicyRule { return append(userRules(), common()...) }

func userRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{v1beta1.GroupName}, Resources: []string{"kafkausers"}, Verbs: slices.Concat(read, []string{"patch", "update"})},
		{APIGroups: []string{v1beta1.GroupName}, Resources: []string{"kafkausers/status"}, Verbs: statusVerbs},
		// Owner references with blockOwnerDeletion need update on the owner's finalizers.
		{APIGroups: []string{v1beta1.GroupName}, Resources: []string{"kafkausers/finalizers"}, Verbs: []string{"update"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: slices.Concat(read, []string{"create", "patch", "update", "delete"})},
	}
}

// TopicOperatorRules are what the topic operator needs in a watched namespace: its KafkaTopics
// (read, finalizer patches, status; create for adopted topics). It reads no Secrets through the
// API: its Kafka credentials are mounted files.
func TopicOperatorRules() []rbacv1.PolicyRule { return append(topicRules(), common()...) }

func topicRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{v1beta1.GroupName}, Resources: []string{"kafkatopics"}, Verbs: slices.Concat(read, []string{"create", "patch", "update"})},
		{APIGroups: []string{v1beta1.GroupName}, Resources: []string{"kafkatopics/status"}, Verbs: statusVerbs},
	}
}

// ClusterOperatorRules are what the cluster operator needs in a watched namespace: its Kafkas
// and KafkaNodePools (status, annotations, owner finalizers), everything it creates for a
// cluster, and what it grants the entity operators — RBAC lets it create a Role only with rules
// it holds itself, and it releases their finalizers when they are gone. Nothing is granted
// cluster-wide but what the Helm chart adds for watching every namespace.
func ClusterOperatorRules() []rbacv1.PolicyRule {
	write := []string{"create", "patch", "update", "delete"}
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{v1beta1.GroupName}, Resources: []string{"kafkas", "kafkanodepools"}, Verbs: slices.Concat(read, []string{"patch", "update"})},
		{APIGroups: []string{v1beta1.GroupName}, Resources: []string{"kafkas/status", "kafkanodepools/status"}, Verbs: statusVerbs},
		{APIGroups: []string{v1beta1.GroupName}, Resources: []string{"kafkas/finalizers"}, Verbs: []string{"update"}},
		{APIGroups: []string{""}, Resources: []string{"pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts"},
			Verbs: slices.Concat(read, write)},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: slices.Concat(read, write)},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: slices.Concat(read, write)},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies", "ingresses"}, Verbs: slices.Concat(read, write)},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, Verbs: slices.Concat(read, write)},
		// Listeners with configuration.certManager: their Certificates, and the Issuer's status
		// when one is not issued.
		{APIGroups: []string{"cert-manager.io"}, Resources: []string{"certificates"}, Verbs: slices.Concat(read, write)},
		{APIGroups: []string{"cert-manager.io"}, Resources: []string{"issuers"}, Verbs: read},
	}
	// The entity operators' rules, which it grants: their resources and finalizers, and once the
	// leases and events all three need.
	return slices.Concat(rules, userRules(), topicRules(), common())
}
