package v1beta1

import (
	"slices"
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

// SuperUserPrincipals are the authorization's super users as Kafka principals: an entry without
// the User: prefix (Strimzi's form, e.g. CN=admin) gets it.
func (a *KafkaAuthorization) SuperUserPrincipals() []string {
	if a == nil {
		return nil
	}
	out := make([]string, 0, len(a.SuperUsers))
	for _, u := range a.SuperUsers {
		if !strings.HasPrefix(u, "User:") {
			u = "User:" + u
		}
		out = append(out, u)
	}
	return out
}

// AllOperations are the rule's operations, from operations or the singular operation.
func (r ACLRule) AllOperations() []ACLOperation {
	if r.Operation != "" && !slices.Contains(r.Operations, r.Operation) {
		return append(slices.Clip(r.Operations), r.Operation)
	}
	return r.Operations
}
