package kafkaconfig

import (
	"maps"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// loadProperties reads a properties file as java.util.Properties.load(InputStream) does (Kafka
// reads server.properties so): ISO-8859-1 bytes; logical lines joined at an odd number of
// trailing backslashes; lines whose first non-blank character is # or ! are comments; the key
// ends at the first unescaped '=', ':' or blank, then blanks, one optional '=' or ':' and blanks
// are skipped; \t \n \f \r \uXXXX are escapes, and a backslash before any other character is
// dropped. Written from the class's documentation, for the fuzz test below.
func loadProperties(data []byte) map[string]string {
	// ISO-8859-1: each byte is one character.
	runes := make([]rune, len(data))
	for i, b := range data {
		runes[i] = rune(b)
	}
	isBlank := func(r rune) bool { return r == ' ' || r == '\t' || r == '\f' }
	var lines [][]rune
	for i := 0; i < len(runes); {
		// Skip leading blanks (and blank lines) of a natural line.
		for i < len(runes) && (isBlank(runes[i]) || runes[i] == '\n' || runes[i] == '\r') {
			i++
		}
		if i >= len(runes) {
			break
		}
		comment := runes[i] == '#' || runes[i] == '!'
		var line []rune
		for i < len(runes) {
			r := runes[i]
			if r == '\n' || r == '\r' {
				// Count the backslashes before the terminator.
				n := 0
				for j := len(line) - 1; j >= 0 && line[j] == '\\'; j-- {
					n++
				}
				if comment || n%2 == 0 {
					break
				}
				line = line[:len(line)-1] // the continuation backslash
				if r == '\r' && i+1 < len(runes) && runes[i+1] == '\n' {
					i++
				}
				i++
				for i < len(runes) && isBlank(runes[i]) {
					i++
				}
				continue
			}
			line = append(line, r)
			i++
		}
		if !comment {
			lines = append(lines, line)
		}
	}
	// unescape reads a key or value into Java's UTF-16 characters, then into a Go string.
	unescape := func(s []rune) string {
		var u []uint16
		for i := 0; i < len(s); i++ {
			if s[i] != '\\' {
				u = append(u, uint16(s[i]))
				continue
			}
			if i+1 >= len(s) {
				continue
			}
			i++
			switch s[i] {
			case 't':
				u = append(u, '\t')
			case 'n':
				u = append(u, '\n')
			case 'f':
				u = append(u, '\f')
			case 'r':
				u = append(u, '\r')
			case 'u':
				var v uint16
				for k := 0; k < 4 && i+1 < len(s); k++ {
					i++
					c := s[i]
					switch {
					case c >= '0' && c <= '9':
						v = v*16 + uint16(c-'0')
					case c >= 'a' && c <= 'f':
						v = v*16 + uint16(c-'a'+10)
					case c >= 'A' && c <= 'F':
						v = v*16 + uint16(c-'A'+10)
					}
				}
				u = append(u, v)
			default:
				u = append(u, uint16(s[i]))
			}
		}
		return string(utf16.Decode(u))
	}
	out := map[string]string{}
	for _, line := range lines {
		k := 0
		for k < len(line) {
			if line[k] == '\\' {
				k += 2
				continue
			}
			if line[k] == '=' || line[k] == ':' || isBlank(line[k]) {
				break
			}
			k++
		}
		if k > len(line) {
			k = len(line)
		}
		v := k
		for v < len(line) && isBlank(line[v]) {
			v++
		}
		if v < len(line) && (line[v] == '=' || line[v] == ':') {
			v++
		}
		for v < len(line) && isBlank(line[v]) {
			v++
		}
		out[unescape(line[:k])] = unescape(line[v:])
	}
	return out
}

// FuzzUserConfigProperties: whatever key and value a user puts in spec.kafka.config, Kafka reads
// back exactly that key and value from the rendered server.properties, and nothing else of the
// operator's changes (no comment swallowing a key, no injected line, no lost blank, no character
// mangled by the ISO-8859-1 reading).
func FuzzUserConfigProperties(f *testing.F) {
	for _, seed := range [][2]string{
		{"log.retention.ms", "1000"}, {"a.b", " leading blank"}, {"#comment.like", "x"}, {"!bang", "y"},
		{"key with space", "v"}, {"k", "line1\nline2\r\n"}, {"k", "trailing\\"}, {"k", "ünïcödé ✓ 🚀"},
		{"k", "a=b:c"}, {"k=k", ":v"}, {"k", "\\u0041"}, {"k", "\f\t"}, {"x", "=x"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		if key == "" || !utf8.ValidString(key) || !utf8.ValidString(value) || Owned(key) {
			t.Skip()
		}
		in := example()
		if _, ok := in.UserConfig[key]; ok {
			t.Skip()
		}
		in.UserConfig = maps.Clone(in.UserConfig)
		if in.UserConfig == nil {
			in.UserConfig = map[string]v1beta1.ConfigValue{}
		}
		in.UserConfig[key] = v1beta1.ConfigValue(value)
		want, err := Render(example())
		if err != nil {
			t.Fatal(err)
		}
		got, err := Render(in)
		if err != nil {
			if strings.HasPrefix(value, "\x00json:") {
				t.Skip() // an invalid ConfigValue is refused, as it should be
			}
			t.Fatalf("Render: %v", err)
		}
		props := loadProperties([]byte(got))
		if props[key] != value {
			t.Fatalf("Kafka reads %q = %q, the user wrote %q\n%s", key, props[key], value, got)
		}
		base := loadProperties([]byte(want))
		for k, v := range base {
			if props[k] != v && k != key {
				t.Fatalf("the user's %q changed the operator's %q: %q, want %q", key, k, props[k], v)
			}
		}
		if _, had := base[key]; !had && len(props) != len(base)+1 || had && len(props) != len(base) {
			t.Fatalf("%d properties, want %d: %v", len(props), len(base)+1, props)
		}
	})
}
