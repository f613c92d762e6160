package kafkacheck

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Unregister removes a node that left the cluster from Kafka's metadata: its broker
// registration (UnregisterBroker) and its controller registration (UnregisterController, Kafka
// 4.4 at metadata.version 4.4-IV2 and later). A removed node's registration otherwise stays for
// good, and Kafka refuses to raise metadata.version past what it supported. Done reports that
// nothing is left to ask: the registrations are gone, or Kafka cannot remove the controller
// registration (older versions keep it; controllerStays says so).
func (c *Checker) Unregister(ctx context.Context, k *v1beta1.Kafka, id int32) (controllerStays bool, err error) {
	cl, err := c.Client(k)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	b := kmsg.NewPtrUnregisterBrokerRequest()
	b.BrokerID = id
	bresp, err := b.RequestWith(ctx, cl)
	c.Report(k, err)
	if err == nil {
		err = kerr.ErrorForCode(bresp.ErrorCode)
	}
	if err != nil && !errors.Is(err, kerr.BrokerIDNotRegistered) {
		return false, fmt.Errorf("unregistering broker %d: %w", id, err)
	}

	versions, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(versions.ErrorCode)
	}
	if err != nil {
		return false, fmt.Errorf("asking Kafka's API versions: %w", err)
	}
	req := kmsg.NewPtrUnregisterControllerRequest()
	supported := false
	for _, key := range versions.ApiKeys {
		supported = supported || key.ApiKey == req.Key()
	}
	if !supported {
		return true, nil
	}
	req.ControllerID = id
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	switch {
	case err == nil, errors.Is(err, kerr.ControllerIDNotRegistered):
		return false, nil
	case errors.Is(err, kerr.UnsupportedVersion):
		// metadata.version is below 4.4-IV2.
		return true, nil
	default:
		return false, fmt.Errorf("unregistering controller %d: %w", id, err)
	}
}
