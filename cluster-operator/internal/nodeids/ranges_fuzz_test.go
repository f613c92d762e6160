package nodeids

import (
	"strings"
	"testing"
)

// FuzzParseRanges: any annotation value either parses into IDs within [0, maxID] — at most
// maxID+1 of them, however long the value — or is refused; it never panics.
func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"[100-199]", "[3, 5, 10-12]", "7", "", "[]", "[0-1048576]", "[5-3]", "[-1]", "[1--2]", "[a]",
		strings.Repeat("0-1048576,", 64) + "1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParseRanges(s)
		if err != nil {
			return
		}
		if len(ids) > maxID+1 {
			t.Fatalf("%d IDs from a %d-byte value", len(ids), len(s))
		}
		for _, id := range ids {
			if id < 0 || id > maxID {
				t.Fatalf("ID %d out of range", id)
			}
		}
	})
}
