package kafka

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestViewKeepsEachPrincipalsBindings(t *testing.T) {
	acl := func(principal, topic string, op kmsg.ACLOperation) ACL {
		return ACL{Principal: principal, ResourceType: kmsg.ACLResourceTypeTopic, ResourceName: topic,
			PatternType: kmsg.ACLResourcePatternTypeLiteral, Host: "*", Operation: op, Permission: kmsg.ACLPermissionTypeAllow}
	}
	read, write := acl("User:a", "t", kmsg.ACLOperationRead), acl("User:a", "t", kmsg.ACLOperationWrite)
	other := acl("User:b", "t", kmsg.ACLOperationRead)
	v := &view{}
	v.replace(map[string][]binding{}, map[string]map[string]float64{}, map[string]bool{})
	v.aclsCreated([]ACL{write, read, other, read}) // read twice: kept once
	want := []ACL{read, write}
	SortACLs(want)
	if got := v.principalACLs("User:a"); !reflect.DeepEqual(got, want) {
		t.Errorf("User:a has %v, want %v", got, want)
	}
	v.aclsDeleted([]ACL{read, acl("User:a", "other", kmsg.ACLOperationRead)})
	if got := v.principalACLs("User:a"); !reflect.DeepEqual(got, []ACL{write}) {
		t.Errorf("after deleting read, User:a has %v", got)
	}
	v.aclsDeleted([]ACL{write})
	if _, ok := v.acls["User:a"]; ok || len(v.principalACLs("User:a")) != 0 {
		t.Error("a principal without bindings is still in the view")
	}
	if got := v.principalACLs("User:b"); !reflect.DeepEqual(got, []ACL{other}) {
		t.Errorf("another principal's bindings changed: %v", got)
	}
}
