//go:build !unix

package main

import (
	"os"
	"testing"
)

func blockNodeAlias(t *testing.T, dev, path string) string {
	t.Skip("SKIP: device nodes are made only on Unix")
	return ""
}

func umask(t *testing.T) os.FileMode { return 0 }
