//go:build amd64 && !purego

package asm

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// sigstkHooked lists every routine that holds key material in vector
// registers: each must call sigstkArm before anything else and sigstkCheck
// right before every return.
var sigstkHooked = []string{
	"SealedInit", "sealedEncodeKey", "SealedEncrypt", "SealedDecrypt",
	"sealedCTR", "SealedCBCEncrypt", "SealedCBCDecrypt", "SealedXTS",
	"EncodeKey128", "EncodeKey256",
}

// sigstkPrologue matches what the assembler puts before a routine's first
// instruction (frame set-up).
var sigstkPrologue = regexp.MustCompile(`^(push %rbp|mov %rsp,%rbp|sub \$0x[0-9a-f]+,%rsp|lea -?0x[0-9a-f]+\(%rsp\),%rbp|lea \(%rsp\),%rbp)$`)

// sigstkEpilogue matches what the assembler puts between the last
// instruction of a routine and RET (frame tear-down).
var sigstkEpilogue = regexp.MustCompile(`^(add \$0x[0-9a-f]+,%rsp|pop %rbp|mov %rbp,%rsp)$`)

// TestSignalFrameHooksDisasm checks, in the machine code of the test binary,
// that every key-holding routine arms the signal-frame canary first and
// checks it before every RET, on every return path.
func TestSignalFrameHooksDisasm(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("GNU objdump not found (binutils): cannot check the signal-frame hooks")
	}
	bin := os.Args[0]
	ranges, err := klFuncRanges(bin)
	if err != nil {
		t.Skipf("cannot read the function table of the test binary %s: %v", bin, err)
	}
	body := func(t *testing.T, name string) ([]klInsn, uint64) {
		return klBody(t, objdump, bin, ranges, name)
	}
	_, arm := body(t, "sigstkArm")
	_, check := body(t, "sigstkCheck")
	callTo := func(in klInsn, addr uint64) bool {
		return in.mnemonic() == "call" && strings.Contains(in.text, fmt.Sprintf("%x", addr))
	}
	for _, name := range sigstkHooked {
		t.Run(name, func(t *testing.T) {
			insns, _ := body(t, name)
			i := 0
			for i < len(insns) && sigstkPrologue.MatchString(insns[i].text) {
				i++
			}
			if i == len(insns) || !callTo(insns[i], arm) {
				t.Fatalf("the first instruction after the prologue is %q, want a call to sigstkArm (%x)", insns[min(i, len(insns)-1)].text, arm)
			}
			rets := 0
			for j, in := range insns {
				if in.mnemonic() != "ret" {
					continue
				}
				rets++
				k := j - 1
				for k >= 0 && sigstkEpilogue.MatchString(insns[k].text) {
					k--
				}
				if k < 0 {
					t.Errorf("ret #%d has nothing before it", rets)
				} else if !callTo(insns[k], check) {
					t.Errorf("ret #%d is preceded by %q, not by a call to sigstkCheck (%x)", rets, insns[k].text, check)
				}
			}
			if rets == 0 {
				t.Fatal("no ret found")
			}
			t.Logf("%d return paths, each through sigstkCheck", rets)
		})
	}
}
