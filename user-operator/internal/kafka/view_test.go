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
	v.described(v.describing(), true, map[string][]binding{}, map[string]map[string]float64{}, map[string]bool{})
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

func TestDescribeACLsDecodesEveryVersionIntoBindings(t *testing.T) {
	resp := kmsg.NewDescribeACLsResponse()
	resource := func(typ kmsg.ACLResourceType, name string, pattern kmsg.ACLResourcePatternType, acls ...kmsg.DescribeACLsResponseResourceACL) kmsg.DescribeACLsResponseResource {
		r := kmsg.NewDescribeACLsResponseResource()
		r.ResourceType, r.ResourceName, r.ResourcePatternType, r.ACLs = typ, name, pattern, acls
		return r
	}
	acl := func(principal, host string, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) kmsg.DescribeACLsResponseResourceACL {
		a := kmsg.NewDescribeACLsResponseResourceACL()
		a.Principal, a.Host, a.Operation, a.PermissionType = principal, host, op, perm
		return a
	}
	allow, deny := kmsg.ACLPermissionTypeAllow, kmsg.ACLPermissionTypeDeny
	resp.ThrottleMillis = 7
	resp.Resources = []kmsg.DescribeACLsResponseResource{
		resource(kmsg.ACLResourceTypeTopic, "orders", kmsg.ACLResourcePatternTypeLiteral,
			acl("User:CN=alice", "*", kmsg.ACLOperationRead, allow),
			acl("User:CN=alice", "10.0.0.1", kmsg.ACLOperationWrite, deny),
			acl("User:unmanaged", "*", kmsg.ACLOperationRead, allow)),
		resource(kmsg.ACLResourceTypeGroup, "app-", kmsg.ACLResourcePatternTypePrefixed,
			acl("User:bob", "*", kmsg.ACLOperationRead, allow),
			acl("Group:ops", "*", kmsg.ACLOperationRead, allow)),
		resource(kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLResourcePatternTypeLiteral),
	}
	managed := map[string]bool{"User:CN=alice": true, "User:bob": true}
	for version := int16(0); version <= resp.MaxVersion(); version++ {
		resp.Version = version
		raw := resp.AppendTo(nil)
		req := newDescribeACLs(func(p string) bool { return managed[p] })
		req.Version = version
		got := req.ResponseKind().(*aclBindings)
		if err := got.ReadFrom(raw); err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		group := kmsg.ACLResourcePatternTypePrefixed
		if version == 0 {
			group = kmsg.ACLResourcePatternTypeLiteral // v0 has no pattern types: every ACL is literal
		}
		want := map[string][]binding{
			"User:CN=alice": {
				{resourceName: "orders", host: hostIDOf("*"), resourceType: kmsg.ACLResourceTypeTopic, patternType: kmsg.ACLResourcePatternTypeLiteral, operation: kmsg.ACLOperationRead, permission: allow},
				{resourceName: "orders", host: hostIDOf("10.0.0.1"), resourceType: kmsg.ACLResourceTypeTopic, patternType: kmsg.ACLResourcePatternTypeLiteral, operation: kmsg.ACLOperationWrite, permission: deny},
			},
			"User:bob": {{resourceName: "app-", host: hostIDOf("*"), resourceType: kmsg.ACLResourceTypeGroup, patternType: group, operation: kmsg.ACLOperationRead, permission: allow}},
		}
		if !reflect.DeepEqual(got.acls, want) || got.ThrottleMillis != 7 || got.ErrorCode != 0 {
			t.Errorf("v%d: decoded %+v (throttle %d), want %+v", version, got.acls, got.ThrottleMillis, want)
		}
		if err := req.ResponseKind().ReadFrom(raw[:len(raw)-3]); err == nil {
			t.Errorf("v%d: a truncated response decoded", version)
		}
	}

	failed := kmsg.NewDescribeACLsResponse()
	failed.Version, failed.ErrorCode = 3, 31
	msg := "not authorized"
	failed.ErrorMessage = &msg
	got := newDescribeACLs(func(string) bool { return true }).ResponseKind().(*aclBindings)
	got.Version = 3
	if err := got.ReadFrom(failed.AppendTo(nil)); err != nil || got.ErrorCode != 31 || got.ErrorMessage == nil || *got.ErrorMessage != msg {
		t.Errorf("an error answer decoded as code %d message %v (err %v)", got.ErrorCode, got.ErrorMessage, err)
	}
}

func TestWritesDuringADescribeSurviveItsAnswer(t *testing.T) {
	acl := func(principal string) ACL {
		return ACL{Principal: principal, ResourceType: kmsg.ACLResourceTypeTopic, ResourceName: "t",
			PatternType: kmsg.ACLResourcePatternTypeLiteral, Host: "*", Operation: kmsg.ACLOperationRead, Permission: kmsg.ACLPermissionTypeAllow}
	}
	v := &view{}
	v.described(v.describing(), true, map[string][]binding{}, map[string]map[string]float64{}, map[string]bool{})
	v.aclsCreated([]ACL{acl("User:gone")}) // before the describe: its answer is the truth

	mark := v.describing()
	v.aclsCreated([]ACL{acl("User:new")}) // lands after Kafka answered
	v.scramSet("new", true)
	v.quotasSet("new", QuotaChange{Set: map[string]float64{"producer_byte_rate": 1024}})
	v.described(mark, true, map[string][]binding{"User:old": {bindingOf(acl("User:old"))}}, map[string]map[string]float64{}, map[string]bool{})

	if got := v.principalACLs("User:new"); len(got) != 1 {
		t.Error("an ACL created during the describe is missing from the view")
	}
	if !v.hasSCRAM("new") || v.userQuotas("new")["producer_byte_rate"] != 1024 {
		t.Error("a SCRAM credential or quota set during the describe is missing from the view")
	}
	if len(v.principalACLs("User:old")) != 1 || len(v.principalACLs("User:gone")) != 0 {
		t.Error("the view is not the describe's answer")
	}
	if v.journal != nil {
		t.Error("the journal is kept with no describe in progress")
	}
	mark = v.describing()
	v.aclsDeleted([]ACL{acl("User:old")})
	v.described(mark, false, nil, nil, nil) // a failed describe changes nothing
	if len(v.principalACLs("User:old")) != 0 || len(v.principalACLs("User:new")) != 1 {
		t.Error("a failed describe changed the view")
	}
}
