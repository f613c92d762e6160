package kafka

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// view is what Kafka holds for users, as last described and then kept current by our own
// writes: ACLs by principal, user quotas by user name, and the users with a SCRAM-SHA-512
// credential. Reconciles diff against it, so a steady state costs no Kafka request per user.
type view struct {
	mu     sync.RWMutex
	loaded bool
	// at is when the view was last described.
	at     time.Time
	acls   map[string][]binding
	quotas map[string]map[string]float64
	scram  map[string]bool
	// describes counts the describes in progress; while there are any, journal records our
	// writes, which are replayed onto each describe's answer. The answer is Kafka as of some
	// moment during the describe: a write that lands after it would be missing from the view
	// until the next refresh (and be made again).
	describes int
	journal   []func(*view)
}

// apply runs a write's change on the view, and records it while a describe is in progress.
// The caller holds v.mu.
func (v *view) apply(change func(*view)) {
	change(v)
	if v.describes > 0 {
		v.journal = append(v.journal, change)
	}
}

// describing marks the start of a describe; pass what it returns to described.
func (v *view) describing() describeMark {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.describes++
	return describeMark{journal: len(v.journal), at: time.Now()}
}

// describeMark is where and when a describe began.
type describeMark struct {
	journal int
	at      time.Time
}

// described ends a describe that began at mark: when it succeeded (ok), its answer, with the
// writes made since replayed onto it, becomes the view.
func (v *view) described(mark describeMark, ok bool, acls map[string][]binding, quotas map[string]map[string]float64, scram map[string]bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if ok {
		next := &view{acls: acls, quotas: quotas, scram: scram}
		for _, change := range v.journal[mark.journal:] {
			change(next)
		}
		// The view is as of the describe's start: Kafka state made after it may be missing.
		v.acls, v.quotas, v.scram, v.loaded, v.at = next.acls, next.quotas, next.scram, true, mark.at
	}
	if v.describes--; v.describes == 0 {
		v.journal = nil
	}
}

// binding is an ACL binding without its principal, which is the view's key: 20,000 users with
// three bindings each are 60,000 of them, so they are kept small (24 bytes: the host as an index
// into the few hosts ACLs name, a slice per principal rather than a set).
type binding struct {
	resourceName string
	host         hostID
	resourceType kmsg.ACLResourceType
	patternType  kmsg.ACLResourcePatternType
	operation    kmsg.ACLOperation
	permission   kmsg.ACLPermissionType
}

// hostID numbers the hosts of ACL bindings ("*" nearly always): one copy of each.
type hostID uint32

var hosts = struct {
	sync.RWMutex
	ids   map[string]hostID
	names []string
}{ids: map[string]hostID{"*": 0}, names: []string{"*"}}

func hostIDOf(host string) hostID {
	hosts.RLock()
	id, ok := hosts.ids[host]
	hosts.RUnlock()
	if ok {
		return id
	}
	hosts.Lock()
	defer hosts.Unlock()
	if id, ok := hosts.ids[host]; ok {
		return id
	}
	id = hostID(len(hosts.names))
	host = strings.Clone(host)
	hosts.ids[host], hosts.names = id, append(hosts.names, host)
	return id
}

func (h hostID) String() string {
	hosts.RLock()
	defer hosts.RUnlock()
	return hosts.names[h]
}

func bindingOf(a ACL) binding {
	return binding{resourceName: a.ResourceName, host: hostIDOf(a.Host), resourceType: a.ResourceType, patternType: a.PatternType,
		operation: a.Operation, permission: a.Permission}
}

func (b binding) acl(principal string) ACL {
	return ACL{Principal: principal, ResourceType: b.resourceType, ResourceName: b.resourceName, PatternType: b.patternType,
		Host: b.host.String(), Operation: b.operation, Permission: b.permission}
}

// addBinding adds a's binding to acls unless it is there.
func addBinding(acls map[string][]binding, a ACL) {
	b := bindingOf(a)
	if !slices.Contains(acls[a.Principal], b) {
		acls[a.Principal] = append(acls[a.Principal], b)
	}
}

// describe reads everything the view holds with three requests.
func describe(ctx context.Context, client *kgo.Client, adm *kadm.Client, managed func(user string) bool) (acls map[string][]binding, quotas map[string]map[string]float64, scram map[string]bool, err error) {
	keep := func(user string) bool { return managed == nil || managed(user) }
	req := newDescribeACLs(func(principal string) bool {
		user, ok := strings.CutPrefix(principal, "User:")
		return ok && keep(user)
	})
	resp, err := client.Request(ctx, req)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("describing ACLs: %w", err)
	}
	answer, ok := resp.(*aclBindings)
	if !ok {
		return nil, nil, nil, fmt.Errorf("describing ACLs: unexpected response %T", resp)
	}
	if err := kerr.ErrorForCode(answer.ErrorCode); err != nil {
		return nil, nil, nil, fmt.Errorf("describing ACLs: %w", err)
	}
	acls = answer.acls

	described, err := adm.DescribeClientQuotas(ctx, true, []kadm.DescribeClientQuotaComponent{{Type: "user", MatchType: kmsg.QuotasMatchTypeAny}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("describing client quotas: %w", err)
	}
	quotas = map[string]map[string]float64{}
	for _, q := range described {
		if len(q.Entity) != 1 || q.Entity[0].Type != "user" || q.Entity[0].Name == nil || !keep(*q.Entity[0].Name) {
			continue // defaults and user+client-id quotas are not ours
		}
		vals := map[string]float64{}
		for _, v := range q.Values {
			vals[v.Key] = v.Value
		}
		quotas[*q.Entity[0].Name] = vals
	}

	creds, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("describing SCRAM credentials: %w", err)
	}
	scram = map[string]bool{}
	for user, d := range creds {
		if !keep(user) {
			continue
		}
		for _, c := range d.CredInfos {
			if c.Mechanism == kadm.ScramSha512 {
				scram[user] = true
			}
		}
	}
	return acls, quotas, scram, nil
}

func (v *view) isLoaded() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.loaded
}

func (v *view) principalACLs(principal string) []ACL {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]ACL, 0, len(v.acls[principal]))
	for _, b := range v.acls[principal] {
		out = append(out, b.acl(principal))
	}
	SortACLs(out)
	return out
}

func (v *view) userQuotas(user string) map[string]float64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return maps.Clone(v.quotas[user])
}

func (v *view) hasSCRAM(user string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.scram[user]
}

func (v *view) aclsCreated(acls []ACL) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.apply(func(v *view) {
		for _, a := range acls {
			addBinding(v.acls, a)
		}
		for _, a := range acls {
			fit(v.acls, a.Principal)
		}
	})
}

// fit gives a principal's bindings a slice of their size (appends leave up to twice that).
func fit(acls map[string][]binding, principal string) {
	if b := acls[principal]; cap(b) > len(b) {
		acls[principal] = slices.Clone(b)
	}
}

func (v *view) aclsDeleted(acls []ACL) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.apply(func(v *view) {
		for _, a := range acls {
			b := bindingOf(a)
			rest := slices.DeleteFunc(v.acls[a.Principal], func(have binding) bool { return have == b })
			if len(rest) == 0 {
				delete(v.acls, a.Principal)
			} else {
				v.acls[a.Principal] = rest
			}
		}
	})
}

func (v *view) quotasSet(user string, q QuotaChange) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.apply(func(v *view) {
		cur := v.quotas[user]
		if cur == nil {
			cur = map[string]float64{}
		}
		maps.Copy(cur, q.Set)
		for _, k := range q.Remove {
			delete(cur, k)
		}
		if len(cur) == 0 {
			delete(v.quotas, user)
		} else {
			v.quotas[user] = cur
		}
	})
}

func (v *view) scramSet(user string, present bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.apply(func(v *view) {
		if present {
			v.scram[user] = true
		} else {
			delete(v.scram, user)
		}
	})
}
