//go:build amd64 && !purego

package benchcmd

import (
	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/asm/peak"
)

// peakWidths returns the register widths, in bytes, whose raw AES loop
// (internal/asm/peak) runs here: xmm with AES-NI, ymm with VAES (and AVX2),
// zmm with VAES and AVX-512.
func peakWidths(s aeskl.Support) []int {
	var w []int
	if s.AESNI {
		w = append(w, 16)
	}
	if s.VAES {
		w = append(w, 32)
		if s.AVX512 {
			w = append(w, 64)
		}
	}
	return w
}

// peakCall returns one call of the raw loop: iters iterations of 12
// registers of width bytes each through the 10 AES-128 rounds.
func peakCall(width, iters int) func() error {
	return func() error { peak.AES(width, iters); return nil }
}
