//go:build amd64 && !purego && !linux

package asm

func init() {
	sigstkDetail = "not wiped: the wipe is implemented for Linux only"
}
