//go:build amd64 && !purego

package asm

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestModeKLDisasm disassembles the mode kernels in the running test binary
// with GNU objdump (helpers of kl_disasm_test.go) and checks, per kernel:
//   - every byte decodes (no "(bad)");
//   - the Key Locker instructions are exactly the expected ones, in code
//     order, with the expected bytes (memory operand (%rax), data in %xmm0);
//   - each is immediately followed by je (the ZF check), all to one target;
//   - every ret is preceded in its basic block by pxors zeroing the vector
//     registers the kernel uses;
//   - no operand names R14, R15 or RIP-relative memory.
//
// The kernels may use X8-X15 and R8-R13 (they are ABI0: the wrapper
// restores X15 and R14), so kl_disasm_test.go's klCheckDisasm, which forbids
// them, is not used.
func TestModeKLDisasm(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("GNU objdump not found (binutils): cannot check the raw-byte Key Locker encodings")
	}
	if v, err := exec.Command(objdump, "--version").Output(); err != nil || !strings.Contains(string(v), "GNU") {
		t.Skipf("objdump at %s is not GNU objdump: cannot check the Key Locker encodings", objdump)
	}
	bin := os.Args[0]
	ranges, err := klFuncRanges(bin)
	if err != nil {
		t.Skipf("cannot read the function table of the test binary %s: %v", bin, err)
	}
	upto := func(n int) []int {
		var r []int
		for i := 0; i <= n; i++ {
			r = append(r, i)
		}
		return r
	}
	ctrClear := append(upto(8), 15)
	table := map[string]klDisasmWant{
		"KLCTR":        {kl: []string{klEncW128, klEncW256, klEnc128, klEnc256}, clear: ctrClear},
		"KLGCMCTR":     {kl: []string{klEnc128, klEnc256, klEncW128, klEncW256, klEnc128, klEnc256}, clear: ctrClear},
		"KLCBCEncrypt": {kl: []string{klEnc128, klEnc256}, clear: upto(1)},
		"KLCBCDecrypt": {kl: []string{klDecW128, klDecW256, klDec128, klDec256}, clear: upto(10)},
		"KLXTS": {kl: []string{klEnc128, klEnc256, klEncW128, klEncW256, klDecW128, klDecW256,
			klEnc128, klEnc256, klDec128, klDec256}, clear: upto(15)},
		"klModeRegs": {other: []string{"call"}},
	}
	names := make([]string, 0, len(table))
	for name := range table {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		want := table[name]
		t.Run(name, func(t *testing.T) {
			body, _ := klBody(t, objdump, bin, ranges, name)
			klmCheckDisasm(t, body, want)
		})
	}
}

func klmCheckDisasm(t *testing.T, insns []klInsn, want klDisasmWant) {
	t.Helper()
	var gotKL []string
	seen := map[string]bool{}
	failTarget := ""
	for i, in := range insns {
		seen[in.mnemonic()] = true
		if strings.Contains(in.text, "(bad)") || in.mnemonic() == "" {
			t.Errorf("undecodable bytes %s: %q", in.bytes, in.text)
		}
		if strings.Contains(in.text, "%rip") || strings.Contains(in.text, "%r14") || strings.Contains(in.text, "%r15") {
			t.Errorf("instruction %q uses RIP-relative memory, R14 or R15", in.text)
		}
		if !in.isKL() {
			continue
		}
		gotKL = append(gotKL, in.bytes+"|"+in.text)
		if i+1 >= len(insns) || insns[i+1].mnemonic() != "je" {
			next := "end of function"
			if i+1 < len(insns) {
				next = insns[i+1].text
			}
			t.Errorf("%q is followed by %q, want je (ZF check)", in.text, next)
			continue
		}
		// Every ZF check jumps to the same place (the fail path).
		target, _, _ := strings.Cut(strings.TrimPrefix(insns[i+1].text, "je "), " ")
		if failTarget == "" {
			failTarget = target
		} else if target != failTarget {
			t.Errorf("%q: je %s, but an earlier ZF check jumps to %s", in.text, target, failTarget)
		}
	}
	if !slices.Equal(gotKL, want.kl) && !(len(gotKL) == 0 && len(want.kl) == 0) {
		t.Errorf("Key Locker instructions:\n got %q\nwant %q", gotKL, want.kl)
	}
	for _, m := range want.other {
		if !seen[m] {
			t.Errorf("no %s instruction", m)
		}
	}
	if len(want.clear) == 0 {
		return
	}
	rets := 0
	for i, in := range insns {
		if in.mnemonic() != "ret" {
			continue
		}
		rets++
		cleared := map[int]bool{}
		for j := i - 1; j >= 0; j-- {
			p := insns[j]
			m := p.mnemonic()
			if m == "ret" || strings.HasPrefix(m, "j") || p.isKL() {
				break
			}
			var a, b int
			if n, _ := fmt.Sscanf(p.text, "pxor %%xmm%d,%%xmm%d", &a, &b); n == 2 && a == b {
				cleared[a] = true
			}
		}
		for _, r := range want.clear {
			if !cleared[r] {
				t.Errorf("ret #%d: %%xmm%d not zeroed (pxor) in the block before it", rets, r)
			}
		}
	}
	if rets == 0 {
		t.Error("no ret found")
	}
}
