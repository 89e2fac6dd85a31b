//go:build unix

package main

import (
	"os"
	"syscall"
)

// blockDevice returns the device number of a block device node.
func blockDevice(fi os.FileInfo) (uint64, bool) {
	m := fi.Mode()
	if m&os.ModeDevice == 0 || m&os.ModeCharDevice != 0 {
		return 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Rdev), true
}
