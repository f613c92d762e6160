package kafka

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeACLs is a DescribeACLs request (every ACL) whose response is decoded straight into
// the view's bindings. For 20,000 users the answer holds 60,000 ACLs, for each of which kmsg
// would build a struct and three strings, megabytes that exist only until the view keeps a
// few of them; here only the principals and resource names kept are copied out of the answer.
type describeACLs struct {
	*kmsg.DescribeACLsRequest
	// keep selects the principals ("User:<name>") the view holds.
	keep func(principal string) bool
}

func newDescribeACLs(keep func(principal string) bool) *describeACLs {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeAny
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	return &describeACLs{DescribeACLsRequest: req, keep: keep}
}

// ResponseKind implements kmsg.Request: the response decodes into bindings.
func (r *describeACLs) ResponseKind() kmsg.Response {
	resp := &aclBindings{req: r}
	resp.Version = r.Version
	return resp
}

// aclBindings is the answer to describeACLs: the error fields of a DescribeACLsResponse, and
// the kept bindings by principal instead of its resources.
type aclBindings struct {
	kmsg.DescribeACLsResponse
	req  *describeACLs
	acls map[string][]binding
}

// RequestKind implements kmsg.Response.
func (r *aclBindings) RequestKind() kmsg.Request { return r.req }

// ReadFrom implements kmsg.Response, decoding the DescribeACLs response format (versions 0–3;
// 2 and later are flexible).
func (r *aclBindings) ReadFrom(src []byte) error {
	b := kbin.Reader{Src: src}
	flexible := r.Version >= 2
	r.ThrottleMillis = b.Int32()
	r.ErrorCode = b.Int16()
	if msg, ok := readString(&b, flexible); ok {
		r.ErrorMessage = &msg
	}
	acls := map[string][]binding{}
	for n := readArrayLen(&b, flexible); n > 0 && b.Ok(); n-- {
		resourceType := kmsg.ACLResourceType(b.Int8())
		name, _ := readUnsafeString(&b, flexible)
		patternType := kmsg.ACLResourcePatternTypeLiteral
		if r.Version >= 1 {
			patternType = kmsg.ACLResourcePatternType(b.Int8())
		}
		copied := ""
		for m := readArrayLen(&b, flexible); m > 0 && b.Ok(); m-- {
			principal, _ := readUnsafeString(&b, flexible)
			host, _ := readUnsafeString(&b, flexible)
			op, perm := kmsg.ACLOperation(b.Int8()), kmsg.ACLPermissionType(b.Int8())
			skipTags(&b, flexible)
			if !b.Ok() || !r.req.keep(principal) {
				continue
			}
			if copied == "" {
				copied = strings.Clone(name)
			}
			key := principal
			if _, ok := acls[principal]; !ok {
				key = strings.Clone(principal)
			}
			addBinding(acls, ACL{Principal: key, ResourceType: resourceType, ResourceName: copied, PatternType: patternType,
				Host: host, Operation: op, Permission: perm}) // the host is numbered, not kept
		}
		skipTags(&b, flexible)
	}
	skipTags(&b, flexible)
	for principal := range acls {
		fit(acls, principal)
	}
	if err := b.Complete(); err != nil {
		return fmt.Errorf("decoding the DescribeACLs response: %w", err)
	}
	r.acls = acls
	return nil
}

// readUnsafeString reads a (nullable) string that points into the response: copy what is kept.
func readUnsafeString(b *kbin.Reader, flexible bool) (string, bool) {
	var l int
	if flexible {
		l = int(b.Uvarint()) - 1
	} else {
		l = int(b.Int16())
	}
	if l < 0 {
		return "", false
	}
	return kbin.UnsafeString(b.Span(l)), true
}

func readString(b *kbin.Reader, flexible bool) (string, bool) {
	s, ok := readUnsafeString(b, flexible)
	return strings.Clone(s), ok
}

func readArrayLen(b *kbin.Reader, flexible bool) int32 {
	if flexible {
		return b.CompactArrayLen()
	}
	return b.ArrayLen()
}

func skipTags(b *kbin.Reader, flexible bool) {
	if !flexible {
		return
	}
	for n := b.Uvarint(); n > 0 && b.Ok(); n-- {
		b.Uvarint() // key
		b.Span(int(b.Uvarint()))
	}
}
