package bench

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
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
