//go:build amd64 && !purego

package sealed

import (
	"testing"

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
	asmtest.SignalFrameHooks(t, &sigArm, &sigCheck, pkgPath, sigstkHooked)
}
