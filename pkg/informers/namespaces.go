// Package informers scopes watches to the namespaces an operator is told to watch: one shared
// informer factory per namespace (or one for all namespaces), started, synced and stopped
// together, with transforms that keep cached objects small.
package informers

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Namespaces is the set of namespaces an operator watches. Empty means all namespaces.
type Namespaces []string

// ParseNamespaces reads a comma-separated list; an empty list or one containing "*" means all
// namespaces. Blanks and duplicates are dropped and the result is sorted.
func ParseNamespaces(s string) Namespaces {
	var out Namespaces
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		switch part {
		case "":
			continue
		case "*":
			return nil
		}
		if !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	slices.Sort(out)
	return out
}

// All reports whether every namespace is watched.
func (n Namespaces) All() bool { return len(n) == 0 }

// Contains reports whether a namespace is watched.
func (n Namespaces) Contains(namespace string) bool {
	return n.All() || slices.Contains(n, namespace)
}

// List returns the namespaces to build informers for: the listed ones, or metav1.NamespaceAll.
func (n Namespaces) List() []string {
	if n.All() {
		return []string{metav1.NamespaceAll}
	}
	return slices.Clone(n)
}

// String is the comma-separated form, "*" for all.
func (n Namespaces) String() string {
	if n.All() {
		return "*"
	}
	return strings.Join(n, ",")
}
