//go:build amd64 && !purego

package blamka

import "github.com/go-keylocker/keylocker/internal/asm"

// sigArm and sigCheck are the signal-frame hooks both routines call (see
// asm.SignalFrameHooks): the ABI0 addresses of internal/asm's sigstkArm
// and sigstkCheck.
var sigArm, sigCheck = asm.SignalFrameHooks()
