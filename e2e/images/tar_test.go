package images

import (
	"archive/tar"
	"io"
)

func tarReader(r io.Reader) *tar.Reader { return tar.NewReader(r) }
