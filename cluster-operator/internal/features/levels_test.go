package features

import "testing"

func TestLevels(t *testing.T) {
	for name, want := range map[string]int16{"3.3-IV3": 7, "4.1-IV1": 27, "4.1": 27, "4.4-IV2": 33, "4.4": 33, "4.0": 25} {
		if got, ok := Level(name); !ok || got != want {
			t.Errorf("Level(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	for _, bad := range []string{"4.5-IV0", "5.0", "4.1-IV9", ""} {
		if l, ok := Level(bad); ok {
			t.Errorf("Level(%q) = %d, want unknown", bad, l)
		}
	}
	if Name(27) != "4.1-IV1" || Name(99) != "level 99" {
		t.Errorf("names: %q %q", Name(27), Name(99))
	}
}
