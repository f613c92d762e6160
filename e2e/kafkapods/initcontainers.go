package kafkapods

import (
	"context"
	"fmt"
	"io/fs"
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
		uid, gid, groups, err := credentialsWith(pod, c, user, "")
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
		// Each file of the image bound on its own, read-only: the directories stay the root's
		// (writable, as an image's are under a container's own layer), so that volumes can be
		// mounted anywhere, /opt/… included.
		var image []podinit.Bind
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err == nil && rel != ".complete" {
				image = append(image, podinit.Bind{Source: path, Target: "/" + filepath.ToSlash(rel), ReadOnly: true})
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("kafkapods: init image root %s: %w", root, err)
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
