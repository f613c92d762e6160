package v1beta1

import (
	"strconv"
	"strings"
)

// AdvertisedHost is the host a listener's configuration makes node id (pod podName) advertise:
// its brokers[].advertisedHost, else advertisedHostTemplate with {nodeId} and {nodePodName}
// filled in; empty when neither is set.
func (c *ListenerConfiguration) AdvertisedHost(id int32, podName string) string {
	if c == nil {
		return ""
	}
	for _, b := range c.Brokers {
		if b.Broker == id && b.AdvertisedHost != "" {
			return b.AdvertisedHost
		}
	}
	if c.AdvertisedHostTemplate == "" {
		return ""
	}
	return strings.NewReplacer("{nodeId}", strconv.Itoa(int(id)), "{nodePodName}", podName).Replace(c.AdvertisedHostTemplate)
}
