package chaos

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
)

// The leader election of a handover run: short, so that a run's takeovers take seconds. A
// standby may take the lease LeaseDuration after the dead leader's last renewal, and tries
// every retryPeriod.
const (
	LeaseDuration = 4 * time.Second
	renewDeadline = 3 * time.Second
	retryPeriod   = 500 * time.Millisecond
)

// startFunc starts incarnation i of an operator with extra environment and arguments.
type startFunc func(incarnation int, env, args []string) (*localcluster.Process, error)

// operator is an operator under faults: started by start, SIGKILLed after the operations the
// seed picks, and started again. With two replicas, both run with leader election and the
// fault kills the leader: the standby must take the lease over, and the killed one comes back
// as the new standby.
type operator struct {
	rng      *rand.Rand
	start    startFunc
	replicas []*replica
	logs     []string
	kills    map[int]bool
	step     int
	total    int

	// With leader election: the Lease, and how long each takeover took after the kill.
	kube      kubernetes.Interface
	ns, lease string
	takeovers []time.Duration
	// restartAPI, when set, is the fault instead of a kill: the API server goes down.
	restartAPI func(ctx context.Context, down time.Duration) error
}

type replica struct {
	name string
	proc *localcluster.Process
}

// newOperator picks 1–5 of total operations to inject a fault after, and starts the operator:
// one replica, or with env.Handover two replicas with leader election (the Lease lease in ns).
// The fault kills the operator (its leader), or with env.RestartAPIServer restarts the API
// server instead.
func newOperator(rng *rand.Rand, total int, env Env, ns, lease string, start startFunc) (*operator, int, error) {
	o := &operator{rng: rng, start: start, kills: map[int]bool{}, total: total, restartAPI: env.RestartAPIServer}
	if env.Handover {
		o.kube, o.ns, o.lease = env.Kube, ns, lease
	}
	faults := 1 + rng.Intn(5)
	for len(o.kills) < faults {
		o.kills[rng.Intn(total)] = true
	}
	n := 1
	if env.Handover {
		n = 2
	}
	for range n {
		if err := o.run(); err != nil {
			return o, faults, err
		}
	}
	return o, faults, nil
}

func (o *operator) handover() bool { return o.kube != nil }

// run starts the next incarnation.
func (o *operator) run() error {
	i := len(o.logs)
	name := fmt.Sprintf("replica-%d", i)
	env, args := []string(nil), []string{"--leader-elect=false"}
	if o.handover() {
		env = []string{"POD_NAME=" + name}
		args = []string{"--leader-elect=true", "--leader-election-namespace=" + o.ns, "--leader-election-id=" + o.lease,
			"--leader-election-lease-duration=" + LeaseDuration.String(), "--leader-election-renew-deadline=" + renewDeadline.String(),
			"--leader-election-retry-period=" + retryPeriod.String()}
	}
	p, err := o.start(i, env, args)
	if err != nil {
		return fmt.Errorf("starting the operator: %w", err)
	}
	o.replicas = append(o.replicas, &replica{name: name, proc: p})
	o.logs = append(o.logs, p.LogFile)
	return nil
}

// holder is the replica holding the Lease ("" when none does).
func (o *operator) holder(ctx context.Context) string {
	l, err := o.kube.CoordinationV1().Leases(o.ns).Get(ctx, o.lease, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	// The identity is the replica's POD_NAME and a suffix of its process.
	name, _, _ := strings.Cut(*l.Spec.HolderIdentity, "_")
	return name
}

// waitHolder waits until a replica other than not holds the Lease, and returns it.
func (o *operator) waitHolder(ctx context.Context, not string, within time.Duration) (*replica, error) {
	deadline := time.Now().Add(within)
	for {
		h := o.holder(ctx)
		for _, r := range o.replicas {
			if r.name == h && h != not {
				return r, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no replica but %q took the lease %s/%s within %s (holder %q)", not, o.ns, o.lease, within, h)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// after is called after each operation: it kills and restarts the operator (with leader
// election, its leader) when the seed says.
func (o *operator) after() error {
	o.step++
	if !o.kills[o.step-1] {
		return nil
	}
	if o.restartAPI != nil {
		// Down for 0.5–3 s: watches end, requests are refused, then everything reconnects.
		return o.restartAPI(context.Background(), time.Duration(500+o.rng.Intn(2500))*time.Millisecond)
	}
	victim := o.replicas[0]
	if o.handover() {
		var err error
		if victim, err = o.waitHolder(context.Background(), "", 3*LeaseDuration); err != nil {
			return err
		}
	}
	_ = syscall.Kill(victim.proc.Pid(), syscall.SIGKILL)
	killed := time.Now()
	<-victim.proc.Done()
	for i, r := range o.replicas {
		if r == victim {
			o.replicas = append(o.replicas[:i], o.replicas[i+1:]...)
			break
		}
	}
	if o.handover() {
		// The standby takes over once the lease runs out: within LeaseDuration of the last
		// renewal, and a retry period.
		if _, err := o.waitHolder(context.Background(), victim.name, 3*LeaseDuration); err != nil {
			return err
		}
		o.takeovers = append(o.takeovers, time.Since(killed))
	} else {
		time.Sleep(time.Duration(o.rng.Intn(500)) * time.Millisecond)
	}
	return o.run()
}

// rest injects the kills picked past the last operation.
func (o *operator) rest() error {
	for o.step < o.total {
		if err := o.after(); err != nil {
			return err
		}
	}
	return nil
}

func (o *operator) stop() {
	for _, r := range o.replicas {
		_ = r.proc.Stop(10 * time.Second)
	}
}
