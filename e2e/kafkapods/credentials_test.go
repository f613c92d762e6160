package kafkapods

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
)

// The harness derives a container's user as a kubelet and runtime do, including the refusal
// that the real cluster showed for a template's securityContext: the image names its user, so
// runAsNonRoot without a numeric runAsUser cannot be verified.
func TestCredentials(t *testing.T) {
	c := corev1.Container{SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr.To(true)}}
	var se *kubelet.StartError
	if _, _, _, err := credentials(&corev1.Pod{}, c); !errors.As(err, &se) || se.Reason != "CreateContainerConfigError" {
		t.Fatalf("runAsNonRoot without runAsUser: %v, want CreateContainerConfigError", err)
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{
		RunAsUser: ptr.To[int64](1000), RunAsGroup: ptr.To[int64](1001), FSGroup: ptr.To[int64](2000), SupplementalGroups: []int64{3000}}}}
	uid, gid, groups, err := credentials(pod, c)
	if err != nil || uid != 1000 || gid != 1001 || len(groups) != 2 || groups[0] != 3000 || groups[1] != 2000 {
		t.Fatalf("credentials = %d %d %v %v", uid, gid, groups, err)
	}
	root := corev1.Container{SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](0)}}
	if _, _, _, err := credentials(&corev1.Pod{}, root); !errors.As(err, &se) {
		t.Fatalf("runAsNonRoot with uid 0: %v", err)
	}
	// No security context at all: the image's appuser.
	if uid, gid, _, err := credentials(&corev1.Pod{}, corev1.Container{}); err != nil || uid != 1000 || gid != 1000 {
		t.Fatalf("image user: %d %d %v", uid, gid, err)
	}
}
