//go:build !unix

package main

import "os"

// blockDevice returns the device number of a block device node; here it
// knows none.
func blockDevice(os.FileInfo) (uint64, bool) { return 0, false }
