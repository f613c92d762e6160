package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCopyFileToAFileAndIntoADirectory(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "agent.jar")
	if err := os.WriteFile(src, []byte("jar bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dst, want string }{
		{filepath.Join(dir, "copy.jar"), filepath.Join(dir, "copy.jar")},
		{filepath.Join(dir, "sub"), filepath.Join(dir, "sub", "agent.jar")},
	} {
		if filepath.Base(c.dst) == "sub" {
			if err := os.Mkdir(c.dst, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := copyFile(src, c.dst); err != nil {
			t.Fatalf("copyFile(%s): %v", c.dst, err)
		}
		got, err := os.ReadFile(c.want)
		if err != nil || string(got) != "jar bytes" {
			t.Fatalf("%s: %q, %v", c.want, got, err)
		}
		fi, _ := os.Stat(c.want)
		if fi.Mode().Perm()&0o444 != 0o444 {
			t.Errorf("%s mode %v: not readable by the Kafka user", c.want, fi.Mode())
		}
	}
	if err := copyFile(filepath.Join(dir, "missing"), filepath.Join(dir, "x")); err == nil {
		t.Error("copying a missing file succeeded")
	}
	if err := copyFile(dir, filepath.Join(dir, "x")); err == nil {
		t.Error("copying a directory succeeded")
	}
}
