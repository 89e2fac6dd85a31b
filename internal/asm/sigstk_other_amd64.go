//go:build amd64 && !purego && !linux

package asm

func init() {
	sigstkDetail = "signal frames are not wiped: the wipe is implemented for Linux only"
}
