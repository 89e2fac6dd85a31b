package kerneltest

import (
	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/kernel"
)

// HostRandSources is the sources argument of the random-key routines for
// this CPU: kernel.RandRDSEED and kernel.RandRDRAND as it reports them
// (klemu passes both instructions through: they are unprivileged).
func HostRandSources() int {
	s := 0
	if cpu.X86.HasRDSEED {
		s |= kernel.RandRDSEED
	}
	if cpu.X86.HasRDRAND {
		s |= kernel.RandRDRAND
	}
	return s
}
