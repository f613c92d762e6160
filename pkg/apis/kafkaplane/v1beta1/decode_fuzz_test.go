package v1beta1

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzConfigValue: any JSON a user writes as a config value decodes without error (one bad
// object must not stop an informer), and writing it back gives JSON that decodes to the same
// value; a value that is not a Kafka config value says so in Validate.
func FuzzConfigValue(f *testing.F) {
	for _, s := range []string{`"x"`, `1073741824`, `true`, `[1,"a",false]`, `{"a":1}`, `null`, `[[1]]`, `1e400`, `-0.5`, `"\u0000json:"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			t.Skip()
		}
		var v ConfigValue
		if err := v.UnmarshalJSON(data); err != nil {
			t.Fatalf("decoding %s: %v", data, err)
		}
		out, err := v.MarshalJSON()
		if err != nil || !json.Valid(out) {
			t.Fatalf("%s written back as %q: %v", data, out, err)
		}
		var again ConfigValue
		if err := again.UnmarshalJSON(out); err != nil || again != v {
			t.Fatalf("%s → %s → %q, want %q (%v)", data, out, again, v, err)
		}
		if bytes.HasPrefix([]byte(v), []byte(invalidPrefix)) != (v.Validate() != nil) {
			t.Fatalf("Validate of %q: %v", v, v.Validate())
		}
	})
}

// FuzzRate: any JSON decodes without error; a value Quantity accepts is never negative and
// survives a round trip.
func FuzzRate(f *testing.F) {
	for _, s := range []string{`0.5`, `10`, `"500m"`, `"-1"`, `{}`, `[1]`, `"1e3"`, `-0`, `"0.5Ki"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			t.Skip()
		}
		var r Rate
		if err := r.UnmarshalJSON(data); err != nil {
			t.Fatalf("decoding %s: %v", data, err)
		}
		q, err := r.Quantity()
		if err != nil {
			return
		}
		if q.Sign() < 0 {
			t.Fatalf("%s is a negative rate %s", data, q.String())
		}
		out, err := r.MarshalJSON()
		if err != nil || !json.Valid(out) {
			t.Fatalf("%s written back as %q: %v", data, out, err)
		}
		var again Rate
		if err := again.UnmarshalJSON(out); err != nil {
			t.Fatal(err)
		}
		if q2, err := again.Quantity(); err != nil || q2.Cmp(q) != 0 {
			t.Fatalf("%s → %s → %v (%v)", data, out, q2, err)
		}
	})
}
