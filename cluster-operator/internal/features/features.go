// Package features raises a cluster's KRaft metadata.version after an upgrade: once every node
// runs the new Kafka version, to the highest level every broker supports (KIP-584 features as
// ApiVersions reports them), with UpdateFeatures. It never lowers it.
package features

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/version"
)

// MetadataVersion is the feature's name.
const MetadataVersion = "metadata.version"

// Raiser raises metadata.version through a cluster's client.
type Raiser struct {
	Client func(k *v1beta1.Kafka) (*kgo.Client, error)
	// Report, when set, is told how each attempt went (a client that keeps failing is replaced).
	Report func(k *v1beta1.Kafka, err error)
}

// Raise sets metadata.version to the highest level all brokers support when it is lower, and
// returns the levels before and after.
func (r *Raiser) Raise(ctx context.Context, k *v1beta1.Kafka) (from int16, to int16, err error) {
	defer func() {
		if r.Report != nil {
			r.Report(k, err)
		}
	}()
	return r.raise(ctx, k)
}

func (r *Raiser) raise(ctx context.Context, k *v1beta1.Kafka) (int16, int16, error) {
	cl, err := r.Client(k)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	finalized, target, err := brokerLevels(ctx, cl)
	if err != nil {
		return 0, 0, err
	}
	if target <= finalized {
		return finalized, finalized, nil
	}
	// The brokers' supported maximum is not always a level the controllers accept (real Kafka
	// 4.4.0 brokers advertise a level its controllers refuse with INVALID_UPDATE_VERSION): the
	// highest level the controllers validate is the one applied.
	var refused error
	for level := target; level > finalized; level-- {
		err := update(ctx, cl, true, level)
		if err == nil {
			if err := update(ctx, cl, false, level); err != nil {
				return finalized, finalized, err
			}
			return finalized, level, nil
		}
		if !errors.Is(err, kerr.InvalidUpdateVersion) {
			return finalized, finalized, err
		}
		if refused == nil {
			refused = err
		}
	}
	return finalized, finalized, refused
}

// SetTo sets metadata.version to level (spec.kafka.metadataVersion on a running cluster) and
// returns the levels before and after. It only raises: a lower level than the finalized one is
// refused, as Kafka refuses downgrades that may lose metadata.
func (r *Raiser) SetTo(ctx context.Context, k *v1beta1.Kafka, level int16) (from, to int16, err error) {
	defer func() {
		if r.Report != nil {
			r.Report(k, err)
		}
	}()
	cl, err := r.Client(k)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	finalized, supported, err := brokerLevels(ctx, cl)
	if err != nil {
		return 0, 0, err
	}
	switch {
	case level == finalized:
		return finalized, finalized, nil
	case level < finalized:
		return finalized, finalized, fmt.Errorf("metadata.version is %s; the operator does not lower it to %s (a downgrade may lose metadata)", Name(finalized), Name(level))
	case level > supported:
		return finalized, finalized, fmt.Errorf("metadata.version %s is above what every broker supports (%s)", Name(level), Name(supported))
	}
	if err := update(ctx, cl, true, level); err != nil {
		return finalized, finalized, err
	}
	if err := update(ctx, cl, false, level); err != nil {
		return finalized, finalized, err
	}
	return finalized, level, nil
}

// brokerLevels asks every broker for metadata.version: the finalized level, and the highest
// level all of them support.
func brokerLevels(ctx context.Context, cl *kgo.Client) (finalized, supportedMax int16, err error) {
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("listing brokers: %w", err)
	}
	var target int16
	finalized, target = -1, -1
	for _, b := range md.Brokers {
		req := kmsg.NewPtrApiVersionsRequest()
		// v3+ requests must name the client software, or brokers answer with an error.
		req.ClientSoftwareName, req.ClientSoftwareVersion = "kafkaplane-cluster-operator", version.Version
		resp, err := req.RequestWith(ctx, cl.Broker(int(b.NodeID)))
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("asking broker %d for its features: %w", b.NodeID, err)
		}
		supported := int16(-1)
		for _, f := range resp.SupportedFeatures {
			if f.Name == MetadataVersion {
				supported = f.MaxVersion
			}
		}
		if supported < 0 {
			return 0, 0, fmt.Errorf("broker %d reports no %s support", b.NodeID, MetadataVersion)
		}
		if target < 0 || supported < target {
			target = supported
		}
		for _, f := range resp.FinalizedFeatures {
			if f.Name == MetadataVersion && f.MaxVersionLevel > finalized {
				finalized = f.MaxVersionLevel
			}
		}
	}
	return finalized, target, nil
}

// update asks the controllers to set metadata.version to level, or only to validate it. Kafka's
// error message names the node that refuses (a removed controller's registration that stays,
// a broker on an older version), so it is kept.
func update(ctx context.Context, cl *kgo.Client, validateOnly bool, level int16) error {
	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.TimeoutMillis = 15000
	req.ValidateOnly = validateOnly
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = MetadataVersion, level, 1
	req.FeatureUpdates = append(req.FeatureUpdates, u)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err, msg := kerr.ErrorForCode(resp.ErrorCode), resp.ErrorMessage
		for _, r := range resp.Results {
			if e := kerr.ErrorForCode(r.ErrorCode); e != nil && err == nil {
				err, msg = e, r.ErrorMessage
			}
		}
		if err != nil && msg != nil && *msg != "" {
			err = fmt.Errorf("%w: %s", err, *msg)
		}
		if err != nil {
			return fmt.Errorf("raising %s to %d: %w", MetadataVersion, level, err)
		}
		return nil
	}
	return fmt.Errorf("raising %s to %d: %w", MetadataVersion, level, err)
}
