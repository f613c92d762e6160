package strimzi

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
)

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// prune removes from v every field that t (one of our API types) does not have, recording each
// as dropped at its path. Values of types that decode themselves (json.Unmarshaler, such as
// ConfigValue or resource quantities) and free-form maps are kept whole.
func prune(v any, t reflect.Type, path string, r *Report) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || t.Implements(jsonUnmarshaler) {
		return v
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				r.drop(join(path, k), "not in Kafkaplane's API")
				delete(m, k)
				continue
			}
			m[k] = prune(m[k], ft, join(path, k), r)
		}
		return m
	case reflect.Slice:
		s, ok := v.([]any)
		if !ok {
			return v
		}
		for i := range s {
			s[i] = prune(s[i], t.Elem(), path+"["+itoa(i)+"]", r)
		}
		return s
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for k := range m {
			m[k] = prune(m[k], t.Elem(), join(path, k), r)
		}
		return m
	}
	return v
}

// jsonFields are a struct type's JSON field names and types, embedded and inline fields
// included.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous || strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
