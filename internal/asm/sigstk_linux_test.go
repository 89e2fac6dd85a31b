//go:build amd64 && !purego

package asm

import (
	"testing"
)

func TestSignalFrameWipeActive(t *testing.T) {
	on, detail := SignalFrameWipe()
	t.Log(detail)
	if !on {
		t.Fatalf("the signal-frame wipe is off on Linux: %s", detail)
	}
	if sigstkCanaryOff < 512 || sigstkCanaryOff > sigstkWipeLen {
		t.Fatalf("frame %d bytes, wipe %d bytes: implausible", sigstkCanaryOff, sigstkWipeLen)
	}
}

// BenchmarkSignalFrameHooks is what the wipe adds to every key-holding call
// that no signal interrupted: sigstkArm and sigstkCheck (called here from Go
// through their ABI wrappers, so an upper bound).
func BenchmarkSignalFrameHooks(b *testing.B) {
	for b.Loop() {
		sigstkArm()
		sigstkCheck()
	}
}
