//go:build unix

package main

import (
	"os"
	"syscall"
	"testing"
)

// blockNodeAlias makes path another device node of the block device dev.
func blockNodeAlias(t *testing.T, dev, path string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(path, syscall.S_IFBLK|0o600, int(st.Rdev)); err != nil {
		t.Fatal(err)
	}
	return path
}

// umask returns the process's umask.
func umask(t *testing.T) os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
