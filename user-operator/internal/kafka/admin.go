package kafka

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/pkg/kafka/batch"
)

// maxBatch bounds the users of one request.
const maxBatch = 1000

// SCRAMIterations is the PBKDF2 iteration count of the credentials we set: Kafka's minimum and
// Strimzi's choice. More iterations slow every client login and every broker-side check of one.
const SCRAMIterations = 4096

// QuotaChange sets and removes a user's quotas (keys such as producer_byte_rate).
type QuotaChange struct {
	User   string
	Set    map[string]float64
	Remove []string
}

// SCRAMChange sets a user's SCRAM-SHA-512 password, or deletes the credential.
type SCRAMChange struct {
	User     string
	Password string
	Delete   bool
}

// salted is a SCRAM-SHA-512 credential ready to send: salting (4096 rounds of PBKDF2) is done by
// the caller's goroutine, so a batch of many users is not salted one after another.
type salted struct {
	user                 string
	salt, saltedPassword []byte
	delete               bool
}

func salt(c SCRAMChange) (salted, error) {
	if c.Delete {
		return salted{user: c.User, delete: true}, nil
	}
	s := make([]byte, 24)
	if _, err := rand.Read(s); err != nil {
		return salted{}, fmt.Errorf("salting the password of %s: %w", c.User, err)
	}
	sp, err := pbkdf2.Key(sha512.New, c.Password, s, SCRAMIterations, sha512.Size)
	if err != nil {
		return salted{}, fmt.Errorf("salting the password of %s: %w", c.User, err)
	}
	return salted{user: c.User, salt: s, saltedPassword: sp}, nil
}

// Admin serves the user operator's Kafka calls for many concurrent reconciles: reads come from
// the view, writes are batched across users and update the view.
type Admin struct {
	// Managed, when set, says which user names the operator manages: the view keeps only their
	// ACLs, quotas and credentials, so memory follows the managed users, not everything Kafka
	// holds. Set before the first Refresh.
	Managed func(user string) bool

	client     *kgo.Client
	loading    sync.Mutex
	adm        *kadm.Client
	view       view
	createACLs *batch.Batcher[[]ACL, struct{}]
	deleteACLs *batch.Batcher[[]ACL, struct{}]
	quotas     *batch.Batcher[QuotaChange, struct{}]
	scram      *batch.Batcher[salted, struct{}]

	// unsure holds, by user name, the users a write was sent for that got no answer (the
	// connection died, or the request ran out of time): Kafka may have carried it out, or may
	// still, and the view does not know. The value is when a describe first shows what Kafka
	// made of it: SettleMargin after the client stopped trying.
	unsureMu sync.Mutex
	unsure   map[string]time.Time
}

// SettleMargin is how long after the client stopped trying a request Kafka is taken to have
// carried it out or dropped it: a broker that read the request processes it from its queue,
// even when the client has closed the connection meanwhile.
var SettleMargin = 5 * time.Second

// markUnsure records that the outcome of a write for these users is unknown.
func (a *Admin) markUnsure(users ...string) {
	until := time.Now().Add(SettleMargin)
	a.unsureMu.Lock()
	defer a.unsureMu.Unlock()
	if a.unsure == nil {
		a.unsure = map[string]time.Time{}
	}
	for _, u := range users {
		a.unsure[u] = until
	}
}

// Unsure reports whether a write for the user got no answer since the view last read Kafka
// after it, and from when a describe shows what Kafka made of it. Until such a describe, the
// view may lack what that write did: a cleanup working from it would leave, say, the ACLs
// of a deleted user behind.
func (a *Admin) Unsure(user string) (time.Time, bool) {
	a.unsureMu.Lock()
	defer a.unsureMu.Unlock()
	t, ok := a.unsure[user]
	return t, ok
}

// settled forgets the unsure users whose writes a describe that began at t has seen.
func (a *Admin) settled(t time.Time) {
	a.unsureMu.Lock()
	defer a.unsureMu.Unlock()
	for u, until := range a.unsure {
		if !until.After(t) {
			delete(a.unsure, u)
		}
	}
}

// ErrNotLoaded is returned by reads before the first successful Refresh.
var ErrNotLoaded = errors.New("Kafka's ACLs, quotas and SCRAM credentials have not been read yet")

// NewAdmin returns an Admin over client; Run serves it. observe, when set, sees each batch's
// operation and size.
func NewAdmin(client *kgo.Client, observe func(op string, n int)) *Admin {
	a := &Admin{client: client, adm: kadm.NewClient(client)}
	a.createACLs = batch.New(maxBatch, a.createACLsBatch)
	a.deleteACLs = batch.New(maxBatch, a.deleteACLsBatch)
	a.quotas = batch.New(maxBatch, a.quotasBatch)
	a.scram = batch.New(maxBatch, a.scramBatch)
	// A request that got no answer may have gone to a broker that takes requests and never
	// answers (its forwarding to the controller stuck); kgo keeps sending admin requests to the
	// broker its metadata named until it refreshes it, and KRaft names another at random.
	a.createACLs.OnNoAnswer = client.ForceMetadataRefresh
	a.deleteACLs.OnNoAnswer = client.ForceMetadataRefresh
	a.quotas.OnNoAnswer = client.ForceMetadataRefresh
	a.scram.OnNoAnswer = client.ForceMetadataRefresh
	if observe != nil {
		a.createACLs.Observe = func(n int) { observe("create_acls", n) }
		a.deleteACLs.Observe = func(n int) { observe("delete_acls", n) }
		a.quotas.Observe = func(n int) { observe("alter_client_quotas", n) }
		a.scram.Observe = func(n int) { observe("alter_scram_credentials", n) }
	}
	return a
}

// Run serves the batches until ctx ends.
func (a *Admin) Run(ctx context.Context) {
	go a.createACLs.Run(ctx)
	go a.deleteACLs.Run(ctx)
	go a.quotas.Run(ctx)
	a.scram.Run(ctx)
}

// Refresh re-reads ACLs, user quotas and SCRAM credentials from Kafka (three requests) and
// replaces the view. Changes made with Kafka tools are seen from then on.
//
// It is bounded by batch.DefaultTimeout, as every call of the operator to Kafka: a Kafka that
// does not answer fails the reconciles waiting on it soon, with batch.ErrNoAnswer.
func (a *Admin) Refresh(ctx context.Context) error {
	mark := a.view.describing()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, batch.DefaultTimeout)
	defer cancel()
	acls, quotas, scram, err := describe(ctx, a.client, a.adm, a.Managed)
	if err != nil && parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w (%s): %v", batch.ErrNoAnswer, batch.DefaultTimeout, err)
		a.client.ForceMetadataRefresh() // as after a batch without an answer (NewAdmin)
	}
	a.view.described(mark, err == nil, acls, quotas, scram)
	if err == nil {
		a.settled(mark.at)
	}
	return err
}

// RefreshAfter makes sure the view was read from Kafka by a describe that began after t; callers
// waiting at once share one describe.
func (a *Admin) RefreshAfter(ctx context.Context, t time.Time) error {
	a.loading.Lock()
	defer a.loading.Unlock()
	if a.view.isLoaded() && a.RefreshedAt().After(t) {
		return nil
	}
	return a.Refresh(ctx)
}

// RefreshedAt is when the view was last read from Kafka (when that describe began). It holds only users managed then: for
// a user created since, what Kafka had before (e.g. ACLs made with Kafka tools) is seen at the
// next Refresh.
func (a *Admin) RefreshedAt() time.Time {
	a.view.mu.RLock()
	defer a.view.mu.RUnlock()
	return a.view.at
}

// Loaded reports whether a Refresh has succeeded.
func (a *Admin) Loaded() bool { return a.view.isLoaded() }

// ACLs returns the principal's bindings as the view has them.
func (a *Admin) ACLs(principal string) ([]ACL, error) {
	if !a.view.isLoaded() {
		return nil, ErrNotLoaded
	}
	return a.view.principalACLs(principal), nil
}

// Quotas returns the user's quotas as the view has them.
func (a *Admin) Quotas(user string) (map[string]float64, error) {
	if !a.view.isLoaded() {
		return nil, ErrNotLoaded
	}
	return a.view.userQuotas(user), nil
}

// HasSCRAM reports whether the user has a SCRAM-SHA-512 credential.
func (a *Admin) HasSCRAM(user string) (bool, error) {
	if !a.view.isLoaded() {
		return false, ErrNotLoaded
	}
	return a.view.hasSCRAM(user), nil
}

// CreateACLs creates bindings (one principal's, typically).
func (a *Admin) CreateACLs(ctx context.Context, acls []ACL) error {
	if len(acls) == 0 {
		return nil
	}
	_, err := a.createACLs.Do(ctx, acls)
	return err
}

// DeleteACLs deletes exactly these bindings.
func (a *Admin) DeleteACLs(ctx context.Context, acls []ACL) error {
	if len(acls) == 0 {
		return nil
	}
	_, err := a.deleteACLs.Do(ctx, acls)
	return err
}

// AlterQuotas sets and removes one user's quotas.
func (a *Admin) AlterQuotas(ctx context.Context, c QuotaChange) error {
	if len(c.Set) == 0 && len(c.Remove) == 0 {
		return nil
	}
	_, err := a.quotas.Do(ctx, c)
	return err
}

// AlterSCRAM sets or deletes one user's SCRAM-SHA-512 credential.
func (a *Admin) AlterSCRAM(ctx context.Context, c SCRAMChange) error {
	s, err := salt(c)
	if err != nil {
		return err
	}
	_, err = a.scram.Do(ctx, s)
	return err
}

func (a *Admin) createACLsBatch(ctx context.Context, ins [][]ACL) ([]struct{}, []error) {
	return aclBatch(ins, "creating", func(all []ACL) ([]aclResult, error) {
		req := kmsg.NewPtrCreateACLsRequest()
		for _, acl := range all {
			req.Creations = append(req.Creations, acl.creation())
		}
		resp, err := req.RequestWith(ctx, a.client)
		if err != nil {
			return nil, err
		}
		out := make([]aclResult, len(resp.Results))
		for i, r := range resp.Results {
			out[i] = aclResult{r.ErrorCode, r.ErrorMessage}
		}
		return out, nil
	}, a.view.aclsCreated, a.markUnsure)
}

func (a *Admin) deleteACLsBatch(ctx context.Context, ins [][]ACL) ([]struct{}, []error) {
	return aclBatch(ins, "deleting", func(all []ACL) ([]aclResult, error) {
		req := kmsg.NewPtrDeleteACLsRequest()
		for _, acl := range all {
			req.Filters = append(req.Filters, acl.filter())
		}
		resp, err := req.RequestWith(ctx, a.client)
		if err != nil {
			return nil, err
		}
		out := make([]aclResult, len(resp.Results))
		for i, r := range resp.Results {
			out[i] = aclResult{r.ErrorCode, r.ErrorMessage}
		}
		return out, nil
	}, a.view.aclsDeleted, a.markUnsure)
}

// aclResult is Kafka's answer for one binding.
type aclResult struct {
	code int16
	msg  *string
}

// aclBatch sends the bindings of every call in one request (send answers each binding, in
// order), gives each call the errors of its own bindings, and applies the successful ones to
// the view. When the request gets no answer, every user in it is marked unsure.
func aclBatch(ins [][]ACL, what string, send func([]ACL) ([]aclResult, error), apply func([]ACL), unsure func(...string)) ([]struct{}, []error) {
	var all []ACL
	for _, acls := range ins {
		all = append(all, acls...)
	}
	errs := make([]error, len(ins))
	results, err := send(all)
	if err == nil && len(results) != len(all) {
		err = fmt.Errorf("%d results for %d bindings", len(results), len(all))
	}
	if err != nil {
		var users []string
		for _, acl := range all {
			users = append(users, strings.TrimPrefix(acl.Principal, "User:"))
		}
		unsure(users...)
		return fill(errs, fmt.Errorf("%s ACLs: %w", what, err))
	}
	i := 0
	for n, acls := range ins {
		var done []ACL
		for _, acl := range acls {
			r := results[i]
			i++
			if err := kerr.ErrorForCode(r.code); err != nil {
				errs[n] = errors.Join(errs[n], fmt.Errorf("%s ACL %s: %w%s", what, acl, err, message(r.msg)))
				continue
			}
			done = append(done, acl)
		}
		apply(done)
	}
	return make([]struct{}, len(ins)), errs
}

func (a *Admin) quotasBatch(ctx context.Context, ins []QuotaChange) ([]struct{}, []error) {
	errs := make([]error, len(ins))
	for _, round := range rounds(ins, func(c QuotaChange) string { return c.User }) {
		entries := make([]kadm.AlterClientQuotaEntry, 0, len(round))
		for _, i := range round {
			c := ins[i]
			user := c.User
			e := kadm.AlterClientQuotaEntry{Entity: kadm.ClientQuotaEntity{{Type: "user", Name: &user}}}
			for k, v := range c.Set {
				e.Ops = append(e.Ops, kadm.AlterClientQuotaOp{Key: k, Value: v})
			}
			for _, k := range c.Remove {
				e.Ops = append(e.Ops, kadm.AlterClientQuotaOp{Key: k, Remove: true})
			}
			entries = append(entries, e)
		}
		results, err := a.adm.AlterClientQuotas(ctx, entries)
		byUser := map[string]kadm.AlteredClientQuota{}
		for _, r := range results {
			if len(r.Entity) == 1 && r.Entity[0].Name != nil {
				byUser[*r.Entity[0].Name] = r
			}
		}
		for _, i := range round {
			c := ins[i]
			r, ok := byUser[c.User]
			switch {
			case err != nil:
				a.markUnsure(c.User)
				errs[i] = fmt.Errorf("altering quotas of %s: %w", c.User, err)
			case !ok:
				a.markUnsure(c.User)
				errs[i] = fmt.Errorf("altering quotas of %s: no result", c.User)
			case r.Err != nil:
				errs[i] = fmt.Errorf("altering quotas of %s: %w%s", c.User, r.Err, message(&r.ErrMessage))
			default:
				a.view.quotasSet(c.User, c)
			}
		}
	}
	return make([]struct{}, len(ins)), errs
}

func (a *Admin) scramBatch(ctx context.Context, ins []salted) ([]struct{}, []error) {
	errs := make([]error, len(ins))
	// A user twice in one request fails both with DUPLICATE_RESOURCE: such calls go in rounds.
	for _, round := range rounds(ins, func(c salted) string { return c.user }) {
		var del []kadm.DeleteSCRAM
		var upsert []kadm.UpsertSCRAM
		for _, i := range round {
			c := ins[i]
			if c.delete {
				del = append(del, kadm.DeleteSCRAM{User: c.user, Mechanism: kadm.ScramSha512})
			} else {
				upsert = append(upsert, kadm.UpsertSCRAM{User: c.user, Mechanism: kadm.ScramSha512, Iterations: SCRAMIterations,
					Salt: c.salt, SaltedPassword: c.saltedPassword})
			}
		}
		results, err := a.adm.AlterUserSCRAMs(ctx, del, upsert)
		for _, i := range round {
			c := ins[i]
			r, ok := results[c.user]
			switch {
			case err != nil:
				a.markUnsure(c.user)
				errs[i] = fmt.Errorf("altering the SCRAM credential of %s: %w", c.user, err)
			case !ok:
				a.markUnsure(c.user)
				errs[i] = fmt.Errorf("altering the SCRAM credential of %s: no result", c.user)
			case c.delete && errors.Is(r.Err, kerr.ResourceNotFound):
				a.view.scramSet(c.user, false) // already gone
			case r.Err != nil:
				errs[i] = fmt.Errorf("altering the SCRAM credential of %s: %w%s", c.user, r.Err, message(&r.ErrMessage))
			default:
				a.view.scramSet(c.user, !c.delete)
			}
		}
	}
	return make([]struct{}, len(ins)), errs
}

// rounds splits the indexes of ins so that no round holds one key twice.
func rounds[T any](ins []T, key func(T) string) [][]int {
	var out [][]int
	var seen []map[string]bool
	for i, in := range ins {
		k := key(in)
		r := 0
		for r < len(out) && seen[r][k] {
			r++
		}
		if r == len(out) {
			out = append(out, nil)
			seen = append(seen, map[string]bool{})
		}
		out[r] = append(out[r], i)
		seen[r][k] = true
	}
	return out
}

func fill(errs []error, err error) ([]struct{}, []error) {
	for i := range errs {
		errs[i] = err
	}
	return make([]struct{}, len(errs)), errs
}

func message(m *string) string {
	if m == nil || *m == "" {
		return ""
	}
	return ": " + *m
}

// EnsureLoaded refreshes the view unless a refresh has already succeeded; concurrent callers
// share one refresh.
func (a *Admin) EnsureLoaded(ctx context.Context) error {
	if a.view.isLoaded() {
		return nil
	}
	a.loading.Lock()
	defer a.loading.Unlock()
	if a.view.isLoaded() {
		return nil
	}
	return a.Refresh(ctx)
}
