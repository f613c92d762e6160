// Package httpauth guards HTTP endpoints (metrics, profiles) the way kube-rbac-proxy does: the
// caller presents a Kubernetes bearer token, a TokenReview says whose it is, and a
// SubjectAccessReview says whether that identity may "get" the path (a nonResourceURL rule, e.g.
// a ClusterRole with nonResourceURLs: ["/metrics"]). Answers are cached briefly, so a scrape
// every few seconds costs the API server two reviews a minute per scraper.
package httpauth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
)

// Authorizer checks requests against the API server.
type Authorizer struct {
	Client kubernetes.Interface
	// TTL of a cached answer; a minute when zero.
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu    sync.Mutex
	cache map[decisionKey]decision
}

type decisionKey struct{ token, verb, path string }

type decision struct {
	code int // http.StatusOK, StatusUnauthorized or StatusForbidden
	msg  string
	at   time.Time
}

// Wrap returns h guarded by the token and access reviews.
func (a *Authorizer) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, msg := a.Check(r)
		if code != http.StatusOK {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="kafkaplane"`)
			}
			http.Error(w, msg, code)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Check says whether the request may proceed: http.StatusOK, or the status to answer with and
// why.
func (a *Authorizer) Check(r *http.Request) (int, string) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return http.StatusUnauthorized, "a bearer token is required"
	}
	key := decisionKey{token: token, verb: strings.ToLower(r.Method), path: r.URL.Path}
	now := a.now()
	a.mu.Lock()
	d, hit := a.cache[key]
	a.mu.Unlock()
	if hit && now.Sub(d.at) < a.ttl() {
		return d.code, d.msg
	}
	d = a.review(r.Context(), key)
	d.at = now
	if d.code != http.StatusInternalServerError { // an API server failure is not remembered
		a.mu.Lock()
		if a.cache == nil {
			a.cache = map[decisionKey]decision{}
		}
		for k, old := range a.cache { // bounded: expired answers go
			if now.Sub(old.at) >= a.ttl() {
				delete(a.cache, k)
			}
		}
		a.cache[key] = d
		a.mu.Unlock()
	}
	return d.code, d.msg
}

func (a *Authorizer) review(ctx context.Context, key decisionKey) decision {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tr, err := a.Client.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: key.token}}, metav1.CreateOptions{})
	if err != nil {
		klog.FromContext(ctx).Error(err, "TokenReview failed")
		return decision{code: http.StatusInternalServerError, msg: "the token could not be reviewed"}
	}
	if !tr.Status.Authenticated {
		return decision{code: http.StatusUnauthorized, msg: "the token is not valid"}
	}
	u := tr.Status.User
	extra := map[string]authzv1.ExtraValue{}
	for k, v := range u.Extra {
		extra[k] = authzv1.ExtraValue(v)
	}
	sar, err := a.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra,
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: key.path, Verb: key.verb},
	}}, metav1.CreateOptions{})
	if err != nil {
		klog.FromContext(ctx).Error(err, "SubjectAccessReview failed")
		return decision{code: http.StatusInternalServerError, msg: "access could not be reviewed"}
	}
	if !sar.Status.Allowed {
		return decision{code: http.StatusForbidden, msg: fmt.Sprintf("%s may not %s %s", u.Username, key.verb, key.path)}
	}
	return decision{code: http.StatusOK}
}

func (a *Authorizer) ttl() time.Duration {
	if a.TTL > 0 {
		return a.TTL
	}
	return time.Minute
}

func (a *Authorizer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
