// Command copyfile copies one file: `copyfile SRC DST`, DST a file or a directory. The
// jmx-exporter image has no shell or coreutils, and carries it as /bin/cp, so the cluster
// operator's init container (`cp <jar> <dir>/jmx_prometheus_javaagent.jar`) runs the same
// there as in any image that has a real cp.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cp SRC DST (one file; DST a file or a directory)")
		os.Exit(2)
	}
	if err := copyFile(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "cp:", err)
		os.Exit(1)
	}
}

// copyFile writes src to dst (or dst/<base of src> when dst is a directory) through a temporary
// file renamed into place, so that a reader never sees half a jar.
func copyFile(src, dst string) error {
	if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
		dst = filepath.Join(dst, filepath.Base(src))
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	if err := tmp.Chmod(fi.Mode().Perm() | 0o444); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
