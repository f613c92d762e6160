package podinit_test

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/e2e/podinit"
	"github.com/kafkaplane/kafkaplane/e2e/podnet"
)

// TestTwoPodsSamePort starts two "pods" that both listen on 0.0.0.0:9092, each in its own
// network, mount and UTS namespace, as uid 1000 with a read-only root, and checks from the host
// that each answers on its own IP with its own hostname, user, volume and a root it cannot write.
func TestTwoPodsSamePort(t *testing.T) {
	if err := podnet.Check(); err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl is not installed")
	}
	bin := filepath.Join(t.TempDir(), "podinit")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/podinit").CombinedOutput(); err != nil {
		t.Fatalf("building podinit: %v\n%s", err, out)
	}
	nw, err := podnet.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	// The listener prints: hostname, uid, the volume's file, and whether / is writable.
	script := `use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0:9092", Listen => 5, ReuseAddr => 1) or die "listen: $!";
open(my $h, "<", "/etc/hostname"); my $hn = <$h>; chomp $hn;
open(my $d, "<", "/data/name"); my $v = <$d>; chomp $v;
my $w = open(my $x, ">", "/written") ? "rw" : "ro";
while (my $c = $s->accept) { print $c "$hn $< $v $w\n"; close $c }`
	for _, name := range []string{"pod-a", "pod-b"} {
		ns, err := nw.Add()
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "name"), []byte("volume-of-"+name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "hostname"), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		uid := uint32(1000)
		spec := &podinit.Spec{NetNS: ns.Path, Hostname: name, Root: filepath.Join(dir, "root"), ReadOnlyRoot: true,
			Mounts: []podinit.Bind{{Source: data, Target: "/data", ReadOnly: true}, {Source: filepath.Join(dir, "hostname"), Target: "/etc/hostname", ReadOnly: true},
				{Target: "/tmp", Tmpfs: true, SizeBytes: 1 << 20}},
			UID: &uid, GID: 1000, NoNewPrivs: true, Env: []string{"PATH=/usr/bin:/bin"}, Args: []string{"perl", "-e", script}}
		specFile := filepath.Join(dir, "spec.json")
		if err := podinit.Write(specFile, spec); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, specFile)
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: podinit.Cloneflags, Pdeathsig: syscall.SIGKILL}
		out, _ := os.Create(filepath.Join(dir, "log"))
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		var line string
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", ns.IP.String()+":9092", time.Second)
			if err == nil {
				line, _ = bufio.NewReader(c).ReadString('\n')
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(filepath.Join(dir, "log"))
				t.Fatalf("%s never listened on %s:9092: %v\n%s", name, ns.IP, err, log)
			}
			time.Sleep(100 * time.Millisecond)
		}
		want := name + " 1000 volume-of-" + name + " ro"
		if strings.TrimSpace(line) != want {
			t.Errorf("%s at %s answered %q, want %q", name, ns.IP, strings.TrimSpace(line), want)
		}
	}
}
