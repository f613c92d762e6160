package kafkafake

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// SetHanging makes the cluster take requests and never answer them (true), as a broker cut off
// mid-connection or stuck, or answer again (false).
func (c *Cluster) SetHanging(hang bool) { c.hanging.Store(hang) }

// SetDown makes the cluster unreachable (true: every request's connection is closed, as when
// the brokers are gone or cut off) or reachable again (false), keeping its data.
func (c *Cluster) SetDown(down bool) { c.down.Store(down) }

func (c *Cluster) serveOutage() {
	c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if c.down.Load() {
			return nil, errors.New("kafkafake: down"), true
		}
		if c.hanging.Load() {
			return nil, nil, true // read, never answered
		}
		return nil, nil, false
	})
}
