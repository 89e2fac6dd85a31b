package main

import "os"

// sameFile reports whether a and b are the same file, or two device nodes
// of the same block device.
func sameFile(a, b os.FileInfo) bool {
	if os.SameFile(a, b) {
		return true
	}
	da, oka := blockDevice(a)
	db, okb := blockDevice(b)
	return oka && okb && da == db
}

// sameAsStd reports whether the standard stream f (os.Stdin, os.Stdout) is
// the file fi.
func sameAsStd(f *os.File, fi os.FileInfo) bool {
	sfi, err := f.Stat()
	return err == nil && sameFile(sfi, fi)
}
