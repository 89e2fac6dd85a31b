//go:build amd64 && !purego

package asm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
)

const pkgPath = "github.com/go-keylocker/keylocker/internal/asm."

// sigstkHooked lists every routine of this package that holds key material
// in vector registers: each must call sigstkArm before anything else and
// sigstkCheck right before every return. (The Key Locker package checks
// its ENCODEKEY routines, which call the hooks through variables.)
var sigstkHooked = []string{
	"SealedInit", "sealedEncodeKey", "SealedEncrypt", "SealedDecrypt",
	"sealedCTR", "SealedCBCEncrypt", "SealedCBCDecrypt", "SealedXTS",
}

// TestSignalFrameHooksDisasm checks, in the machine code of the test binary,
// that every key-holding routine arms the signal-frame canary first and
// checks it before every RET, on every return path.
func TestSignalFrameHooksDisasm(t *testing.T) {
	b := asmtest.Open(t)
	_, arm := b.Body(t, pkgPath+"sigstkArm")
	_, check := b.Body(t, pkgPath+"sigstkCheck")
	callTo := func(in asmtest.Insn, addr uint64) bool {
		return in.Mnemonic() == "call" && strings.Contains(in.Text, fmt.Sprintf("%x", addr))
	}
	for _, name := range sigstkHooked {
		t.Run(name, func(t *testing.T) {
			insns, _ := b.Body(t, pkgPath+name)
			n := asmtest.Hooks(t, insns,
				func(in []asmtest.Insn, i int) bool { return callTo(in[i], arm) },
				func(in []asmtest.Insn, k int) bool { return callTo(in[k], check) })
			t.Logf("%d return paths, each through sigstkCheck", n)
		})
	}
}

// TestCPUIDDisasm checks that CPUID and XGETBV0 assemble to those
// instructions.
func TestCPUIDDisasm(t *testing.T) {
	asmtest.Escape(XGETBV0) // linked even where no test calls it
	b := asmtest.Open(t)
	for name, want := range map[string]string{"CPUID": "cpuid", "XGETBV0": "xgetbv"} {
		insns, _ := b.Body(t, pkgPath+name)
		found := false
		for _, in := range insns {
			found = found || in.Mnemonic() == want
		}
		if !found {
			t.Errorf("%s: no %s instruction", name, want)
		}
	}
}
