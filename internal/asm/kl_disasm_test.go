//go:build amd64 && !purego

package asm

import (
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The Key Locker instructions are raw BYTE runs in kl_amd64.s. This test
// disassembles the routines in the running test binary with GNU objdump
// (go tool objdump does not know these mnemonics) and checks, per routine:
//   - every byte decodes (no "(bad)") and the Key Locker instructions are
//     exactly the expected ones, in order, with the expected bytes;
//   - each AES*KL instruction is immediately followed by JE (the ZF check);
//   - every RET is preceded in its basic block by PXORs that zero the
//     routine's data registers;
//   - no operand names X8-X15, R12-R15 or a RIP-relative address.

type klDisasmWant struct {
	kl    []string // Key Locker instructions in order: "bytes|mnemonic operands"
	clear []int    // XMM registers that must be zeroed before every RET
	other []string // further mnemonics that must occur
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
	klX0    = []int{0}
	klX0to6 = []int{0, 1, 2, 3, 4, 5, 6}
	klX0to7 = []int{0, 1, 2, 3, 4, 5, 6, 7}
)

var klDisasmTable = map[string]klDisasmWant{
	"EncodeKey128":     {kl: []string{"f3 0f 38 fa d1|encodekey128 %ecx,%edx"}, clear: klX0to6},
	"EncodeKey256":     {kl: []string{"f3 0f 38 fb d1|encodekey256 %ecx,%edx"}, clear: klX0to6},
	"EncryptKL128":     {kl: []string{klEnc128}, clear: klX0},
	"DecryptKL128":     {kl: []string{klDec128}, clear: klX0},
	"EncryptKL256":     {kl: []string{klEnc256}, clear: klX0},
	"DecryptKL256":     {kl: []string{klDec256}, clear: klX0},
	"EncryptKLWide128": {kl: []string{klEncW128, klEnc128}, clear: klX0to7},
	"DecryptKLWide128": {kl: []string{klDecW128, klDec128}, clear: klX0to7},
	"EncryptKLWide256": {kl: []string{klEncW256, klEnc256}, clear: klX0to7},
	"DecryptKLWide256": {kl: []string{klDecW256, klDec256}, clear: klX0to7},
	"CPUID":            {other: []string{"cpuid"}},
	"XGETBV0":          {other: []string{"xgetbv"}},
	"klEncodeKeyRegs":  {other: []string{"call"}},
	"klECBRegs":        {other: []string{"call"}},
}

// klForbiddenReg matches operands the routines must not use: X8-X15
// (X15 is Go's zero register), R12-R15 (R14 is g), RIP-relative memory.
var klForbiddenReg = regexp.MustCompile(`%xmm(8|9|1[0-5])\b|%r1[2-5]|%rip`)

type klInsn struct {
	bytes string // "f3 0f 38 dc 00"
	text  string // "aesenc128kl (%rax),%xmm0", whitespace normalised
}

func (i klInsn) mnemonic() string { m, _, _ := strings.Cut(i.text, " "); return m }

func (i klInsn) isKL() bool {
	m := i.mnemonic()
	return strings.HasPrefix(m, "encodekey") || strings.HasPrefix(m, "aes") && strings.HasSuffix(m, "kl")
}

// klDisasm disassembles [start, end) of bin with objdump.
func klDisasm(t *testing.T, objdump, bin string, start, end uint64) []klInsn {
	t.Helper()
	out, err := exec.Command(objdump, "-d", "-w",
		fmt.Sprintf("--start-address=%#x", start), fmt.Sprintf("--stop-address=%#x", end), bin).CombinedOutput()
	if err != nil {
		t.Fatalf("objdump: %v\n%s", err, out)
	}
	var insns []klInsn
	for _, line := range strings.Split(string(out), "\n") {
		// "  533b00:\tf3 0f 38 dc 00       \taesenc128kl (%rax),%xmm0"
		f := strings.Split(line, "\t")
		if len(f) < 3 || !strings.HasSuffix(strings.TrimSpace(f[0]), ":") {
			continue
		}
		insns = append(insns, klInsn{
			bytes: strings.TrimSpace(f[1]),
			text:  strings.Join(strings.Fields(strings.Join(f[2:], " ")), " "),
		})
	}
	return insns
}

func TestKLDisasm(t *testing.T) {
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
	names := make([]string, 0, len(klDisasmTable))
	for name := range klDisasmTable {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		want := klDisasmTable[name]
		t.Run(name, func(t *testing.T) {
			body, _ := klBody(t, objdump, bin, ranges, name)
			klCheckDisasm(t, body, want)
		})
	}
}

// klFuncRanges returns the [start, end) address ranges of the package's
// functions by short name. go test links its binary without a symbol table
// (-s), so this reads the Go function table (.gopclntab), which is always
// there. An assembly routine called from Go appears twice under the same
// name: its ABI0 body and the ABIInternal wrapper that calls it.
func klFuncRanges(bin string) (map[string][][2]uint64, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil, fmt.Errorf("no .gopclntab or .text section")
	}
	data, err := pcln.Data()
	if err != nil {
		return nil, err
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil, err
	}
	const pkg = "github.com/go-keylocker/keylocker/internal/asm."
	m := map[string][][2]uint64{}
	for _, fn := range tab.Funcs {
		name, ok := strings.CutPrefix(fn.Name, pkg)
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, ".abi0")
		m[name] = append(m[name], [2]uint64{fn.Entry, fn.End})
	}
	return m, nil
}

// klBody disassembles the package function name in bin and returns the
// listing of its assembly body and its entry address: the only function of
// that name, or the one whose entry another one (the ABI wrapper) calls.
func klBody(t *testing.T, objdump, bin string, ranges map[string][][2]uint64, name string) ([]klInsn, uint64) {
	t.Helper()
	cands := ranges[name]
	if len(cands) == 0 {
		t.Fatalf("function %s not found in %s", name, bin)
	}
	var listings [][]klInsn
	for _, r := range cands {
		listings = append(listings, klDisasm(t, objdump, bin, r[0], r[1]))
	}
	pick := -1
	if len(cands) == 1 {
		pick = 0
	}
	for i := 0; pick < 0 && i < len(cands); i++ {
		target := fmt.Sprintf("%x", cands[i][0])
		for j, l := range listings {
			if j == i {
				continue
			}
			for _, in := range l {
				if in.mnemonic() == "call" && strings.Contains(in.text, target) {
					pick = i
				}
			}
		}
	}
	if pick < 0 {
		t.Fatalf("%s: %d functions of that name and none calls another: cannot tell the assembly body from its wrapper", name, len(cands))
	}
	if len(listings[pick]) == 0 {
		t.Fatalf("%s: objdump printed no instructions", name)
	}
	return listings[pick], cands[pick][0]
}

func klCheckDisasm(t *testing.T, insns []klInsn, want klDisasmWant) {
	t.Helper()
	var gotKL []string
	seen := map[string]bool{}
	for i, in := range insns {
		seen[in.mnemonic()] = true
		if strings.Contains(in.text, "(bad)") || in.mnemonic() == "" {
			t.Errorf("undecodable bytes %s: %q", in.bytes, in.text)
		}
		if r := klForbiddenReg.FindString(in.text); r != "" {
			t.Errorf("instruction %q uses %s", in.text, r)
		}
		if !in.isKL() {
			continue
		}
		gotKL = append(gotKL, in.bytes+"|"+in.text)
		if strings.HasPrefix(in.mnemonic(), "aes") {
			if i+1 >= len(insns) || insns[i+1].mnemonic() != "je" {
				next := "end of function"
				if i+1 < len(insns) {
					next = insns[i+1].text
				}
				t.Errorf("%q is followed by %q, want je (ZF check)", in.text, next)
			}
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
			if m == "ret" || m == "jmp" || strings.HasPrefix(m, "j") || p.isKL() {
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
