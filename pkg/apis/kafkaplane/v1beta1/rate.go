package v1beta1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Rate is a non-negative rate written as a JSON number (0.5, 10: Strimzi's form) or a quantity
// string ("500m", "10").
//
// The schema cannot admit both a number and a string with a type (a structural schema has
// int-or-string only), so the field is typeless and checked by the operator: decoding never
// fails on a bad value, since one bad object must not stop an informer from listing every other.
// Quantity reports it, and the resource says why with Ready=False, reason InvalidSpec.
//
// +kubebuilder:validation:Type=""
// +kubebuilder:pruning:PreserveUnknownFields
type Rate string

// UnmarshalJSON keeps a number's literal text or a string's value; anything else is kept as its
// JSON under invalidPrefix, for Quantity to report.
func (r *Rate) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return fmt.Errorf("empty rate")
	}
	switch c := data[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("rate: %w", err)
		}
		if strings.HasPrefix(s, invalidPrefix) {
			*r = Rate(invalid(data)) // as ConfigValue: no rate holds a NUL
			return nil
		}
		*r = Rate(s)
	case c == '-' || c >= '0' && c <= '9':
		*r = Rate(data)
	default:
		*r = Rate(invalid(data))
	}
	return nil
}

// MarshalJSON writes a number back as a number and a string as a string, so that a round trip
// keeps what the user wrote.
func (r Rate) MarshalJSON() ([]byte, error) {
	s := string(r)
	if raw, ok := bytes.CutPrefix([]byte(s), []byte(invalidPrefix)); ok {
		return raw, nil
	}
	var f json.Number = json.Number(s)
	if _, err := f.Float64(); err == nil && json.Valid([]byte(s)) {
		return []byte(s), nil
	}
	return json.Marshal(s)
}

// Quantity is the rate as a quantity, or why it is not a non-negative one.
func (r Rate) Quantity() (resource.Quantity, error) {
	s := string(r)
	if raw, ok := bytes.CutPrefix([]byte(s), []byte(invalidPrefix)); ok {
		return resource.Quantity{}, fmt.Errorf("%s is not a rate: use a number such as 0.5 or a quantity such as 500m", raw)
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return resource.Quantity{}, fmt.Errorf("%q is not a rate: use a number such as 0.5 or a quantity such as 500m", s)
	}
	if q.Sign() < 0 {
		return resource.Quantity{}, fmt.Errorf("%s is negative", s)
	}
	return q, nil
}
