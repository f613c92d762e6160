package localcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Process is a child process with its output in a log file. It runs in its own process group
// and is killed if this process dies, so no component outlives the test or sandbox.
type Process struct {
	Name    string
	LogFile string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
}

// StartProcess starts bin with args and this process's environment plus env, logging to
// logDir/<name>.log.
func StartProcess(name, logDir string, env []string, bin string, args ...string) (*Process, error) {
	return startProcess(name, logDir, append(os.Environ(), env...), bin, args...)
}

// StartProcessEnv is StartProcess with exactly the environment env.
func StartProcessEnv(name, logDir string, env []string, bin string, args ...string) (*Process, error) {
	return startProcess(name, logDir, env, bin, args...)
}

// StartProcessNS is StartProcessEnv in new namespaces (syscall.CLONE_NEW* flags).
func StartProcessNS(name, logDir string, env []string, cloneflags uintptr, bin string, args ...string) (*Process, error) {
	return startProcessNS(name, logDir, env, cloneflags, bin, args...)
}

func startProcess(name, logDir string, env []string, bin string, args ...string) (*Process, error) {
	return startProcessNS(name, logDir, env, 0, bin, args...)
}

func startProcessNS(name, logDir string, env []string, cloneflags uintptr, bin string, args ...string) (*Process, error) {
	logFile := filepath.Join(logDir, name+".log")
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: opening log file: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: cloneflags}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: starting %s: %w (log: %s)", name, bin, err, logFile)
	}
	p := &Process{Name: name, LogFile: logFile, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Done is closed when the process ends.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM to the process group, then SIGKILL after grace, and waits for the end.
func (p *Process) Stop(grace time.Duration) error {
	var err error
	p.once.Do(func() {
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-p.done
		}
		var exit *exec.ExitError
		if p.err != nil && !errors.As(p.err, &exit) {
			err = fmt.Errorf("%s: %w", p.Name, p.err)
		}
	})
	return err
}
