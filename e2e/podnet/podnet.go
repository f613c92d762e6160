// Package podnet gives the harness's pods their own network: a Linux bridge on this machine
// with the pods' gateway address, and per pod a network namespace joined to it by a veth pair,
// with its own IP, loopback and default route — what a CNI bridge plugin does. The host reaches
// every pod IP directly; pods reach each other over the bridge, and the host (the cluster DNS
// server, say) at the gateway. It uses iproute2's ip command and needs root (CAP_NET_ADMIN and
// CAP_SYS_ADMIN), and says so when either is missing.
//
// Each Network picks a free 10.N.0.0/16 (N from 200) and a bridge kpN, so two environments on
// one machine do not collide; a bridge left by a process that died is removed by the next one.
package podnet

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// stateDir holds, per bridge, the pid of the process owning it.
const stateDir = "/run/kafkaplane-podnet"

// Network is a bridge and the pod namespaces on it.
type Network struct {
	// Bridge is the bridge's name; Gateway its address, the pods' default route; Prefix the
	// pods' subnet.
	Bridge  string
	Gateway netip.Addr
	Prefix  netip.Prefix

	n    int
	mu   sync.Mutex
	next uint32
	ns   map[string]*Namespace
}

// Namespace is one pod's network namespace.
type Namespace struct {
	// Name is the namespace's name under /run/netns; Path its file; IP the pod's address.
	Name, Path string
	IP         netip.Addr
	veth       string
	net        *Network
}

// Check says what the machine lacks for pod networks.
func Check() error {
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("podnet: the ip command (iproute2) is not on PATH; pods need it for their network namespaces (Debian: apt-get install iproute2)")
	}
	if os.Geteuid() != 0 {
		return errors.New("podnet: pods' network and mount namespaces need root (CAP_NET_ADMIN, CAP_SYS_ADMIN); run the tests as root")
	}
	return nil
}

// New creates a bridge on a free subnet.
func New() (*Network, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("podnet: %w", err)
	}
	unlock, err := lock(filepath.Join(stateDir, "lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	cleanStale()
	for n := 200; n < 255; n++ {
		name := "kp" + strconv.Itoa(n)
		if linkExists(name) {
			continue
		}
		nw := &Network{Bridge: name, n: n, ns: map[string]*Namespace{},
			Gateway: netip.AddrFrom4([4]byte{10, byte(n), 0, 1}),
			Prefix:  netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(n), 0, 0}), 16)}
		for _, args := range [][]string{
			{"link", "add", name, "type", "bridge"},
			{"addr", "add", nw.Gateway.String() + "/16", "dev", name},
			{"link", "set", name, "up"},
		} {
			if err := ip(args...); err != nil {
				_ = ip("link", "del", name)
				return nil, err
			}
		}
		if err := os.WriteFile(filepath.Join(stateDir, name+".pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return nil, fmt.Errorf("podnet: %w", err)
		}
		return nw, nil
	}
	return nil, errors.New("podnet: no free bridge kp200…kp254")
}

// Add creates a pod's namespace with the next free address.
func (nw *Network) Add() (*Namespace, error) {
	nw.mu.Lock()
	nw.next++
	seq := nw.next
	nw.mu.Unlock()
	// 10.N.0.1 is the gateway; pods take 10.N.0.2 upwards, skipping .0 and .255.
	host := seq + 1
	x, y := host/254, host%254+1
	addr := netip.AddrFrom4([4]byte{10, byte(nw.n), byte(x), byte(y)})
	name := fmt.Sprintf("%s-%d", nw.Bridge, seq)
	veth := fmt.Sprintf("v%d-%d", nw.n, seq)
	if len(veth) > 15 {
		return nil, fmt.Errorf("podnet: interface name %s too long", veth)
	}
	ns := &Namespace{Name: name, Path: "/run/netns/" + name, IP: addr, veth: veth, net: nw}
	steps := [][]string{
		{"netns", "add", name},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name},
		{"link", "set", veth, "master", nw.Bridge, "up"},
		{"-n", name, "addr", "add", addr.String() + "/16", "dev", "eth0"},
		{"-n", name, "link", "set", "eth0", "up"},
		{"-n", name, "link", "set", "lo", "up"},
		{"-n", name, "route", "add", "default", "via", nw.Gateway.String()},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			ns.Delete()
			return nil, err
		}
	}
	nw.mu.Lock()
	nw.ns[name] = ns
	nw.mu.Unlock()
	return ns, nil
}

// SetLink brings the pod's link up or down: a pod cut off from the network, and healed.
func (ns *Namespace) SetLink(up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return ip("link", "set", ns.veth, state)
}

// Delete removes the namespace (and with it the veth pair).
func (ns *Namespace) Delete() {
	_ = ip("netns", "del", ns.Name)
	_ = ip("link", "del", ns.veth)
	ns.net.mu.Lock()
	delete(ns.net.ns, ns.Name)
	ns.net.mu.Unlock()
}

// Close removes every namespace and the bridge.
func (nw *Network) Close() {
	nw.mu.Lock()
	all := make([]*Namespace, 0, len(nw.ns))
	for _, ns := range nw.ns {
		all = append(all, ns)
	}
	nw.mu.Unlock()
	for _, ns := range all {
		ns.Delete()
	}
	_ = ip("link", "del", nw.Bridge)
	_ = os.Remove(filepath.Join(stateDir, nw.Bridge+".pid"))
}

// cleanStale removes bridges, and their namespaces, whose owning process is gone.
func cleanStale() {
	entries, _ := os.ReadDir(stateDir)
	for _, e := range entries {
		bridge, ok := strings.CutSuffix(e.Name(), ".pid")
		if !ok {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(stateDir, e.Name()))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid > 0 && syscall.Kill(pid, 0) == nil {
			continue
		}
		if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
			for _, line := range strings.Split(string(out), "\n") {
				name, _, _ := strings.Cut(line, " ")
				if strings.HasPrefix(name, bridge+"-") {
					_ = ip("netns", "del", name)
				}
			}
		}
		_ = ip("link", "del", bridge)
		_ = os.Remove(filepath.Join(stateDir, e.Name()))
	}
}

func linkExists(name string) bool {
	return exec.Command("ip", "link", "show", name).Run() == nil
}

func ip(args ...string) error {
	var out bytes.Buffer
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("podnet: ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("podnet: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("podnet: %w", err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
