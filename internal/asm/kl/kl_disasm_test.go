//go:build amd64 && !purego

package kl

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
)

// The Key Locker instructions are raw BYTE runs. TestKLDisasm disassembles
// every routine in the running test binary with GNU objdump and checks:
//   - every byte decodes (no "(bad)") and the Key Locker instructions are
//     exactly the expected ones, in code order, with the expected bytes;
//   - each AES*KL is immediately followed by je (the ZF check), all to one
//     target;
//   - every ret is preceded in its basic block by pxors zeroing the vector
//     registers the routine uses;
//   - no operand names a register the routine must not touch: X8-X15 and
//     R12-R15 for ENCODEKEY and ECB, R14 and R15 for the mode kernels (ABI0:
//     the wrapper restores X15 and R14), and no RIP-relative memory except
//     the signal-frame hook's load in ENCODEKEY.

type klDisasmWant struct {
	kl        []string       // Key Locker instructions in order: "bytes|mnemonic operands"
	clear     []int          // XMM registers that must be zeroed before every RET
	forbidden *regexp.Regexp // operands the routine must not use
}

const (
	klEnc128  = "f3 0f 38 dc 00|aesenc128kl (%rax),%xmm0"
	klDec128  = "f3 0f 38 dd 00|aesdec128kl (%rax),%xmm0"
	klEnc256  = "f3 0f 38 de 00|aesenc256kl (%rax),%xmm0"
	klDec256  = "f3 0f 38 df 00|aesdec256kl (%rax),%xmm0"
	klEncW128 = "f3 0f 38 d8 00|aesencwide128kl (%rax)"
	klDecW128 = "f3 0f 38 d8 08|aesdecwide128kl (%rax)"
	klEncW256 = "f3 0f 38 d8 10|aesencwide256kl (%rax)"
	klDecW256 = "f3 0f 38 d8 18|aesdecwide256kl (%rax)"
)

var (
	ecbForbidden  = regexp.MustCompile(`%xmm(8|9|1[0-5])\b|%r1[2-5]|%rip`)
	modeForbidden = regexp.MustCompile(`%r1[45]|%rip`)
)

func upto(n int) []int {
	var r []int
	for i := 0; i <= n; i++ {
		r = append(r, i)
	}
	return r
}

var klDisasmTable = map[string]klDisasmWant{
	"EncodeKey128":     {kl: []string{"f3 0f 38 fa d1|encodekey128 %ecx,%edx"}, clear: upto(6), forbidden: ecbForbidden},
	"EncodeKey256":     {kl: []string{"f3 0f 38 fb d1|encodekey256 %ecx,%edx"}, clear: upto(6), forbidden: ecbForbidden},
	"EncodeRandom128":  {kl: []string{"f3 0f 38 fa d1|encodekey128 %ecx,%edx"}, clear: upto(6), forbidden: randomForbidden},
	"EncodeRandom256":  {kl: []string{"f3 0f 38 fb d1|encodekey256 %ecx,%edx"}, clear: upto(6), forbidden: randomForbidden},
	"EncryptKL128":     {kl: []string{klEnc128}, clear: upto(0), forbidden: ecbForbidden},
	"DecryptKL128":     {kl: []string{klDec128}, clear: upto(0), forbidden: ecbForbidden},
	"EncryptKL256":     {kl: []string{klEnc256}, clear: upto(0), forbidden: ecbForbidden},
	"DecryptKL256":     {kl: []string{klDec256}, clear: upto(0), forbidden: ecbForbidden},
	"EncryptKLWide128": {kl: []string{klEncW128, klEnc128}, clear: upto(7), forbidden: ecbForbidden},
	"DecryptKLWide128": {kl: []string{klDecW128, klDec128}, clear: upto(7), forbidden: ecbForbidden},
	"EncryptKLWide256": {kl: []string{klEncW256, klEnc256}, clear: upto(7), forbidden: ecbForbidden},
	"DecryptKLWide256": {kl: []string{klDecW256, klDec256}, clear: upto(7), forbidden: ecbForbidden},
	"KLCTR":            {kl: []string{klEncW128, klEncW256, klEnc128, klEnc256}, clear: append(upto(8), 15), forbidden: modeForbidden},
	"KLGCMCTR":         {kl: []string{klEnc128, klEnc256, klEncW128, klEncW256, klEnc128, klEnc256}, clear: append(upto(8), 15), forbidden: modeForbidden},
	"KLCBCEncrypt":     {kl: []string{klEnc128, klEnc256}, clear: upto(1), forbidden: modeForbidden},
	"KLCBCDecrypt":     {kl: []string{klDecW128, klDecW256, klDec128, klDec256}, clear: upto(10), forbidden: modeForbidden},
	"KLXTS": {kl: []string{klEnc128, klEnc256, klEncW128, klEncW256, klDecW128, klDecW256,
		klEnc128, klEnc256, klDec128, klDec256}, clear: upto(15), forbidden: modeForbidden},
}

func TestKLDisasm(t *testing.T) {
	b := asmtest.Open(t)
	names := make([]string, 0, len(klDisasmTable))
	for name := range klDisasmTable {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			body, _ := b.Body(t, pkgPath+name)
			klCheckDisasm(t, body, klDisasmTable[name])
		})
	}
}

// Insn is asmtest's disassembled instruction.
type Insn = asmtest.Insn

func klCheckDisasm(t *testing.T, insns []Insn, want klDisasmWant) {
	t.Helper()
	var gotKL []string
	failTarget := ""
	for i, in := range insns {
		if strings.Contains(in.Text, "(bad)") || in.Mnemonic() == "" {
			t.Errorf("undecodable bytes %s: %q", in.Bytes, in.Text)
		}
		if r := want.forbidden.FindString(in.Text); r != "" && !asmtest.IsHookCall(insns, i, 0) {
			t.Errorf("instruction %q uses %s", in.Text, r)
		}
		if !in.IsKL() {
			continue
		}
		gotKL = append(gotKL, in.Bytes+"|"+in.Text)
		if !strings.HasPrefix(in.Mnemonic(), "aes") {
			continue
		}
		if i+1 >= len(insns) || insns[i+1].Mnemonic() != "je" {
			next := "end of function"
			if i+1 < len(insns) {
				next = insns[i+1].Text
			}
			t.Errorf("%q is followed by %q, want je (ZF check)", in.Text, next)
			continue
		}
		// Every ZF check jumps to the same place (the fail path).
		target, _, _ := strings.Cut(strings.TrimPrefix(insns[i+1].Text, "je "), " ")
		if failTarget == "" {
			failTarget = target
		} else if target != failTarget {
			t.Errorf("%q: je %s, but an earlier ZF check jumps to %s", in.Text, target, failTarget)
		}
	}
	if !slices.Equal(gotKL, want.kl) {
		t.Errorf("Key Locker instructions:\n got %q\nwant %q", gotKL, want.kl)
	}
	rets := 0
	for i, in := range insns {
		if in.Mnemonic() != "ret" {
			continue
		}
		rets++
		cleared := map[int]bool{}
		for j := i - 1; j >= 0; j-- {
			p := insns[j]
			m := p.Mnemonic()
			if m == "ret" || strings.HasPrefix(m, "j") || p.IsKL() {
				break
			}
			var a, b int
			if n, _ := fmt.Sscanf(p.Text, "pxor %%xmm%d,%%xmm%d", &a, &b); n == 2 && a == b {
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

// TestSignalFrameHooksDisasm checks in the machine code that ENCODEKEY and
// EncodeRandom, the only Key Locker routines that hold a key in registers,
// call the signal-frame arm hook first and the check hook right before
// every RET, and that the hook variables hold internal/asm's hooks.
func TestSignalFrameHooksDisasm(t *testing.T) {
	asmtest.SignalFrameHooks(t, &sigArm, &sigCheck, pkgPath, []string{"EncodeKey128", "EncodeKey256", "EncodeRandom128", "EncodeRandom256"})
}
