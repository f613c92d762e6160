package v1beta1

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ConfigValue is one value of a Kafka configuration map (spec.kafka.config, KafkaTopic
// spec.config). Users write it as YAML would have it, a string, number or boolean
// (`retention.ms: 7200000`, `unclean.leader.election.enable: false`); it is kept as the string
// Kafka itself uses. Lists are written as Kafka's comma-separated strings. Objects and arrays are
// rejected at admission and by UnmarshalJSON, rather than silently dropped.
// +kubebuilder:validation:Type=""
// +kubebuilder:pruning:PreserveUnknownFields
// +kubebuilder:validation:XValidation:rule="type(self) == string || type(self) == int || type(self) == uint || type(self) == double || type(self) == bool",message="a config value is a string, number or boolean (write a list as a comma-separated string)"
type ConfigValue string

// UnmarshalJSON accepts a JSON string, number or boolean.
func (v *ConfigValue) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return fmt.Errorf("empty config value")
	}
	switch data[0] {
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("config value: %w", err)
		}
		*v = ConfigValue(s)
	case '{', '[':
		return fmt.Errorf("config value %s: objects and arrays are not Kafka config values (write a list as a comma-separated string)", data)
	case 'n':
		return fmt.Errorf("config value: null is not a Kafka config value (remove the key to use the default)")
	default:
		// Numbers and booleans keep their literal text: 1073741824 must not become 1.073741824e+09.
		var probe any
		if err := json.Unmarshal(data, &probe); err != nil {
			return fmt.Errorf("config value %s: %w", data, err)
		}
		*v = ConfigValue(data)
	}
	return nil
}

// MarshalJSON writes the value as a JSON string.
func (v ConfigValue) MarshalJSON() ([]byte, error) {
	return json.Marshal(string(v))
}

// String returns the value as Kafka takes it.
func (v ConfigValue) String() string { return string(v) }
