package kafka

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzDescribeACLsDecoder: the streaming decoder of DescribeACLs answers never panics on any
// bytes, and wherever kmsg's own decoder reads an answer, it reads the same bindings.
func FuzzDescribeACLsDecoder(f *testing.F) {
	resp := kmsg.NewDescribeACLsResponse()
	r := kmsg.NewDescribeACLsResponseResource()
	r.ResourceType, r.ResourceName, r.ResourcePatternType = kmsg.ACLResourceTypeTopic, "orders", kmsg.ACLResourcePatternTypeLiteral
	a := kmsg.NewDescribeACLsResponseResourceACL()
	a.Principal, a.Host, a.Operation, a.PermissionType = "User:alice", "*", kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
	r.ACLs = append(r.ACLs, a)
	resp.Resources = append(resp.Resources, r)
	for v := int16(0); v <= resp.MaxVersion(); v++ {
		resp.Version = v
		f.Add(v, resp.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, version int16, data []byte) {
		if version < 0 || version > 3 {
			t.Skip()
		}
		req := newDescribeACLs(func(string) bool { return true })
		req.Version = version
		got := req.ResponseKind().(*aclBindings)
		ourErr := got.ReadFrom(data)

		ref := kmsg.NewPtrDescribeACLsResponse()
		ref.Version = version
		if err := ref.ReadFrom(data); err != nil {
			return
		}
		if ourErr != nil {
			t.Fatalf("kmsg reads the answer, ours fails: %v", ourErr)
		}
		want := map[string][]binding{}
		for _, res := range ref.Resources {
			pattern := res.ResourcePatternType
			if version == 0 {
				pattern = kmsg.ACLResourcePatternTypeLiteral
			}
			for _, acl := range res.ACLs {
				addBinding(want, ACL{Principal: acl.Principal, ResourceType: res.ResourceType, ResourceName: res.ResourceName,
					PatternType: pattern, Host: acl.Host, Operation: acl.Operation, Permission: acl.PermissionType})
			}
		}
		if !reflect.DeepEqual(got.acls, want) && (len(got.acls) != 0 || len(want) != 0) {
			t.Fatalf("decoded %v, kmsg %v", got.acls, want)
		}
		if got.ErrorCode != ref.ErrorCode || got.ThrottleMillis != ref.ThrottleMillis {
			t.Fatalf("error %d throttle %d, kmsg %d %d", got.ErrorCode, got.ThrottleMillis, ref.ErrorCode, ref.ThrottleMillis)
		}
	})
}
