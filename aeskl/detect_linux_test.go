package aeskl

import (
	"strings"
	"testing"
)

// TestDetectSignalFrameWipe: on Linux with the assembly, the signal-frame
// wipe must be set up, and Detect must say so.
func TestDetectSignalFrameWipe(t *testing.T) {
	s := Detect()
	if !hasAsm {
		if s.SignalFrameWipe {
			t.Fatal("SignalFrameWipe without assembly")
		}
		t.Skipf("no assembly in this build (%s): nothing holds keys in registers", buildDesc())
	}
	if !s.SignalFrameWipe || !strings.HasPrefix(s.SignalFrameDetail, "wiped after") {
		t.Fatalf("signal-frame wipe off on Linux: %q", s.SignalFrameDetail)
	}
	if !strings.Contains(s.String(), "signal frames:      wiped after") {
		t.Errorf("String() does not report the wipe:\n%s", s)
	}
}
