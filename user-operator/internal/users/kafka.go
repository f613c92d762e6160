package users

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/klog/v2"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/kafka"
)

// Quota keys, as Kafka names them for a user entity.
const (
	QuotaProducerByteRate       = "producer_byte_rate"
	QuotaConsumerByteRate       = "consumer_byte_rate"
	QuotaRequestPercentage      = "request_percentage"
	QuotaControllerMutationRate = "controller_mutation_rate"
)

// ClusterResourceName is the name of Kafka's one cluster resource in ACLs.
const ClusterResourceName = "kafka-cluster"

// kafka makes Kafka hold the user's SCRAM credential, ACLs and quotas: only what differs from
// the view is written, so a steady state costs no Kafka request.
func (r *Reconciler) kafka(ctx context.Context, ku *v1beta1.KafkaUser, username string, cred credential) ([]string, error) {
	logger := klog.FromContext(ctx)
	var changes []string
	has, err := r.Admin.HasSCRAM(username)
	if err != nil {
		return nil, err
	}
	switch {
	case cred.scram:
		if applied, ok := r.scram.Written(ku.UID); !has || !ok || applied != cred.digest {
			password := cred.password
			if password == "" {
				if password, err = r.readPassword(ctx, ku, cred.digest); err != nil {
					return changes, err
				}
			}
			if err := r.Admin.AlterSCRAM(ctx, kafka.SCRAMChange{User: username, Password: password}); err != nil {
				return changes, err
			}
			r.scram.StoreWritten(ku.UID, cred.digest, "")
			logger.V(1).Info("Set the SCRAM-SHA-512 credential")
			changes = append(changes, "set the SCRAM-SHA-512 credential")
		}
	case has:
		// The spec says this principal has no password (e.g. it was a SCRAM user before).
		if err := r.Admin.AlterSCRAM(ctx, kafka.SCRAMChange{User: username, Delete: true}); err != nil {
			return changes, err
		}
		r.scram.Forget(ku.UID)
		changes = append(changes, "deleted the SCRAM-SHA-512 credential")
	}

	principal := "User:" + username
	have, err := r.Admin.ACLs(principal)
	if err != nil {
		return changes, err
	}
	create, remove := kafka.DiffACLs(DesiredACLs(ku, principal), have)
	// New bindings first: a change never leaves the user without access it keeps.
	if err := r.Admin.CreateACLs(ctx, create); err != nil {
		return changes, err
	}
	if err := r.Admin.DeleteACLs(ctx, remove); err != nil {
		return changes, err
	}
	if len(create)+len(remove) > 0 {
		logger.V(1).Info("Updated ACLs", "created", len(create), "deleted", len(remove))
		changes = append(changes, fmt.Sprintf("created %d and deleted %d ACLs of %s", len(create), len(remove), principal))
	}

	haveQ, err := r.Admin.Quotas(username)
	if err != nil {
		return changes, err
	}
	change := QuotaDiff(username, DesiredQuotas(ku), haveQ)
	if err := r.Admin.AlterQuotas(ctx, change); err != nil {
		return changes, err
	}
	if len(change.Set)+len(change.Remove) > 0 {
		changes = append(changes, fmt.Sprintf("set %d and removed %d quotas", len(change.Set), len(change.Remove)))
	}
	return changes, nil
}

// cleanUp removes a principal's ACLs, quotas and SCRAM credential.
func (r *Reconciler) cleanUp(ctx context.Context, username string) error {
	acls, err := r.Admin.ACLs("User:" + username)
	if err != nil {
		return err
	}
	if err := r.Admin.DeleteACLs(ctx, acls); err != nil {
		return err
	}
	q, err := r.Admin.Quotas(username)
	if err != nil {
		return err
	}
	if err := r.Admin.AlterQuotas(ctx, QuotaDiff(username, nil, q)); err != nil {
		return err
	}
	has, err := r.Admin.HasSCRAM(username)
	if err != nil {
		return err
	}
	if has {
		return r.Admin.AlterSCRAM(ctx, kafka.SCRAMChange{User: username, Delete: true})
	}
	return nil
}

// DesiredACLs are the bindings the user's simple authorization asks for.
func DesiredACLs(ku *v1beta1.KafkaUser, principal string) []kafka.ACL {
	az := ku.Spec.Authorization
	if az == nil {
		return nil
	}
	var out []kafka.ACL
	for _, rule := range az.ACLs {
		base := kafka.ACL{
			Principal:    principal,
			ResourceType: resourceType(rule.Resource.Type),
			ResourceName: rule.Resource.Name,
			PatternType:  kmsg.ACLResourcePatternTypeLiteral,
			Host:         rule.Host,
			Permission:   kmsg.ACLPermissionTypeAllow,
		}
		if rule.Resource.Type == v1beta1.ACLResourceCluster {
			base.ResourceName = ClusterResourceName
		} else if rule.Resource.PatternType == v1beta1.ACLPatternPrefix {
			base.PatternType = kmsg.ACLResourcePatternTypePrefixed
		}
		if base.Host == "" {
			base.Host = "*"
		}
		if rule.Type == v1beta1.ACLDeny {
			base.Permission = kmsg.ACLPermissionTypeDeny
		}
		for _, op := range rule.AllOperations() {
			a := base
			a.Operation = operation(op)
			out = append(out, a)
		}
	}
	kafka.SortACLs(out)
	return slices.Compact(out)
}

func resourceType(t v1beta1.ACLResourceType) kmsg.ACLResourceType {
	switch t {
	case v1beta1.ACLResourceTopic:
		return kmsg.ACLResourceTypeTopic
	case v1beta1.ACLResourceGroup:
		return kmsg.ACLResourceTypeGroup
	case v1beta1.ACLResourceCluster:
		return kmsg.ACLResourceTypeCluster
	case v1beta1.ACLResourceTransactionalID:
		return kmsg.ACLResourceTypeTransactionalId
	}
	return kmsg.ACLResourceTypeUnknown
}

func operation(op v1beta1.ACLOperation) kmsg.ACLOperation {
	switch op {
	case "All":
		return kmsg.ACLOperationAll
	case "Read":
		return kmsg.ACLOperationRead
	case "Write":
		return kmsg.ACLOperationWrite
	case "Create":
		return kmsg.ACLOperationCreate
	case "Delete":
		return kmsg.ACLOperationDelete
	case "Alter":
		return kmsg.ACLOperationAlter
	case "Describe":
		return kmsg.ACLOperationDescribe
	case "ClusterAction":
		return kmsg.ACLOperationClusterAction
	case "DescribeConfigs":
		return kmsg.ACLOperationDescribeConfigs
	case "AlterConfigs":
		return kmsg.ACLOperationAlterConfigs
	case "IdempotentWrite":
		return kmsg.ACLOperationIdempotentWrite
	}
	return kmsg.ACLOperationUnknown
}

// DesiredQuotas are the user's quotas as Kafka keys.
func DesiredQuotas(ku *v1beta1.KafkaUser) map[string]float64 {
	q := ku.Spec.Quotas
	out := map[string]float64{}
	if q == nil {
		return out
	}
	if q.ProducerByteRate != nil {
		out[QuotaProducerByteRate] = float64(*q.ProducerByteRate)
	}
	if q.ConsumerByteRate != nil {
		out[QuotaConsumerByteRate] = float64(*q.ConsumerByteRate)
	}
	if q.RequestPercentage != nil {
		out[QuotaRequestPercentage] = float64(*q.RequestPercentage)
	}
	if q.ControllerMutationRate != nil {
		// validate refuses a user whose rate is not a quantity before anything is applied.
		if rate, err := q.ControllerMutationRate.Quantity(); err == nil {
			out[QuotaControllerMutationRate] = rate.AsApproximateFloat64()
		}
	}
	return out
}

// QuotaDiff sets what differs and removes what the spec no longer has: the spec is
// authoritative for the user entity's quotas.
func QuotaDiff(user string, want, have map[string]float64) kafka.QuotaChange {
	c := kafka.QuotaChange{User: user}
	for k, v := range want {
		if cur, ok := have[k]; !ok || cur != v {
			if c.Set == nil {
				c.Set = map[string]float64{}
			}
			c.Set[k] = v
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			c.Remove = append(c.Remove, k)
		}
	}
	slices.Sort(c.Remove)
	return c
}
