// Package logs configures klog, the structured and contextual logger of every Kafkaplane binary
// (the same one client-go logs through). Loggers travel in contexts: klog.FromContext(ctx).
//
// --log-level filters by severity: ERROR prints errors only, WARN warnings and errors (the
// "W" lines of klog, e.g. client-go's), INFO adds informational lines, DEBUG and TRACE raise
// klog's verbosity to 4 and 6. --log-format=json writes one JSON object per line (log/slog's
// JSON handler, with "level", "msg" and the key/value pairs) for log pipelines; there, logr has
// no warning severity, so WARN keeps errors only.
package logs

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// Levels map the user-facing names (also used by the entity operators' logLevel) to klog
// verbosity.
var Levels = map[string]int{"ERROR": 0, "WARN": 0, "INFO": 0, "DEBUG": 4, "TRACE": 6}

// thresholds are the klog severities printed at each level.
var thresholds = map[string]string{"ERROR": "ERROR", "WARN": "WARNING", "INFO": "INFO", "DEBUG": "INFO", "TRACE": "INFO"}

// Formats of --log-format.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// Options are the logging flags.
type Options struct {
	Level, Format string
	klogFlags     *flag.FlagSet
	// Output is where JSON lines go; os.Stderr when nil (text lines always go to stderr).
	Output io.Writer
}

// AddFlags registers --log-level, --log-format and klog's -v and --vmodule on fs.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Level, "log-level", "INFO", "log level: ERROR, WARN, INFO, DEBUG or TRACE")
	fs.StringVar(&o.Format, "log-format", FormatText, "log format: text (klog's) or json (one object per line)")
	o.klogFlags = flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(o.klogFlags)
	o.klogFlags.VisitAll(func(f *flag.Flag) {
		if f.Name == "v" || f.Name == "vmodule" {
			fs.Var(f.Value, f.Name, f.Usage)
		}
	})
}

// Apply configures klog from the flags: the verbosity (unless -v was given explicitly), the
// severities printed, and the format.
func (o *Options) Apply() error {
	level := strings.ToUpper(o.Level)
	v, ok := Levels[level]
	if !ok {
		return fmt.Errorf("unknown log level %q: use ERROR, WARN, INFO, DEBUG or TRACE", o.Level)
	}
	format := o.Format
	if format == "" {
		format = FormatText
	}
	if format != FormatText && format != FormatJSON {
		return fmt.Errorf("unknown log format %q: use %s or %s", o.Format, FormatText, FormatJSON)
	}
	if o.klogFlags == nil {
		o.klogFlags = flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(o.klogFlags)
	}
	if o.klogFlags.Lookup("v").Value.String() == "0" {
		if err := o.klogFlags.Set("v", fmt.Sprint(v)); err != nil {
			return err
		}
	} else if n, err := fmt.Sscan(o.klogFlags.Lookup("v").Value.String(), &v); n != 1 || err != nil {
		return fmt.Errorf("reading -v: %w", err)
	}
	// klog prints every severity to stderr unless told to honour the threshold there too.
	for name, value := range map[string]string{"logtostderr": "true", "legacy_stderr_threshold_behavior": "false", "stderrthreshold": thresholds[level]} {
		if err := o.klogFlags.Set(name, value); err != nil {
			return fmt.Errorf("configuring klog (%s): %w", name, err)
		}
	}
	if format == FormatJSON {
		out := o.Output
		if out == nil {
			out = os.Stderr
		}
		// logr's V(n) is slog level -n; its Error is slog's ERROR.
		min := slog.Level(-v)
		if level == "ERROR" || level == "WARN" {
			min = slog.LevelError
		}
		h := slog.NewJSONHandler(out, &slog.HandlerOptions{Level: min})
		klog.SetLoggerWithOptions(logr.FromSlogHandler(h), klog.ContextualLogger(true))
	}
	return nil
}
