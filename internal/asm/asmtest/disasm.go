package asmtest

import (
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// Insn is one disassembled instruction.
type Insn struct {
	Bytes string // "f3 0f 38 dc 00"
	Text  string // "aesenc128kl (%rax),%xmm0", whitespace normalised
}

// Mnemonic returns the instruction's mnemonic.
func (i Insn) Mnemonic() string { m, _, _ := strings.Cut(i.Text, " "); return m }

// IsKL reports whether i is a Key Locker instruction.
func (i Insn) IsKL() bool {
	m := i.Mnemonic()
	return strings.HasPrefix(m, "encodekey") || strings.HasPrefix(m, "aes") && strings.HasSuffix(m, "kl")
}

// Binary is the running test binary, ready to be disassembled.
type Binary struct {
	Objdump string
	Path    string
	funcs   map[string][][2]uint64 // full name without ".abi0" -> [entry, end)
	abi0    map[string]uint64      // full name -> ABI0 entry (link address)
}

// Open returns the running test binary for disassembly, or skips t with
// the reason when GNU objdump or the function table is missing.
func Open(t testing.TB) *Binary {
	t.Helper()
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("GNU objdump not found (binutils): cannot check the assembly's machine code")
	}
	if v, err := exec.Command(objdump, "--version").Output(); err != nil || !strings.Contains(string(v), "GNU") {
		t.Skipf("objdump at %s is not GNU objdump: cannot check the assembly's machine code", objdump)
	}
	b, err := load(os.Args[0])
	if err != nil {
		t.Skipf("cannot read the function table of the test binary %s: %v", os.Args[0], err)
	}
	b.Objdump = objdump
	return b
}

// load reads the Go function table (.gopclntab: go test links without a
// symbol table). An assembly routine called from Go appears twice under
// the same name: its ABI0 body (named with a ".abi0" suffix) and the
// ABIInternal wrapper that calls it.
func load(bin string) (*Binary, error) {
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
	b := &Binary{Path: bin, funcs: map[string][][2]uint64{}, abi0: map[string]uint64{}}
	for _, fn := range tab.Funcs {
		name, isABI0 := strings.CutSuffix(fn.Name, ".abi0")
		b.funcs[name] = append(b.funcs[name], [2]uint64{fn.Entry, fn.End})
		if isABI0 {
			b.abi0[name] = fn.Entry
		} else if _, ok := b.abi0[name]; !ok {
			b.abi0[name] = fn.Entry
		}
	}
	return b, nil
}

// Disasm disassembles [start, end) with objdump.
func (b *Binary) Disasm(t testing.TB, start, end uint64) []Insn {
	t.Helper()
	out, err := exec.Command(b.Objdump, "-d", "-w",
		fmt.Sprintf("--start-address=%#x", start), fmt.Sprintf("--stop-address=%#x", end), b.Path).CombinedOutput()
	if err != nil {
		t.Fatalf("objdump: %v\n%s", err, out)
	}
	var insns []Insn
	for _, line := range strings.Split(string(out), "\n") {
		// "  533b00:\tf3 0f 38 dc 00       \taesenc128kl (%rax),%xmm0"
		f := strings.Split(line, "\t")
		if len(f) < 3 || !strings.HasSuffix(strings.TrimSpace(f[0]), ":") {
			continue
		}
		insns = append(insns, Insn{
			Bytes: strings.TrimSpace(f[1]),
			Text:  strings.Join(strings.Fields(strings.Join(f[2:], " ")), " "),
		})
	}
	return insns
}

// Body disassembles the assembly body of the function with the full name
// name ("github.com/.../kl.EncryptKL128") and returns its listing and entry
// address. It fails t if the function is not in the binary.
func (b *Binary) Body(t testing.TB, name string) ([]Insn, uint64) {
	t.Helper()
	cands := b.funcs[name]
	if len(cands) == 0 {
		t.Fatalf("function %s not found in %s", name, b.Path)
	}
	entry := b.abi0[name]
	for _, r := range cands {
		if r[0] == entry {
			l := b.Disasm(t, r[0], r[1])
			if len(l) == 0 {
				t.Fatalf("%s: objdump printed no instructions", name)
			}
			return l, entry
		}
	}
	t.Fatalf("%s: no body found", name)
	return nil, 0
}

// ABI0 returns the run-time address of the ABI0 entry of the assembly
// routine with the full name name, for CallABI0. It skips t when the
// binary's function table cannot be read (not ELF).
func ABI0(t testing.TB, name string) uintptr {
	t.Helper()
	b, err := loadSelf()
	if err != nil {
		t.Skipf("cannot read the function table of the test binary: %v", err)
	}
	entry, ok := b.abi0[name]
	if !ok {
		t.Fatalf("function %s not found in the test binary", name)
	}
	return uintptr(entry) + Bias(t)
}

var loadSelf = sync.OnceValues(func() (*Binary, error) { return load(os.Args[0]) })

// Bias returns the difference between run-time and link addresses (nonzero
// for a position-independent test binary): Escape's run-time address
// against its link address.
func Bias(t testing.TB) uintptr {
	t.Helper()
	b, err := loadSelf()
	if err != nil {
		t.Skipf("cannot read the function table of the test binary: %v", err)
	}
	self := b.abi0["github.com/go-keylocker/keylocker/internal/asm/asmtest.Escape"]
	return reflect.ValueOf(Escape).Pointer() - uintptr(self)
}

// Prologue matches what the assembler puts before a routine's first
// instruction (frame set-up).
var Prologue = regexp.MustCompile(`^(push %rbp|mov %rsp,%rbp|sub \$0x[0-9a-f]+,%rsp|lea -?0x[0-9a-f]+\(%rsp\),%rbp|lea \(%rsp\),%rbp)$`)

// Epilogue matches what the assembler puts between the last instruction of
// a routine and RET (frame tear-down).
var Epilogue = regexp.MustCompile(`^(add \$0x[0-9a-f]+,%rsp|pop %rbp|mov %rbp,%rsp)$`)

// Hooks checks that insns, the body of a key-holding routine, calls arm
// before anything else and check right before every RET. Each of arm and
// arm(insns, i) says whether the hook call starts at insns[i], check(insns,
// k) whether one ends at insns[k]. It returns the number of return paths.
func Hooks(t testing.TB, insns []Insn, arm, check func(insns []Insn, i int) bool) int {
	t.Helper()
	i := 0
	for i < len(insns) && Prologue.MatchString(insns[i].Text) {
		i++
	}
	if i == len(insns) || !arm(insns, i) {
		t.Fatalf("the first instruction after the prologue is %q, not the signal-frame arm hook", insns[min(i, len(insns)-1)].Text)
	}
	rets := 0
	for j, in := range insns {
		if in.Mnemonic() != "ret" {
			continue
		}
		rets++
		k := j - 1
		for k >= 0 && Epilogue.MatchString(insns[k].Text) {
			k--
		}
		if k < 0 || !check(insns, k) {
			t.Errorf("ret #%d is preceded by %q, not by the signal-frame check hook", rets, insns[max(k, 0)].Text)
		}
	}
	if rets == 0 {
		t.Fatal("no ret found")
	}
	return rets
}

// hookTarget matches the address objdump prints after a RIP-relative
// operand: "# 0x7ac4d8", or "# 8de938 <symbol+off>" when the binary has a
// dynamic symbol table (a cgo or race build).
var hookTarget = regexp.MustCompile(`# (?:0x)?([0-9a-f]+)(?: <[^>]*>)?$`)

// IsHookCall reports whether insns[i:i+2] is a signal-frame hook call
// through a package variable: mov v(%rip),%rax; call *%rax. With v != 0
// the variable must be at link address v.
func IsHookCall(insns []Insn, i int, v uintptr) bool {
	if i < 0 || i+1 >= len(insns) || insns[i+1].Text != "call *%rax" {
		return false
	}
	f := strings.Fields(insns[i].Text)
	if len(f) < 2 || f[0] != "mov" || !strings.HasSuffix(f[1], "(%rip),%rax") {
		return false
	}
	if v == 0 {
		return true
	}
	m := hookTarget.FindStringSubmatch(insns[i].Text)
	return m != nil && m[1] == fmt.Sprintf("%x", v)
}

// SignalFrameHooks checks, in the machine code of the test binary, that
// every routine named (pkgPath + name) calls the signal-frame arm hook
// first and the check hook right before every RET, through the package
// variables at armVar and checkVar, and that those hold internal/asm's
// sigstkArm and sigstkCheck. Each routine is a subtest.
func SignalFrameHooks(t *testing.T, armVar, checkVar *uintptr, pkgPath string, names []string) {
	t.Helper()
	if len(names) == 0 {
		t.Fatal("no routine to check")
	}
	b := Open(t)
	if got, want := *armVar, ABI0(t, "github.com/go-keylocker/keylocker/internal/asm.sigstkArm"); got != want {
		t.Errorf("sigArm = %#x, want internal/asm's sigstkArm %#x", got, want)
	}
	if got, want := *checkVar, ABI0(t, "github.com/go-keylocker/keylocker/internal/asm.sigstkCheck"); got != want {
		t.Errorf("sigCheck = %#x, want internal/asm's sigstkCheck %#x", got, want)
	}
	bias := Bias(t)
	arm := uintptr(unsafe.Pointer(armVar)) - bias
	check := uintptr(unsafe.Pointer(checkVar)) - bias
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			insns, _ := b.Body(t, pkgPath+name)
			n := Hooks(t, insns,
				func(in []Insn, i int) bool { return IsHookCall(in, i, arm) },
				func(in []Insn, k int) bool { return IsHookCall(in, k-1, check) })
			t.Logf("%d return paths, each through the check hook", n)
		})
	}
}
