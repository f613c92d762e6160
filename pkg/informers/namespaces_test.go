package informers

import (
	"slices"
	"testing"
)

func TestParseNamespaces(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Namespaces
		all  bool
	}{
		{"", nil, true},
		{"*", nil, true},
		{"a,*", nil, true},
		{"b, a ,,a", Namespaces{"a", "b"}, false},
		{"kafka", Namespaces{"kafka"}, false},
	} {
		got := ParseNamespaces(tc.in)
		if !slices.Equal(got, tc.want) || got.All() != tc.all {
			t.Errorf("ParseNamespaces(%q) = %v (all=%v), want %v (all=%v)", tc.in, got, got.All(), tc.want, tc.all)
		}
	}
	ns := ParseNamespaces("a,b")
	if !ns.Contains("a") || ns.Contains("c") {
		t.Errorf("Contains is wrong for %v", ns)
	}
	if !ParseNamespaces("").Contains("anything") {
		t.Error("watching all namespaces must contain every namespace")
	}
	if got := ParseNamespaces("").List(); len(got) != 1 || got[0] != "" {
		t.Errorf("List() for all = %q, want [\"\"]", got)
	}
}
