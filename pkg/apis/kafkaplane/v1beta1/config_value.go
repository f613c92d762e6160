package v1beta1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// ConfigValue is one value of a Kafka configuration map (spec.kafka.config, KafkaTopic
// spec.config). Users write it as YAML has it, a string, number or boolean
// (`retention.ms: 7200000`, `unclean.leader.election.enable: false`), or a list of those, which
// becomes Kafka's comma-separated form, as with Strimzi. It is kept as the string Kafka uses.
//
// An object or null is not a config value: the resource then reports Ready=False with the reason
// InvalidSpec, and nothing is applied.
//
// +kubebuilder:validation:Type=""
// +kubebuilder:pruning:PreserveUnknownFields
type ConfigValue string

// invalidPrefix marks a value that is not a Kafka config value; what follows is its JSON.
//
// The schema cannot restrict the value's JSON type (a typeless value admits no CEL rule), so an
// object or null passes admission. Decoding never fails on it, since one bad object must not stop
// an informer from listing every other; the value is kept, Validate reports it, and MarshalJSON
// writes it back unchanged.
const invalidPrefix = "\x00json:"

// UnmarshalJSON accepts a JSON string, number, boolean or list of those.
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
		if strings.HasPrefix(s, invalidPrefix) {
			// A string that reads as our marker ("\u0000json:…", found by FuzzConfigValue)
			// would be written back as broken JSON; no Kafka value holds a NUL anyway.
			*v = invalid(data)
			return nil
		}
		*v = ConfigValue(s)
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return fmt.Errorf("config value: %w", err)
		}
		parts := make([]string, 0, len(items))
		for _, it := range items {
			var item ConfigValue
			if err := item.UnmarshalJSON(it); err != nil {
				return err
			}
			if item.Validate() != nil || bytes.HasPrefix(bytes.TrimSpace(it), []byte("[")) {
				*v = invalid(data)
				return nil
			}
			parts = append(parts, string(item))
		}
		*v = ConfigValue(strings.Join(parts, ","))
	case '{', 'n':
		*v = invalid(data)
	default:
		// Numbers and booleans keep their literal text: 1073741824 must not become 1.073741824e+09.
		// json.Valid, not a decode into float64: 1e400 is JSON, but no float64 (found by
		// FuzzConfigValue; the error would have stopped the informer's whole list).
		if !json.Valid(data) {
			return fmt.Errorf("config value %s is not JSON", data)
		}
		*v = ConfigValue(data)
	}
	return nil
}

func invalid(data []byte) ConfigValue {
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		return ConfigValue(invalidPrefix + string(data))
	}
	return ConfigValue(invalidPrefix + b.String())
}

// MarshalJSON writes the value as a JSON string; an invalid value is written back as it came,
// so that nothing the user wrote is lost on a round trip.
func (v ConfigValue) MarshalJSON() ([]byte, error) {
	if raw, ok := strings.CutPrefix(string(v), invalidPrefix); ok {
		return []byte(raw), nil
	}
	return json.Marshal(string(v))
}

// Validate reports a value that is not a string, number, boolean or list of those.
func (v ConfigValue) Validate() error {
	if raw, ok := strings.CutPrefix(string(v), invalidPrefix); ok {
		return fmt.Errorf("%s is not a Kafka config value: use a string, number, boolean or a list of those", raw)
	}
	return nil
}

// String returns the value as Kafka takes it.
func (v ConfigValue) String() string { return string(v) }
