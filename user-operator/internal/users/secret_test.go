package users

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/user-operator/internal/credentials"
)

func TestWrittenSecretIsForgottenOnceCached(t *testing.T) {
	r := &Reconciler{}
	owner := types.UID("user-uid")
	cached := func(rv string) *credentials.Cached {
		return &credentials.Cached{Name: "alice", ResourceVersion: rv, Owner: owner, OwnerName: "alice"}
	}
	r.written.Store(owner, writtenSecret{secret: cached("10"), at: time.Now()})
	h := r.SecretHandler()

	h.OnAdd(cached("9"), false)
	if _, ok := r.written.Load(owner); !ok {
		t.Fatal("the written Secret was forgotten when the cache showed an older version")
	}
	h.OnUpdate(cached("9"), cached("10"))
	if _, ok := r.written.Load(owner); ok {
		t.Error("the written Secret is still kept after the cache showed it")
	}
}
