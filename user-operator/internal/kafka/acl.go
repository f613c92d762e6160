// Package kafka is the user operator's Kafka side: a cached view of the ACLs, client quotas and
// SCRAM credentials Kafka holds, refreshed periodically, and batched writes that keep it
// current.
package kafka

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ACL is one ACL binding as Kafka stores it.
type ACL struct {
	Principal    string
	ResourceType kmsg.ACLResourceType
	ResourceName string
	PatternType  kmsg.ACLResourcePatternType
	Host         string
	Operation    kmsg.ACLOperation
	Permission   kmsg.ACLPermissionType
}

// String is the binding as Kafka's tools print it, for events and logs.
func (a ACL) String() string {
	return fmt.Sprintf("%s %s %s on %s:%s:%s from %s", a.Principal, a.Permission, a.Operation, a.ResourceType, a.PatternType, a.ResourceName, a.Host)
}

// SortACLs orders bindings deterministically (for tests and stable requests).
func SortACLs(acls []ACL) {
	slices.SortFunc(acls, compareACLs)
}

func compareACLs(a, b ACL) int {
	return cmp.Or(
		cmp.Compare(a.Principal, b.Principal),
		cmp.Compare(a.ResourceType, b.ResourceType),
		cmp.Compare(a.ResourceName, b.ResourceName),
		cmp.Compare(a.PatternType, b.PatternType),
		cmp.Compare(a.Host, b.Host),
		cmp.Compare(a.Operation, b.Operation),
		cmp.Compare(a.Permission, b.Permission),
	)
}

// DiffACLs returns the bindings of want missing from have and those of have missing from want.
func DiffACLs(want, have []ACL) (create, remove []ACL) {
	haveSet := make(map[ACL]bool, len(have))
	for _, a := range have {
		haveSet[a] = true
	}
	wantSet := make(map[ACL]bool, len(want))
	for _, a := range want {
		if wantSet[a] {
			continue
		}
		wantSet[a] = true
		if !haveSet[a] {
			create = append(create, a)
		}
	}
	for _, a := range have {
		if !wantSet[a] {
			remove = append(remove, a)
		}
	}
	return create, remove
}

func (a ACL) creation() kmsg.CreateACLsRequestCreation {
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType = a.ResourceType
	c.ResourceName = a.ResourceName
	c.ResourcePatternType = a.PatternType
	c.Principal = a.Principal
	c.Host = a.Host
	c.Operation = a.Operation
	c.PermissionType = a.Permission
	return c
}

// filter matches exactly this binding, so a deletion never takes another one with it.
func (a ACL) filter() kmsg.DeleteACLsRequestFilter {
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType = a.ResourceType
	f.ResourceName = &a.ResourceName
	f.ResourcePatternType = a.PatternType
	f.Principal = &a.Principal
	f.Host = &a.Host
	f.Operation = a.Operation
	f.PermissionType = a.Permission
	return f
}
