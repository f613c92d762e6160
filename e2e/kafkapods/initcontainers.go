package kafkapods

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/e2e/podinit"
	"github.com/kafkaplane/kafkaplane/e2e/processpods"
)

// InitImages gives the root of an init container's image, laid out as the image's files (e.g.
// bin/cp, opt/jmx-exporter/…), and the image's numeric user; ok is false for an image the
// harness cannot run.
type InitImages func(ctx context.Context, image string) (root string, user uint32, ok bool, err error)

// initTimeout bounds one init container's run.
const initTimeout = 2 * time.Minute

// runInitContainers runs the pod's init containers in order, once per sandbox as a kubelet does:
// each in the pod's network namespace with its own volume mounts, on a root holding only its
// image's files (no host /usr: our images are static), as its user; a failure is the pod's
// start error, with the container's output.
func (r *Runner) runInitContainers(ctx context.Context, pod *corev1.Pod, sb *sandbox) error {
	if len(pod.Spec.InitContainers) == 0 || sb.initDone {
		return nil
	}
	for _, c := range pod.Spec.InitContainers {
		var root string
		var user uint32
		ok := false
		if r.opts.InitImages != nil {
			var err error
			if root, user, ok, err = r.opts.InitImages(ctx, c.Image); err != nil {
				return fmt.Errorf("kafkapods: init container %s's image %s: %w", c.Name, c.Image, err)
			}
		}
		if !ok {
			return &kubelet.StartError{Reason: "CreateContainerConfigError", Message: fmt.Sprintf("the harness cannot run init container %s's image %s", c.Name, c.Image)}
		}
		if len(c.Command) == 0 {
			return &kubelet.StartError{Reason: "CreateContainerConfigError", Message: fmt.Sprintf("init container %s has no command: the image's entrypoint is not reproduced by the harness", c.Name)}
		}
		uid, gid, groups, err := initCredentials(pod, c, user)
		if err != nil {
			return err
		}
		mounts, err := r.mounts(ctx, pod, c, sb, fsGroupOf(pod))
		if err != nil {
			return err
		}
		env, err := processpods.Environment(ctx, r.opts.Client, pod, c, sb.netns.IP.String(), "")
		if err != nil {
			return &kubelet.StartError{Reason: "CreateContainerConfigError", Message: err.Error()}
		}
		entries, err := os.ReadDir(root)
		if err != nil {
			return fmt.Errorf("kafkapods: init image root %s: %w", root, err)
		}
		var image []podinit.Bind
		for _, e := range entries {
			image = append(image, podinit.Bind{Source: filepath.Join(root, e.Name()), Target: "/" + e.Name(), ReadOnly: true})
		}
		sc := c.SecurityContext
		spec := &podinit.Spec{
			NetNS: sb.netns.Path, Hostname: hostname(pod),
			Root: filepath.Join(sb.dir, "init-"+c.Name), ImageOnly: true, Image: image, Mounts: mounts,
			ReadOnlyRoot: sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem,
			UID:          &uid, GID: gid, Groups: groups,
			NoNewPrivs: sc != nil && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation,
			Dir:        c.WorkingDir,
			Env:        append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + hostname(pod)}, env...),
			Args:       append(append([]string(nil), c.Command...), c.Args...),
		}
		specFile := filepath.Join(sb.dir, "init-"+c.Name+".json")
		if err := podinit.Write(specFile, spec); err != nil {
			return fmt.Errorf("kafkapods: %w", err)
		}
		rctx, cancel := context.WithTimeout(ctx, initTimeout)
		cmd := exec.CommandContext(rctx, r.opts.Podinit, specFile)
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: podinit.Cloneflags, Setpgid: true, Pdeathsig: syscall.SIGKILL}
		out, err := cmd.CombinedOutput()
		cancel()
		r.logInit(pod, c, out, err)
		if err != nil {
			return &kubelet.StartError{Reason: "Init:Error", Message: fmt.Sprintf("init container %s: %v: %s", c.Name, err, strings.TrimSpace(string(out)))}
		}
	}
	sb.initDone = true
	return nil
}

// logInit appends an init container's output to the pod's log.
func (r *Runner) logInit(pod *corev1.Pod, c corev1.Container, out []byte, err error) {
	f, ferr := os.OpenFile(filepath.Join(r.opts.LogDir, pod.Namespace+"_"+pod.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if ferr != nil {
		return
	}
	defer f.Close()
	result := "completed"
	if err != nil {
		result = "failed: " + err.Error()
	}
	fmt.Fprintf(f, "---- %s: init container %s (%s) %s ----\n%s", time.Now().Format(time.RFC3339), c.Name, c.Image, result, out)
}

// initCredentials are an init container's user, group and supplementary groups: its
// securityContext over the pod's, else the image's numeric user (which runAsNonRoot accepts when
// it is not root).
func initCredentials(pod *corev1.Pod, c corev1.Container, imageUser uint32) (uid, gid uint32, groups []uint32, err error) {
	var runAsUser, runAsGroup *int64
	var nonRoot *bool
	if psc := pod.Spec.SecurityContext; psc != nil {
		runAsUser, runAsGroup, nonRoot = psc.RunAsUser, psc.RunAsGroup, psc.RunAsNonRoot
		for _, g := range psc.SupplementalGroups {
			groups = append(groups, uint32(g))
		}
		if psc.FSGroup != nil {
			groups = append(groups, uint32(*psc.FSGroup))
		}
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			runAsUser = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			runAsGroup = sc.RunAsGroup
		}
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
	}
	uid = imageUser
	if runAsUser != nil {
		uid = uint32(*runAsUser)
	}
	if nonRoot != nil && *nonRoot && uid == 0 {
		return 0, 0, nil, &kubelet.StartError{Reason: "CreateContainerConfigError", Message: fmt.Sprintf("init container %s's user breaks non-root policy", c.Name)}
	}
	gid = uid
	if runAsGroup != nil {
		gid = uint32(*runAsGroup)
	}
	return uid, gid, groups, nil
}
