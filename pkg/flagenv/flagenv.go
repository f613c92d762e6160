// Package flagenv lets every flag of a binary also be set from the environment, as operators in
// Deployments are usually configured: flag --watch-namespaces reads KAFKAPLANE_WATCH_NAMESPACES.
// A flag given on the command line wins over the environment.
package flagenv

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// Prefix of every environment variable.
const Prefix = "KAFKAPLANE_"

// EnvName is the environment variable for a flag name.
func EnvName(flagName string) string {
	return Prefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// Parse parses args into fs, then sets each flag not given on the command line from its
// environment variable (looked up with lookup, os.LookupEnv when nil).
func Parse(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := lookup(EnvName(f.Name)); ok {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("environment variable %s: %w", EnvName(f.Name), serr)
			}
		}
	})
	return err
}
