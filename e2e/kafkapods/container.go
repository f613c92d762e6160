package kafkapods

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/e2e/podinit"
	"github.com/kafkaplane/kafkaplane/e2e/processpods"
)

// imageUser is the apache/kafka image's USER: a name, as in the image (appuser, uid 1000 in
// its /etc/passwd). A pod that asks for runAsNonRoot without a numeric runAsUser cannot be
// verified, and a kubelet refuses to start it.
const imageUser = "appuser"

// imageEnv is the image's environment, before the container's.
var imageEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// Container is a running Kafka container.
type Container struct {
	Namespace, Pod string
	// IP is the pod's address; LogFile the container's output.
	IP, LogFile string

	pod   *corev1.Pod
	spec  corev1.Container
	netns interface{ SetLink(bool) error }
	cmd   *exec.Cmd
	uid   uint32
	gid   uint32

	done    chan struct{}
	started time.Time
	once    sync.Once

	mu       sync.Mutex
	exit     kubelet.ExitStatus
	ready    bool
	killedBy string // "liveness" when a failing liveness probe killed it
	cancel   context.CancelFunc
}

var _ kubelet.Exited = (*Container)(nil)

// Start implements kubelet.Runner.
func (r *Runner) Start(ctx context.Context, pod *corev1.Pod, _ string) (kubelet.Running, error) {
	c := pod.Spec.Containers[0]
	if len(c.Command) == 0 {
		return nil, &kubelet.StartError{Reason: "CreateContainerConfigError", Message: "no command: the image's entrypoint is not reproduced by the harness"}
	}
	uid, gid, groups, err := credentials(pod, c)
	if err != nil {
		return nil, err
	}
	dist, err := r.dist(ctx, Version(pod))
	if err != nil {
		return nil, fmt.Errorf("kafkapods: the Kafka distribution for %s: %w", c.Image, err)
	}
	sb, err := r.sandbox(pod)
	if err != nil {
		return nil, err
	}
	if err := r.runInitContainers(ctx, pod, sb); err != nil {
		return nil, err
	}
	ip := sb.netns.IP.String()
	hostIP := ""
	if r.opts.NodeAddress != nil {
		hostIP = r.opts.NodeAddress(pod.Spec.NodeName)
	}
	fsGroup := fsGroupOf(pod)
	mounts, err := r.mounts(ctx, pod, c, sb, fsGroup)
	if err != nil {
		return nil, err
	}
	etc, err := r.etcFiles(pod, sb, ip)
	if err != nil {
		return nil, err
	}
	mounts = append(etc, mounts...)
	// The termination log: what the container writes there is the message of its exit.
	termLog := filepath.Join(sb.dir, "termination-log")
	if err := os.WriteFile(termLog, nil, 0o666); err != nil {
		return nil, fmt.Errorf("kafkapods: %w", err)
	}
	_ = os.Chmod(termLog, 0o666)
	termPath := c.TerminationMessagePath
	if termPath == "" {
		termPath = corev1.TerminationMessagePathDefault
	}
	mounts = append(mounts, podinit.Bind{Source: termLog, Target: termPath})
	env, err := processpods.Environment(ctx, r.opts.Client, pod, c, ip, hostIP)
	if err != nil {
		return nil, &kubelet.StartError{Reason: "CreateContainerConfigError", Message: err.Error()}
	}
	env = append(append(append([]string(nil), imageEnv...), "HOSTNAME="+hostname(pod)), env...)
	sc := c.SecurityContext
	spec := &podinit.Spec{
		NetNS:    sb.netns.Path,
		Hostname: hostname(pod),
		Root:     filepath.Join(sb.dir, "root"),
		Image: []podinit.Bind{
			{Source: filepath.Join(dist.Home, "bin"), Target: "/opt/kafka/bin", ReadOnly: true},
			{Source: filepath.Join(dist.Home, "libs"), Target: "/opt/kafka/libs", ReadOnly: true},
			{Source: filepath.Join(dist.Home, "config"), Target: "/opt/kafka/config", ReadOnly: true},
		},
		Mounts:       mounts,
		ReadOnlyRoot: sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem,
		UID:          &uid, GID: gid, Groups: groups,
		NoNewPrivs: sc != nil && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation,
		Dir:        c.WorkingDir,
		Env:        env,
		Args:       append(append([]string(nil), c.Command...), c.Args...),
	}
	specFile := filepath.Join(sb.dir, "container.json")
	if err := podinit.Write(specFile, spec); err != nil {
		return nil, fmt.Errorf("kafkapods: %w", err)
	}
	logFile := filepath.Join(r.opts.LogDir, pod.Namespace+"_"+pod.Name+".log")
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("kafkapods: %w", err)
	}
	fmt.Fprintf(f, "---- %s: container %s starting (pod IP %s) ----\n", time.Now().Format(time.RFC3339), c.Name, ip)
	cmd := exec.Command(r.opts.Podinit, specFile)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: podinit.Cloneflags, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("kafkapods: starting %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	probeCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ct := &Container{Namespace: pod.Namespace, Pod: pod.Name, IP: ip, LogFile: logFile, pod: pod, spec: c,
		netns: sb.netns, cmd: cmd, uid: uid, gid: gid, done: make(chan struct{}), started: time.Now(), cancel: cancel}
	go func() {
		err := cmd.Wait()
		ct.mu.Lock()
		ct.exit = exitStatus(cmd, err, ct.started, ct.killedBy)
		if msg, _ := os.ReadFile(termLog); len(msg) > 0 {
			ct.exit.Message = strings.TrimSpace(string(msg[:min(len(msg), 4096)]))
		}
		ct.ready = false
		ct.mu.Unlock()
		fmt.Fprintf(f, "---- %s: container %s exited: code %d (%s) ----\n", time.Now().Format(time.RFC3339), c.Name, ct.exit.Code, ct.exit.Reason)
		f.Close()
		cancel()
		close(ct.done)
	}()
	go ct.probe(probeCtx)
	go r.syncVolumes(probeCtx, pod, c, sb, fsGroup)
	r.mu.Lock()
	r.containers[pod.UID] = ct
	r.mu.Unlock()
	return ct, nil
}

// credentials are the container's user, group and supplementary groups, as a kubelet and runtime
// derive them: the container's securityContext over the pod's, the image's user otherwise (the
// apache/kafka image's, a name).
func credentials(pod *corev1.Pod, c corev1.Container) (uid, gid uint32, groups []uint32, err error) {
	return credentialsWith(pod, c, 1000, imageUser) // appuser in the image
}

// credentialsWith derives them for an image whose user is uid, or the name userName when the
// image names its user (runAsNonRoot cannot verify a name; "" for a numeric user).
func credentialsWith(pod *corev1.Pod, c corev1.Container, imageUID uint32, userName string) (uid, gid uint32, groups []uint32, err error) {
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
	uid = imageUID
	switch {
	case runAsUser != nil:
		uid = uint32(*runAsUser)
	case userName != "" && nonRoot != nil && *nonRoot:
		return 0, 0, nil, &kubelet.StartError{Reason: "CreateContainerConfigError",
			Message: fmt.Sprintf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root", userName)}
	}
	if nonRoot != nil && *nonRoot && uid == 0 {
		return 0, 0, nil, &kubelet.StartError{Reason: "CreateContainerConfigError", Message: "container's runAsUser breaks non-root policy"}
	}
	gid = uid
	if runAsGroup != nil {
		gid = uint32(*runAsGroup)
	}
	return uid, gid, groups, nil
}

func fsGroupOf(pod *corev1.Pod) *int64 {
	if pod.Spec.SecurityContext == nil {
		return nil
	}
	return pod.Spec.SecurityContext.FSGroup
}

func hostname(pod *corev1.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.Name
}

func exitStatus(cmd *exec.Cmd, err error, started time.Time, killedBy string) kubelet.ExitStatus {
	st := kubelet.ExitStatus{StartedAt: started, FinishedAt: time.Now(), Reason: "Completed"}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Signaled():
			st.Code = 128 + int32(ws.Signal())
		default:
			st.Code = int32(ws.ExitStatus())
		}
	} else if err != nil {
		st.Code = 1
	}
	if st.Code != 0 {
		st.Reason = "Error"
	}
	if killedBy != "" {
		st.Message = "killed: " + killedBy
	}
	return st
}

// Done implements kubelet.Running.
func (c *Container) Done() <-chan struct{} { return c.done }

// Exit implements kubelet.Exited.
func (c *Container) Exit() kubelet.ExitStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exit
}

// Ready implements kubelet.Running: the readiness probe's last verdict.
func (c *Container) Ready(context.Context) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}

// Pid is the container's main process.
func (c *Container) Pid() int { return c.cmd.Process.Pid }

// Stop implements kubelet.Running: SIGTERM, SIGKILL after the pod's grace period.
func (c *Container) Stop() {
	g := int64(30)
	if c.pod.Spec.TerminationGracePeriodSeconds != nil {
		g = *c.pod.Spec.TerminationGracePeriodSeconds
	}
	c.StopWithin(time.Duration(g) * time.Second)
}

// StopWithin sends SIGTERM to the container's processes, then SIGKILL after grace.
func (c *Container) StopWithin(grace time.Duration) {
	c.once.Do(func() {
		pgid := -c.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(grace):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-c.done
		}
	})
	<-c.done
}

// Kill sends SIGKILL (kill -9) to the container's processes, for fault tests.
func (c *Container) Kill() { _ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL) }

// SetLink cuts the pod off its network (false) or reconnects it.
func (c *Container) SetLink(up bool) error { return c.netns.SetLink(up) }
