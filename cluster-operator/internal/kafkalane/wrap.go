package kafkalane

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkacheck"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/logging"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/roller"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Kafka is what the reconciler asks a cluster's Kafka about its nodes (kafkacheck.Checker).
type Kafka interface {
	Quorum(ctx context.Context, k *v1beta1.Kafka) (roller.Quorum, error)
	CanRestart(ctx context.Context, k *v1beta1.Kafka, node roller.Node) (bool, string)
	CanRemove(ctx context.Context, k *v1beta1.Kafka, brokers []int32) (bool, string)
	QuorumMembers(ctx context.Context, k *v1beta1.Kafka) (voters, observers []kafkacheck.Replica, err error)
	AddVoter(ctx context.Context, k *v1beta1.Kafka, r kafkacheck.Replica, listener, host string, port int) error
	RemoveVoter(ctx context.Context, k *v1beta1.Kafka, r kafkacheck.Replica) error
	Unregister(ctx context.Context, k *v1beta1.Kafka, id int32) (controllerStays bool, err error)
}

// Checks asks Kafka through the lanes; it implements the reconciler's RestartChecker,
// QuorumChanger and NodeUnregisterer.
type Checks struct {
	Lanes *Lanes
	Next  Kafka
}

// Quorum implements RestartChecker.
func (c *Checks) Quorum(ctx context.Context, k *v1beta1.Kafka) (roller.Quorum, error) {
	return Do(ctx, c.Lanes, k, "quorum", func(ctx context.Context) (roller.Quorum, error) { return c.Next.Quorum(ctx, k) })
}

type verdict struct {
	ok  bool
	why string
}

// CanRestart implements RestartChecker; when Kafka has not answered, the node may not restart.
func (c *Checks) CanRestart(ctx context.Context, k *v1beta1.Kafka, n roller.Node) (bool, string) {
	q := fmt.Sprintf("can-restart %d broker=%t controller=%t ready=%t", n.ID, n.Broker, n.Controller, n.Ready)
	v, err := Do(ctx, c.Lanes, k, q, func(ctx context.Context) (verdict, error) {
		ok, why := c.Next.CanRestart(ctx, k, n)
		return verdict{ok, why}, nil
	})
	if err != nil {
		return false, err.Error()
	}
	if v.ok {
		// The node restarts now: what Kafka said about the others no longer holds.
		c.Lanes.Drop(k.Namespace, k.Name, "can-")
	}
	return v.ok, v.why
}

// CanRemove implements RestartChecker; when Kafka has not answered, nothing may be removed.
func (c *Checks) CanRemove(ctx context.Context, k *v1beta1.Kafka, brokers []int32) (bool, string) {
	ids := slices.Sorted(slices.Values(brokers))
	v, err := Do(ctx, c.Lanes, k, fmt.Sprintf("can-remove %v", ids), func(ctx context.Context) (verdict, error) {
		ok, why := c.Next.CanRemove(ctx, k, ids)
		return verdict{ok, why}, nil
	})
	if err != nil {
		return false, err.Error()
	}
	return v.ok, v.why
}

type members struct{ voters, observers []kafkacheck.Replica }

// QuorumMembers implements QuorumChanger.
func (c *Checks) QuorumMembers(ctx context.Context, k *v1beta1.Kafka) ([]kafkacheck.Replica, []kafkacheck.Replica, error) {
	m, err := Do(ctx, c.Lanes, k, "quorum-members", func(ctx context.Context) (members, error) {
		v, o, err := c.Next.QuorumMembers(ctx, k)
		return members{v, o}, err
	})
	return m.voters, m.observers, err
}

// AddVoter implements QuorumChanger.
func (c *Checks) AddVoter(ctx context.Context, k *v1beta1.Kafka, r kafkacheck.Replica, listener, host string, port int) error {
	q := fmt.Sprintf("add-voter %d %x %s %s:%d", r.ID, r.DirectoryID, listener, host, port)
	_, err := Do(ctx, c.Lanes, k, q, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.Next.AddVoter(ctx, k, r, listener, host, port)
	})
	return err
}

// RemoveVoter implements QuorumChanger.
func (c *Checks) RemoveVoter(ctx context.Context, k *v1beta1.Kafka, r kafkacheck.Replica) error {
	_, err := Do(ctx, c.Lanes, k, fmt.Sprintf("remove-voter %d %x", r.ID, r.DirectoryID), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.Next.RemoveVoter(ctx, k, r)
	})
	return err
}

// Unregister implements NodeUnregisterer.
func (c *Checks) Unregister(ctx context.Context, k *v1beta1.Kafka, id int32) (bool, error) {
	return Do(ctx, c.Lanes, k, fmt.Sprintf("unregister %d", id), func(ctx context.Context) (bool, error) {
		return c.Next.Unregister(ctx, k, id)
	})
}

// DynamicConfigs is the reconciler's DynamicConfigurer.
type DynamicConfigs interface {
	Apply(ctx context.Context, k *v1beta1.Kafka, want map[string]v1beta1.ConfigValue) ([]string, error)
}

// Dynamic applies dynamic configs through the lanes.
type Dynamic struct {
	Lanes *Lanes
	Next  DynamicConfigs
}

// Apply implements DynamicConfigurer.
func (d *Dynamic) Apply(ctx context.Context, k *v1beta1.Kafka, want map[string]v1beta1.ConfigValue) ([]string, error) {
	var b strings.Builder
	for _, key := range slices.Sorted(maps.Keys(want)) {
		fmt.Fprintf(&b, " %q=%q", key, want[key].String())
	}
	return Do(ctx, d.Lanes, k, "dynamic-configs"+b.String(), func(ctx context.Context) ([]string, error) {
		return d.Next.Apply(ctx, k, want)
	})
}

// LoggerLevels is the reconciler's LoggerSetter.
type LoggerLevels interface {
	Apply(ctx context.Context, k *v1beta1.Kafka, nodes []logging.Target, want logging.Levels) ([]string, error)
}

// Loggers sets logger levels through the lanes.
type Loggers struct {
	Lanes *Lanes
	Next  LoggerLevels
}

// Apply implements LoggerSetter.
func (l *Loggers) Apply(ctx context.Context, k *v1beta1.Kafka, nodes []logging.Target, want logging.Levels) ([]string, error) {
	var b strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&b, " %d@%s", n.ID, n.Addr)
	}
	b.WriteString(" |")
	for _, name := range slices.Sorted(maps.Keys(want)) {
		fmt.Fprintf(&b, " %q=%q", name, want[name])
	}
	return Do(ctx, l.Lanes, k, "loggers"+b.String(), func(ctx context.Context) ([]string, error) {
		return l.Next.Apply(ctx, k, nodes, want)
	})
}

// FeatureLevels is the reconciler's FeatureRaiser.
type FeatureLevels interface {
	Raise(ctx context.Context, k *v1beta1.Kafka) (from, to int16, err error)
	SetTo(ctx context.Context, k *v1beta1.Kafka, level int16) (from, to int16, err error)
}

// Features raises metadata.version through the lanes.
type Features struct {
	Lanes *Lanes
	Next  FeatureLevels
}

type levels struct{ from, to int16 }

// Raise implements FeatureRaiser.
func (f *Features) Raise(ctx context.Context, k *v1beta1.Kafka) (int16, int16, error) {
	l, err := Do(ctx, f.Lanes, k, "features-raise", func(ctx context.Context) (levels, error) {
		from, to, err := f.Next.Raise(ctx, k)
		return levels{from, to}, err
	})
	return l.from, l.to, err
}

// SetTo implements FeatureRaiser.
func (f *Features) SetTo(ctx context.Context, k *v1beta1.Kafka, level int16) (int16, int16, error) {
	l, err := Do(ctx, f.Lanes, k, fmt.Sprintf("features-set %d", level), func(ctx context.Context) (levels, error) {
		from, to, err := f.Next.SetTo(ctx, k, level)
		return levels{from, to}, err
	})
	return l.from, l.to, err
}

// KeystoreReloads is the reconciler's KeystoreReloader.
type KeystoreReloads interface {
	Served(ctx context.Context, addr string) ([]byte, error)
	Reload(ctx context.Context, k *v1beta1.Kafka, id int32, key string) error
}

// Keystores reads served certificates and asks for keystore reloads through the lanes.
type Keystores struct {
	Lanes *Lanes
	Next  KeystoreReloads
}

// Served implements KeystoreReloader.
func (s *Keystores) Served(ctx context.Context, k *v1beta1.Kafka, addr string) ([]byte, error) {
	return Do(ctx, s.Lanes, k, "served-certificate "+addr, func(ctx context.Context) ([]byte, error) {
		return s.Next.Served(ctx, addr)
	})
}

// Reload implements KeystoreReloader.
func (s *Keystores) Reload(ctx context.Context, k *v1beta1.Kafka, id int32, key string) error {
	_, err := Do(ctx, s.Lanes, k, fmt.Sprintf("reload-keystores %d %s", id, key), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.Next.Reload(ctx, k, id, key)
	})
	return err
}
