//go:build amd64 && !purego

package asm

import (
	"testing"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
)

const pkgPath = "github.com/go-keylocker/keylocker/internal/asm."

// TestCPUIDDisasm checks that CPUID and XGETBV0 assemble to those
// instructions.
func TestCPUIDDisasm(t *testing.T) {
	asmtest.Escape(XGETBV0) // linked even where no test calls them
	asmtest.Escape(CPUID)
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
