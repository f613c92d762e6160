// Package podinit is what a container runtime does between creating a container's namespaces
// and starting its process, for the harness's pods: it enters the pod's network namespace, sets
// the hostname (a UTS namespace of its own), builds the container's root (a tmpfs with the
// host's /usr and /etc read-only, /dev, /proc, /sys, and the image's directories), mounts the
// pod's volumes at their mountPath, makes the root read-only when the pod asks, changes root,
// takes the pod's user and groups, and executes the container's command. The process that runs
// it must already be in a mount and UTS namespace of its own (Cmd.SysProcAttr.Cloneflags), so
// nothing it mounts is seen outside.
//
// With no Root, it only applies the binds on the host's paths (a private /etc/resolv.conf for
// our operators, which keep the host's network) and executes the command.
package podinit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Spec describes a container's start.
type Spec struct {
	// NetNS is the path of the pod's network namespace (/run/netns/<name>); empty keeps the
	// caller's.
	NetNS string `json:"netns,omitempty"`
	// Hostname is set in the process's UTS namespace.
	Hostname string `json:"hostname,omitempty"`
	// Root is a directory to build the container's root in; empty runs on the host's root.
	Root string `json:"root,omitempty"`
	// Image lists the image's directories, bound read-only into the root (e.g. the Kafka
	// distribution at /opt/kafka/bin, /opt/kafka/libs, …).
	Image []Bind `json:"image,omitempty"`
	// ImageOnly leaves the host's /usr (and the /bin, /lib links into it) out of the root: the
	// image brings every file its command needs (a static binary).
	ImageOnly bool `json:"imageOnly,omitempty"`
	// Mounts are the container's volume mounts, in order.
	Mounts []Bind `json:"mounts,omitempty"`
	// ReadOnlyRoot makes the root read-only once the mounts are in place.
	ReadOnlyRoot bool `json:"readOnlyRoot,omitempty"`
	// UID, GID and Groups are the process's credentials when UID is set.
	UID    *uint32  `json:"uid,omitempty"`
	GID    uint32   `json:"gid,omitempty"`
	Groups []uint32 `json:"groups,omitempty"`
	// NoNewPrivs is allowPrivilegeEscalation: false.
	NoNewPrivs bool `json:"noNewPrivs,omitempty"`
	// Dir is the working directory; Env the whole environment; Args the command and arguments.
	Dir  string   `json:"dir,omitempty"`
	Env  []string `json:"env"`
	Args []string `json:"args"`
}

// Bind mounts Source (a directory or file of the host) at Target inside the container. Tmpfs
// mounts a tmpfs of SizeBytes (0: unlimited) instead of binding.
type Bind struct {
	Source    string `json:"source,omitempty"`
	Target    string `json:"target"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	Tmpfs     bool   `json:"tmpfs,omitempty"`
	SizeBytes int64  `json:"sizeBytes,omitempty"`
}

// Read reads a spec written by Write.
func Read(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("podinit: reading the spec: %w", err)
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("podinit: parsing the spec %s: %w", path, err)
	}
	if len(s.Args) == 0 {
		return nil, errors.New("podinit: the spec has no command")
	}
	return &s, nil
}

// Write writes s to path for the init process to read.
func Write(path string, s *Spec) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// Cloneflags are the namespaces the init process must be started in.
const Cloneflags = syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS

// Exec sets up the container and replaces this process with its command. It returns only on
// failure. The calling goroutine must be locked to its thread (the network namespace is a
// thread's, and the thread that calls execve is the one whose namespace the command keeps).
func Exec(s *Spec) error {
	runtime.LockOSThread()
	if s.NetNS != "" {
		fd, err := unix.Open(s.NetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("podinit: opening the network namespace %s: %w", s.NetNS, err)
		}
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("podinit: entering the network namespace %s: %w", s.NetNS, err)
		}
		unix.Close(fd)
	}
	if s.Hostname != "" {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("podinit: setting the hostname: %w", err)
		}
	}
	// Nothing mounted from here on propagates to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("podinit: making the mounts private: %w", err)
	}
	if s.Root != "" {
		if err := buildRoot(s); err != nil {
			return err
		}
	}
	for _, m := range s.Mounts {
		if err := mount(s.Root, m); err != nil {
			return err
		}
	}
	if s.Root != "" {
		if s.ReadOnlyRoot {
			for _, d := range []string{s.Root, filepath.Join(s.Root, "etc")} {
				if err := unix.Mount("", d, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
					return fmt.Errorf("podinit: making the root read-only: %w", err)
				}
			}
		}
		if err := unix.Chroot(s.Root); err != nil {
			return fmt.Errorf("podinit: changing root: %w", err)
		}
	}
	dir := s.Dir
	if dir == "" {
		dir = "/"
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("podinit: working directory %s: %w", dir, err)
	}
	if s.UID != nil {
		groups := make([]int, 0, len(s.Groups))
		for _, g := range s.Groups {
			groups = append(groups, int(g))
		}
		if err := syscall.Setgroups(groups); err != nil {
			return fmt.Errorf("podinit: setgroups: %w", err)
		}
		if err := syscall.Setgid(int(s.GID)); err != nil {
			return fmt.Errorf("podinit: setgid %d: %w", s.GID, err)
		}
		if err := syscall.Setuid(int(*s.UID)); err != nil {
			return fmt.Errorf("podinit: setuid %d: %w", *s.UID, err)
		}
	}
	if s.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("podinit: no_new_privs: %w", err)
		}
	}
	bin, err := lookPath(s.Args[0], s.Env)
	if err != nil {
		return err
	}
	return fmt.Errorf("podinit: executing %s: %w", bin, syscall.Exec(bin, s.Args, s.Env))
}

// lookPath resolves a command without a slash through the container's PATH, as a runtime does.
func lookPath(cmd string, env []string) (string, error) {
	if strings.Contains(cmd, "/") {
		return cmd, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, cmd)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("podinit: %s: %w", cmd, exec.ErrNotFound)
}

// buildRoot mounts a tmpfs at s.Root holding what an image's root holds for our pods: the
// host's /usr and /etc (read-only; the pod's own /etc/hosts, resolv.conf, hostname and passwd
// are bound over them by the caller's mounts), /dev, /proc, /sys, an empty /tmp and /var, and
// the image's directories.
func buildRoot(s *Spec) error {
	if err := os.MkdirAll(s.Root, 0o755); err != nil {
		return fmt.Errorf("podinit: %w", err)
	}
	if err := unix.Mount("tmpfs", s.Root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755,size=64m"); err != nil {
		return fmt.Errorf("podinit: mounting the root: %w", err)
	}
	for _, d := range []string{"usr", "etc", "dev", "proc", "sys", "tmp", "var/tmp", "run", "home", "opt"} {
		if err := os.MkdirAll(filepath.Join(s.Root, d), 0o755); err != nil {
			return fmt.Errorf("podinit: %w", err)
		}
	}
	for _, d := range []string{"tmp", "var/tmp"} {
		_ = os.Chmod(filepath.Join(s.Root, d), 0o1777)
	}
	binds := []Bind{{Source: "/sys", Target: "/sys", ReadOnly: true}}
	if !s.ImageOnly {
		// Merged /usr: /bin, /lib, … are links into it, as on the host.
		for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
			if target, err := os.Readlink("/" + l); err == nil {
				if err := os.Symlink(target, filepath.Join(s.Root, l)); err != nil {
					return fmt.Errorf("podinit: %w", err)
				}
			}
		}
		binds = append([]Bind{{Source: "/usr", Target: "/usr", ReadOnly: true}}, binds...)
	}
	for _, b := range binds {
		if err := mount(s.Root, b); err != nil {
			return err
		}
	}
	if err := buildEtc(s.Root); err != nil {
		return err
	}
	if err := buildDev(s.Root); err != nil {
		return err
	}
	if err := unix.Mount("proc", filepath.Join(s.Root, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("podinit: mounting /proc: %w", err)
	}
	for _, b := range s.Image {
		if err := mount(s.Root, b); err != nil {
			return err
		}
	}
	return nil
}

// buildEtc makes the container's /etc a tmpfs holding the host's entries, each bound read-only
// (links copied as links), so that volumes can be mounted under /etc as in an image's writable
// layer while the host's files stay untouched.
func buildEtc(root string) error {
	etc := filepath.Join(root, "etc")
	if err := unix.Mount("tmpfs", etc, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755,size=16m"); err != nil {
		return fmt.Errorf("podinit: mounting /etc: %w", err)
	}
	entries, err := os.ReadDir("/etc")
	if err != nil {
		return fmt.Errorf("podinit: %w", err)
	}
	for _, e := range entries {
		src := filepath.Join("/etc", e.Name())
		if e.Type()&os.ModeSymlink != 0 {
			target, err := os.Readlink(src)
			if err == nil {
				err = os.Symlink(target, filepath.Join(etc, e.Name()))
			}
			if err != nil {
				return fmt.Errorf("podinit: %w", err)
			}
			continue
		}
		if !e.IsDir() && !e.Type().IsRegular() {
			continue
		}
		if err := mount(root, Bind{Source: src, Target: "/etc/" + e.Name(), ReadOnly: true}); err != nil {
			return err
		}
	}
	return nil
}

// buildDev makes the container's /dev a tmpfs of its own with the usual devices bound from the
// host's, as a runtime does, so that files the pod mounts there (its termination log) do not
// touch the host's /dev.
func buildDev(root string) error {
	dev := filepath.Join(root, "dev")
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID, "mode=755,size=1m"); err != nil {
		return fmt.Errorf("podinit: mounting /dev: %w", err)
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		if err := mount(root, Bind{Source: "/dev/" + d, Target: "/dev/" + d}); err != nil {
			return err
		}
	}
	if err := mount(root, Bind{Target: "/dev/shm", Tmpfs: true, SizeBytes: 64 << 20}); err != nil {
		return err
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return fmt.Errorf("podinit: %w", err)
		}
	}
	return nil
}

// mount binds (or mounts a tmpfs) at root+m.Target, creating the mount point.
func mount(root string, m Bind) error {
	target := filepath.Join(root, m.Target)
	if m.Tmpfs {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("podinit: mount point %s: %w", m.Target, err)
		}
		opts := "mode=1777"
		if m.SizeBytes > 0 {
			opts += fmt.Sprintf(",size=%d", m.SizeBytes)
		}
		if err := unix.Mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
			return fmt.Errorf("podinit: tmpfs at %s: %w", m.Target, err)
		}
		return nil
	}
	st, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("podinit: mount source for %s: %w", m.Target, err)
	}
	if st.IsDir() {
		err = os.MkdirAll(target, 0o755)
	} else {
		err = os.MkdirAll(filepath.Dir(target), 0o755)
		if err == nil {
			if _, serr := os.Lstat(target); errors.Is(serr, os.ErrNotExist) {
				err = os.WriteFile(target, nil, 0o644)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("podinit: mount point %s: %w", m.Target, err)
	}
	if err := unix.Mount(m.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("podinit: binding %s at %s: %w", m.Source, m.Target, err)
	}
	if m.ReadOnly {
		if err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("podinit: making %s read-only: %w", m.Target, err)
		}
	}
	return nil
}
