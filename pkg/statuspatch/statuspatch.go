// Package statuspatch builds the JSON merge patch that writes a resource's status. A merge patch
// keeps every field it does not mention, and omitempty leaves empty fields out, so a field that
// became empty would keep its old value: the fields named as clearable are sent as null when
// empty.
package statuspatch

import (
	"encoding/json"
	"fmt"
)

// Body returns {"status": status}, with each of clearable that status leaves out set to null.
func Body(status any, clearable ...string) ([]byte, error) {
	raw, err := json.Marshal(status)
	if err != nil {
		return nil, fmt.Errorf("encoding the status: %w", err)
	}
	fields := map[string]any{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("encoding the status: %w", err)
	}
	for _, k := range clearable {
		if _, ok := fields[k]; !ok {
			fields[k] = nil
		}
	}
	body, err := json.Marshal(map[string]any{"status": fields})
	if err != nil {
		return nil, fmt.Errorf("encoding the status: %w", err)
	}
	return body, nil
}
