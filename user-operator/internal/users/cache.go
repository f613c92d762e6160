package users

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
)

// CacheTransform is the KafkaUser informer transform. Besides dropping managedFields it shares
// what repeats across users (namespace, labels, finalizer, ACL types, operations and hosts, the
// Ready condition's strings), so that a cached user costs about what is its own: at 20,000
// users the cache is most of the operator's memory. Cached objects are never written to.
func CacheTransform(obj any) (any, error) {
	obj, err := informers.StripManagedFields(obj)
	if err != nil {
		return nil, err
	}
	ku, ok := obj.(*v1beta1.KafkaUser)
	if !ok {
		return obj, nil
	}
	informers.CompactMeta(&ku.ObjectMeta)
	compactSpec(&ku.Spec)
	compactStatus(&ku.Status, ku.Name)
	return ku, nil
}

func compactSpec(s *v1beta1.KafkaUserSpec) {
	if a := s.Authentication; a != nil {
		a.Type = v1beta1.UserAuthenticationType(informers.Intern(string(a.Type)))
	}
	if a := s.Authorization; a != nil {
		a.Type = informers.Intern(a.Type)
		a.ACLs = slices.Clip(a.ACLs)
		for i := range a.ACLs {
			rule := &a.ACLs[i]
			rule.Type = v1beta1.ACLRuleType(informers.Intern(string(rule.Type)))
			rule.Host = informers.Intern(rule.Host)
			rule.Resource.Type = v1beta1.ACLResourceType(informers.Intern(string(rule.Resource.Type)))
			rule.Resource.PatternType = v1beta1.ACLPatternType(informers.Intern(string(rule.Resource.PatternType)))
			rule.Operation = v1beta1.ACLOperation(informers.Intern(string(rule.Operation)))
			rule.Operations = slices.Clip(rule.Operations)
			for j, op := range rule.Operations {
				rule.Operations[j] = v1beta1.ACLOperation(informers.Intern(string(op)))
			}
		}
	}
}

func compactStatus(s *v1beta1.KafkaUserStatus, name string) {
	s.Conditions = slices.Clip(s.Conditions)
	for i := range s.Conditions {
		compactCondition(&s.Conditions[i])
	}
	if s.Secret == name {
		s.Secret = name
	}
}

func compactCondition(c *metav1.Condition) {
	c.Type = informers.Intern(c.Type)
	c.Status = metav1.ConditionStatus(informers.Intern(string(c.Status)))
	c.Reason = informers.Intern(c.Reason)
	c.Message = informers.Intern(c.Message)
}
