//go:build amd64 && !purego

package peak

import (
	"testing"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
	"golang.org/x/sys/cpu"
)

const entry = "github.com/go-keylocker/keylocker/internal/asm/peak.AES"

// TestAESClearsRegisters: AES leaves zero in every register it used (AES of
// a zero block under a zero round key is not zero, so a register the loop
// wrote and did not clear shows), and leaves the others alone.
func TestAESClearsRegisters(t *testing.T) {
	if !cpu.X86.HasAES {
		t.Skip("no AES-NI")
	}
	AES(16, 1) // a direct call: the linker keeps AES and its ABI0 entry
	f := [16]uint64{16, 3}
	var regs [16][16]byte
	asmtest.CallABI0(asmtest.ABI0(t, entry), &f, &regs)
	for i, r := range regs {
		poisoned := r == [16]byte{0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5}
		switch {
		case i <= 11 || i == 15:
			if r != ([16]byte{}) {
				t.Errorf("width 16: X%d = %x after AES, want zero", i, r)
			}
		case !poisoned:
			t.Errorf("width 16: X%d = %x, a register AES does not use was changed", i, r)
		}
	}
	for _, width := range []int{32, 64} {
		if !cpu.X86.HasAVX512F || !cpu.X86.HasAVX512VAES {
			t.Skipf("width %d: the probe needs AVX-512F and VAES", width)
		}
		f := [16]uint64{uint64(width), 3}
		var out [48][64]byte
		asmtest.CallABI0Z(asmtest.ABI0(t, entry), &f, &out)
		// Z0-Z11 hold the blocks (not zero after the rounds unless
		// cleared); VZEROALL clears Z0-Z15. The round key register (Y15 or
		// Z16) holds zero throughout. The other registers hold whatever
		// code before the call left there (the race runtime uses them).
		for i := range 16 {
			if out[i] != ([64]byte{}) {
				t.Errorf("width %d: Z%d = %x after AES, want zero", width, i, out[i])
			}
		}
	}
}
