// Package dynconfig applies the cluster-wide dynamic broker configs of a Kafka's spec.kafka.config
// at runtime (IncrementalAlterConfigs on the cluster-default broker resource), so that changing
// one does not roll the cluster. The spec is authoritative for those keys: one removed from the
// spec is deleted from Kafka's dynamic defaults. Other keys set with Kafka tools are left alone.
package dynconfig

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Applier applies dynamic configs through a cluster's client.
type Applier struct {
	Client func(k *v1beta1.Kafka) (*kgo.Client, error)
}

// Apply makes Kafka's cluster-wide dynamic configs match want (keys kafkaconfig.Dynamic
// reports) and returns the keys it changed.
func (a *Applier) Apply(ctx context.Context, k *v1beta1.Kafka, want map[string]v1beta1.ConfigValue) ([]string, error) {
	cl, err := a.Client(k)
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	rcs, err := adm.DescribeBrokerConfigs(ctx) // no broker: the cluster-wide defaults
	if err != nil {
		return nil, fmt.Errorf("describing the cluster-wide broker configs: %w", err)
	}
	have := map[string]string{}
	for _, rc := range rcs {
		if rc.Err != nil {
			return nil, fmt.Errorf("describing the cluster-wide broker configs: %w", rc.Err)
		}
		for _, c := range rc.Configs {
			if c.Value != nil && (c.Source == kmsg.ConfigSourceDynamicDefaultBrokerConfig || c.Source == kmsg.ConfigSourceDynamicBrokerConfig) {
				have[c.Key] = *c.Value
			}
		}
	}
	var alters []kadm.AlterConfig
	var changed []string
	for key, v := range want {
		if cur, ok := have[key]; !ok || cur != v.String() {
			val := v.String()
			alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: key, Value: &val})
			changed = append(changed, key)
		}
	}
	for key := range have {
		if _, ok := want[key]; !ok && kafkaconfig.Dynamic(key) {
			alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: key})
			changed = append(changed, key)
		}
	}
	if len(alters) == 0 {
		return nil, nil
	}
	resps, err := adm.AlterBrokerConfigs(ctx, alters)
	if err != nil {
		return nil, fmt.Errorf("altering the cluster-wide broker configs: %w", err)
	}
	for _, r := range resps {
		if r.Err != nil {
			return nil, fmt.Errorf("altering the cluster-wide broker configs: %w (%s)", r.Err, r.ErrMessage)
		}
	}
	sort.Strings(changed)
	return changed, nil
}
