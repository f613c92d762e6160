package bench

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
)

// Runs is $BENCH_RUNS, the number of interleaved floor and operator runs per size (default 3):
// a single run's wall time swings ±20 % on a shared machine.
func Runs() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// Median of xs (the upper one of an even count); 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// Series collects one figure of several runs.
type Series []float64

// String is each run's value and the median, formatted with format.
func (s Series) String(format string) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprintf(format, v)
	}
	return fmt.Sprintf("median "+format+" (runs: %s)", Median(s), strings.Join(parts, ", "))
}

// Seconds is a duration in seconds, for a Series.
func Seconds(d time.Duration) float64 { return d.Seconds() }

// Started polls ready until it reports the probe resource Ready and returns the time since
// started (when the operator process p was started); it fails when p exits or after a minute.
func Started(p *localcluster.Process, started time.Time, ready func() bool) (time.Duration, error) {
	for {
		if ready() {
			return time.Since(started), nil
		}
		if exited, _ := p.Exited(); exited || time.Since(started) > time.Minute {
			return 0, fmt.Errorf("the probe resource was not Ready a minute after the operator started (log %s)", p.LogFile)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
