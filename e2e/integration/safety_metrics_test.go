package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
)

// TestMetricsNeedAnAuthorizedToken: with --metrics-auth=kubernetes, an operator serves HTTPS and
// /metrics answers only a bearer token whose identity the API server allows to get /metrics
// (TokenReview and SubjectAccessReview on the real API server): no token is 401, a token without
// the permission is 403, a bound ServiceAccount's token is 200; /healthz stays open to probes.
// (Before, /metrics and pprof were plain HTTP for anyone who could reach the pod.)
func TestMetricsNeedAnAuthorizedToken(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	ctx := context.Background()
	kf, _ := startKafka(t, kafkafake.Options{Brokers: 1})
	port, err := localcluster.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startTopicOperator(t, f, ns, kf.Bootstrap(), "--metrics-auth=kubernetes", "--http-address="+addr, "--profiling")

	// Two ServiceAccounts; one may read /metrics.
	token := func(sa string) string {
		t.Helper()
		if _, err := f.Kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		tr, err := f.Kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	scraper, stranger := token("scraper"), token("stranger")
	role := "metrics-reader-" + rand.String(5)
	if _, err := f.Kube.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: role},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Kube.RbacV1().ClusterRoles().Delete(context.Background(), role, metav1.DeleteOptions{}) })
	if _, err := f.Kube.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "scraper", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.Kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), role, metav1.DeleteOptions{})
	})

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(path, token string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	framework.Eventually(t, 30*time.Second, "the operator serving HTTPS", func() (bool, error) {
		code, err := get("/healthz", "")
		return code == http.StatusOK, fmt.Errorf("%d %v", code, err)
	})
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("/metrics answers over plain HTTP")
		}
	}
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/metrics", "", http.StatusUnauthorized},
		{"/metrics", "not-a-token", http.StatusUnauthorized},
		{"/metrics", stranger, http.StatusForbidden},
		{"/debug/pprof/", scraper, http.StatusForbidden}, // the role names /metrics only
		{"/metrics", scraper, http.StatusOK},
		{"/readyz", "", http.StatusOK},
	} {
		// RBAC takes a moment to reach the authorizer's cache.
		framework.Eventually(t, 20*time.Second, fmt.Sprintf("GET %s with token %.8q → %d", c.path, c.token, c.want), func() (bool, error) {
			code, err := get(c.path, c.token)
			return code == c.want, fmt.Errorf("got %d %v", code, err)
		})
	}
}
