// Package logs configures klog, the structured and contextual logger of every Kafkaplane binary
// (the same one client-go logs through). Loggers travel in contexts: klog.FromContext(ctx).
package logs

import (
	"flag"
	"fmt"
	"strings"

	"k8s.io/klog/v2"
)

// Levels map the user-facing names (also used by the entity operators' logLevel) to klog
// verbosity.
var Levels = map[string]int{"ERROR": 0, "WARN": 0, "INFO": 0, "DEBUG": 4, "TRACE": 6}

// Options are the logging flags.
type Options struct {
	Level     string
	klogFlags *flag.FlagSet
}

// AddFlags registers --log-level and klog's own flags (-v, --vmodule, …) on fs.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Level, "log-level", "INFO", "log level: ERROR, WARN, INFO, DEBUG or TRACE")
	o.klogFlags = flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(o.klogFlags)
	o.klogFlags.VisitAll(func(f *flag.Flag) {
		if f.Name == "v" || f.Name == "vmodule" {
			fs.Var(f.Value, f.Name, f.Usage)
		}
	})
}

// Apply sets klog's verbosity from --log-level unless -v was given explicitly.
func (o *Options) Apply() error {
	v, ok := Levels[strings.ToUpper(o.Level)]
	if !ok {
		return fmt.Errorf("unknown log level %q: use ERROR, WARN, INFO, DEBUG or TRACE", o.Level)
	}
	if o.klogFlags != nil && o.klogFlags.Lookup("v").Value.String() == "0" {
		return o.klogFlags.Set("v", fmt.Sprint(v))
	}
	return nil
}
