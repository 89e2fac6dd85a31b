//go:build linux && amd64 && !purego

package aeskl

import "github.com/go-keylocker/keylocker/internal/asm"

// disableSignalFrameWipe turns off the wipe of interrupted routines' signal
// frames, for showing what the busy memory scan finds without it.
func disableSignalFrameWipe() { asm.SetSignalFrameWipe(false) }
