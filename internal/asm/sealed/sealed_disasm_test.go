//go:build amd64 && !purego

package sealed

import (
	"testing"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
)

// sigstkHooked lists every routine of this package: each holds key material
// in vector registers, so each must call the signal-frame arm hook before
// anything else and the check hook right before every return.
var sigstkHooked = []string{
	"SealedInit", "sealedEncodeKey", "sealedEncodeRandom", "SealedEncrypt", "SealedDecrypt",
	"sealedCTR", "SealedCBCEncrypt", "SealedCBCDecrypt", "SealedXTS", "SealedXTSSectors",
	"sealedGCM", "sealedGCMMessages",
}

// TestSignalFrameHooksDisasm checks, in the machine code of the test binary,
// that every routine calls the arm hook first and the check hook before
// every RET, on every return path, and that the hook variables hold
// internal/asm's hooks.
func TestSignalFrameHooksDisasm(t *testing.T) {
	b := asmtest.Open(t)
	if got, want := sigArm, asmtest.ABI0(t, "github.com/go-keylocker/keylocker/internal/asm.sigstkArm"); got != want {
		t.Errorf("sigArm = %#x, want internal/asm's sigstkArm %#x", got, want)
	}
	if got, want := sigCheck, asmtest.ABI0(t, "github.com/go-keylocker/keylocker/internal/asm.sigstkCheck"); got != want {
		t.Errorf("sigCheck = %#x, want internal/asm's sigstkCheck %#x", got, want)
	}
	bias := asmtest.Bias(t)
	arm := uintptr(unsafe.Pointer(&sigArm)) - bias
	check := uintptr(unsafe.Pointer(&sigCheck)) - bias
	for _, name := range sigstkHooked {
		t.Run(name, func(t *testing.T) {
			insns, _ := b.Body(t, pkgPath+name)
			n := asmtest.Hooks(t, insns,
				func(in []asmtest.Insn, i int) bool { return asmtest.IsHookCall(in, i, arm) },
				func(in []asmtest.Insn, k int) bool { return asmtest.IsHookCall(in, k-1, check) })
			t.Logf("%d return paths, each through the check hook", n)
		})
	}
}
