package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// resourceName finds the resources a mismatch names (t-0083, u-0023).
var resourceName = regexp.MustCompile(`\b[tu]-\d{4}\b`)

// Mentioned are the resource names the problems name.
func Mentioned(problems []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range problems {
		for _, n := range resourceName.FindAllString(p, -1) {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// LogReport is what a failed run's operator logs in dir say: in each, the lines that mention one
// of the names (at most 200), then its last 6 KiB.
func LogReport(dir string, mention []string) string {
	logs, _ := filepath.Glob(filepath.Join(dir, "chaos-*.log"))
	var b strings.Builder
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		if len(mention) > 0 {
			n := 0
			fmt.Fprintf(&b, "---- %s, lines naming %v ----\n", filepath.Base(l), mention)
			for _, line := range strings.Split(string(data), "\n") {
				for _, m := range mention {
					if strings.Contains(line, m) && n < 200 {
						b.WriteString(line + "\n")
						n++
						break
					}
				}
			}
		}
		const keep = 6 << 10
		if len(data) > keep {
			data = data[len(data)-keep:]
		}
		fmt.Fprintf(&b, "---- %s, last %d bytes ----\n%s\n", filepath.Base(l), len(data), data)
	}
	return b.String()
}
