package kafkacheck

import (
	"encoding/json"
	"os"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// OverridesFrom returns an Address function that reads a JSON file of "namespace/name" →
// address at each call and falls back to DefaultAddress; with no file, DefaultAddress.
func OverridesFrom(file string) func(k *v1beta1.Kafka) string {
	if file == "" {
		return DefaultAddress
	}
	return func(k *v1beta1.Kafka) string {
		var m map[string]string
		if b, err := os.ReadFile(file); err == nil && json.Unmarshal(b, &m) == nil {
			if a := m[k.Namespace+"/"+k.Name]; a != "" {
				return a
			}
		}
		return DefaultAddress(k)
	}
}
