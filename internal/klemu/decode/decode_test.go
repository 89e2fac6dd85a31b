package decode

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from GNU as output")

const goldenFile = "testdata/golden.txt"

// asmTable is the list of instructions, in AT&T syntax, that the golden
// table and the GNU as cross-check cover.
func asmTable() []string {
	var t []string
	for r := 0; r < 16; r++ {
		t = append(t, fmt.Sprintf("encodekey128 %%%s, %%%s", gpr32[r], gpr32[(r*5+3)%16]))
		t = append(t, fmt.Sprintf("encodekey256 %%%s, %%%s", gpr32[(r*7+1)%16], gpr32[r]))
	}
	t = append(t, "loadiwkey %xmm2, %xmm1", "loadiwkey %xmm9, %xmm14", "loadiwkey %xmm15, %xmm0", "cpuid")
	var mems []string
	for r := 0; r < 16; r++ {
		mems = append(mems, fmt.Sprintf("(%%%s)", gpr64[r]))
	}
	mems = append(mems,
		"0x7e(%rdx)", "-0x80(%rbx)", "0x1000(%rsi)", "-0x12345678(%r12)", "0x7f(%rsp)",
		"0x10(%rbp)", "-0x8(%r13)", "0x18(%rax,%rcx,2)", "0x100(%r13,%r12,8)", "(%rax,%r15,4)",
		"(%r8,%rbp,1)", "0x40(,%rcx,4)", "-0x40(,%r14,8)", "0x1234", "0x10(%rip)", "-0x20(%rip)",
		"(%eax)", "0x10(%r8d,%ecx,8)", "-0x4(%esp)", "0x10(%eip)", "%fs:0x10(%rax)", "%gs:(%r11)",
		"%fs:-0x10", "%gs:0x8(%rip)", "%fs:(%eax,%ebx,2)",
	)
	ops := []Op{AESENC128KL, AESDEC128KL, AESENC256KL, AESDEC256KL,
		AESENCWIDE128KL, AESDECWIDE128KL, AESENCWIDE256KL, AESDECWIDE256KL}
	for oi, op := range ops {
		for mi, m := range mems {
			if op.IsWide() {
				t = append(t, fmt.Sprintf("%v %s", op, m))
			} else {
				t = append(t, fmt.Sprintf("%v %s, %%xmm%d", op, m, (oi*3+mi)%16))
			}
		}
	}
	return t
}

// parseATT builds the expected decoding from the AT&T text, independently
// of the decoder.
func parseATT(s string) (Inst, error) {
	in := Inst{Mem: Mem{Base: NoReg, Index: NoReg}}
	mn, rest, _ := strings.Cut(strings.TrimSpace(s), " ")
	found := false
	for o := Op(1); o < numOps; o++ {
		if o.String() == mn {
			in.Op, found = o, true
		}
	}
	if !found {
		return in, fmt.Errorf("unknown mnemonic %q", mn)
	}
	var ops []string
	depth, start := 0, 0
	for i, c := range rest {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				ops = append(ops, strings.TrimSpace(rest[start:i]))
				start = i + 1
			}
		}
	}
	if strings.TrimSpace(rest) != "" {
		ops = append(ops, strings.TrimSpace(rest[start:]))
	}
	reg := func(name string) (int, bool, error) {
		name = strings.TrimPrefix(name, "%")
		for i := range gpr64 {
			if gpr64[i] == name {
				return i, false, nil
			}
			if gpr32[i] == name {
				return i, true, nil
			}
		}
		if n, ok := strings.CutPrefix(name, "xmm"); ok {
			v, err := strconv.Atoi(n)
			return v, false, err
		}
		return 0, false, fmt.Errorf("bad register %q", name)
	}
	mem := func(s string) error {
		m := &in.Mem
		m.Scale = 1
		if r, ok := strings.CutPrefix(s, "%fs:"); ok {
			m.Seg, s = SegFS, r
		} else if r, ok := strings.CutPrefix(s, "%gs:"); ok {
			m.Seg, s = SegGS, r
		}
		d, paren, _ := strings.Cut(s, "(")
		if d != "" {
			v, err := strconv.ParseInt(d, 0, 64)
			if err != nil {
				return err
			}
			m.Disp = v
		}
		if paren == "" {
			return nil
		}
		parts := strings.Split(strings.TrimSuffix(paren, ")"), ",")
		switch parts[0] {
		case "%rip":
			m.RIPRel = true
			return nil
		case "%eip":
			m.RIPRel, m.Addr32 = true, true
			return nil
		case "":
		default:
			r, is32, err := reg(parts[0])
			if err != nil {
				return err
			}
			m.Base, m.Addr32 = r, is32
		}
		if len(parts) == 3 {
			r, is32, err := reg(parts[1])
			if err != nil {
				return err
			}
			m.Index, m.Addr32 = r, m.Addr32 || is32
			if m.Scale, err = strconv.Atoi(parts[2]); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch {
	case in.Op == CPUID:
	case in.Op == ENCODEKEY128 || in.Op == ENCODEKEY256 || in.Op == LOADIWKEY:
		if len(ops) != 2 {
			return in, fmt.Errorf("want 2 operands")
		}
		if in.RM, _, err = reg(ops[0]); err == nil {
			in.Reg, _, err = reg(ops[1])
		}
	case in.Op.IsWide():
		if len(ops) != 1 {
			return in, fmt.Errorf("want 1 operand")
		}
		err = mem(ops[0])
	default:
		if len(ops) != 2 {
			return in, fmt.Errorf("want 2 operands")
		}
		if err = mem(ops[0]); err == nil {
			in.Reg, _, err = reg(ops[1])
		}
	}
	return in, err
}

type goldenLine struct {
	code []byte
	asm  string
}

func readGolden(t *testing.T) []goldenLine {
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var g []goldenLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		h, asm, ok := strings.Cut(line, "\t")
		code, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if !ok || err != nil {
			t.Fatalf("bad golden line %q", line)
		}
		g = append(g, goldenLine{code, asm})
	}
	return g
}

// checkOne decodes code (with trailing bytes) and compares with the AT&T text.
func checkOne(t *testing.T, code []byte, asm string) {
	t.Helper()
	want, err := parseATT(asm)
	if err != nil {
		t.Errorf("%s: %v", asm, err)
		return
	}
	want.Len = len(code)
	got, err := Decode(append(append([]byte{}, code...), 0x0F, 0x0B, 0x90, 0x90))
	if err != nil {
		t.Errorf("% x (%s): %v", code, asm, err)
		return
	}
	if got != want {
		t.Errorf("% x (%s):\n got %+v\nwant %+v", code, asm, got, want)
	}
	// The String form is valid AT&T for the same instruction.
	if w2, err := parseATT(got.String()); err != nil || w2.Op != want.Op || w2.Reg != want.Reg ||
		w2.RM != want.RM || w2.Mem != want.Mem {
		t.Errorf("%s: String() = %q does not parse back (%v)", asm, got.String(), err)
	}
}

// TestGolden checks the decoder against the checked-in table of GNU as
// encodings (regenerate with go test -run TestGNUAs -update).
func TestGolden(t *testing.T) {
	g := readGolden(t)
	tab := asmTable()
	if len(g) != len(tab) {
		t.Fatalf("golden has %d lines, table %d: run go test -run TestGNUAs -update", len(g), len(tab))
	}
	for i, l := range g {
		if l.asm != tab[i] {
			t.Errorf("golden line %d is %q, table says %q", i, l.asm, tab[i])
		}
		checkOne(t, l.code, l.asm)
	}
}

// TestGNUAs assembles the table with GNU as (binutils >= 2.36 knows the Key
// Locker mnemonics) and checks the bytes against the decoder and the golden
// table.
func TestGNUAs(t *testing.T) {
	as, err1 := exec.LookPath("as")
	objdump, err2 := exec.LookPath("objdump")
	if err1 != nil || err2 != nil {
		t.Skip("SKIP LOUDLY: GNU as/objdump (binutils) not found: decoder not cross-checked against the assembler; only the golden table ran")
	}
	dir := t.TempDir()
	tab := asmTable()
	src := ".text\n" + strings.Join(tab, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "kl.s"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "kl.o")
	if out, err := exec.Command(as, "--64", "-o", obj, filepath.Join(dir, "kl.s")).CombinedOutput(); err != nil {
		t.Skipf("SKIP LOUDLY: %s cannot assemble Key Locker mnemonics (binutils too old?): %v\n%s", as, err, out)
	}
	out, err := exec.Command(objdump, "-d", "-w", obj).Output()
	if err != nil {
		t.Fatal(err)
	}
	var codes [][]byte
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || !strings.HasSuffix(strings.TrimSpace(f[0]), ":") {
			continue
		}
		code, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(f[1]), " ", ""))
		if err != nil {
			t.Fatalf("objdump line %q: %v", line, err)
		}
		codes = append(codes, code)
	}
	if len(codes) != len(tab) {
		t.Fatalf("objdump shows %d instructions, table has %d:\n%s", len(codes), len(tab), out)
	}
	for i, code := range codes {
		checkOne(t, code, tab[i])
	}
	if *update {
		var b bytes.Buffer
		b.WriteString("# GNU as 2.40 encodings of the decoder table (go test -run TestGNUAs -update)\n")
		for i, code := range codes {
			fmt.Fprintf(&b, "%x\t%s\n", code, tab[i])
		}
		if err := os.WriteFile(goldenFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	// The golden table was made with binutils 2.40; another version may
	// pick other (equally valid, and decoded above) encodings.
	ver, _ := exec.Command(as, "--version").Output()
	report := t.Errorf
	if !bytes.Contains(ver, []byte(" 2.40")) {
		report = t.Logf
	}
	g := readGolden(t)
	for i := range min(len(g), len(codes)) {
		if !bytes.Equal(g[i].code, codes[i]) {
			report("%s: as gives % x, golden % x", tab[i], codes[i], g[i].code)
		}
	}
}

func TestRejects(t *testing.T) {
	for _, b := range []string{
		"660f38dc0b",                       // AESENC (AES-NI)
		"f30f38d823",                       // D8 /4: undefined
		"f30f38d8c0",                       // D8 register form
		"f30f38fa0b",                       // ENCODEKEY with a memory operand
		"f30f38ddc1",                       // DD register form
		"f30f38dc",                         // truncated
		"f30f38dc0500",                     // truncated disp32
		"f30f38dc04",                       // truncated SIB
		"f30f38dc40",                       // truncated disp8
		"f2f30f38dc00",                     // F2 F3: F3 wins? (last wins: F3) -> accepted below
		"f3f20f38dc00",                     // last prefix F2: not KL
		"f3660f38dc00",                     // 66 with F3
		"f00f38dc00",                       // lock
		"f0f30f38dc00",                     // lock
		"f3400f38",                         // truncated after REX
		"f3f3f3f3f3f3f3f3f3f3f3f30f38dc00", // 16 bytes (> 15)
		"0f0b",                             // ud2
		"",
		"f3",
		"0f",
	} {
		code, _ := hex.DecodeString(b)
		in, err := Decode(code)
		if b == "f2f30f38dc00" {
			if err != nil || in.Op != AESENC128KL {
				t.Errorf("%s: %v %v", b, in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: decoded as %v", b, in)
		}
	}
}

func TestPrefixes(t *testing.T) {
	for _, tc := range []struct {
		hex string
		len int
		seg Seg
		a32 bool
		reg int
	}{
		{"64f30f38dc00", 6, SegFS, false, 0},
		{"f3640f38dc00", 6, SegFS, false, 0},
		{"6465f30f38dc00", 7, SegGS, false, 0},
		{"643ef30f38dc00", 7, SegFS, false, 0}, // DS override ignored in 64-bit mode
		{"67f3450f38dc00", 7, SegNone, true, 8},
		{"f3450f38dc00", 6, SegNone, false, 8},
		{"f3452e0f38dc00", 7, SegNone, false, 0}, // REX not adjacent to the opcode is ignored
		{"2e2e2e2e2e2e2e2e2ef3450f38dc00", 15, SegNone, false, 8},
	} {
		code, _ := hex.DecodeString(tc.hex)
		in, err := Decode(code)
		if err != nil || in.Len != tc.len || in.Mem.Seg != tc.seg || in.Mem.Addr32 != tc.a32 || in.Reg != tc.reg {
			t.Errorf("%s: %+v %v", tc.hex, in, err)
		}
	}
}

func TestEffAddr(t *testing.T) {
	var gpr [16]uint64
	for i := range gpr {
		gpr[i] = uint64(i) << 32
	}
	gpr[0] = 0xDEADBEEF_00001000
	gpr[1] = 0x10
	r := Regs{GPR: &gpr, RIP: 0x400000, FSBase: 0x7000_0000_0000, GSBase: 0x100}
	for _, tc := range []struct {
		hex  string
		want uint64
	}{
		{"f30f38dc0510000000", 0x400000 + 9 + 0x10},                    // 0x10(%rip)
		{"67f30f38dc05f0ffffff", uint64(uint32(0x400000 + 10 - 0x10))}, // -0x10(%eip)
		{"67f30f38dc00", 0x1000},                                       // (%eax)
		{"f30f38dc00", 0xDEADBEEF_00001000},                            // (%rax)
		{"f30f38dc4488f0", 0xDEADBEEF_00001000 + 0x40 - 0x10},          // -0x10(%rax,%rcx,4)
		{"64f30f38dc042510000000", 0x7000_0000_0010},                   // %fs:0x10
		{"65f30f38dc00", 0xDEADBEEF_00001100},                          // %gs:(%rax)
		{"67f30f38dc80ffffff7f", uint64(uint32(0x1000 + 0x7fffffff))},  // 0x7fffffff(%eax)
	} {
		code, _ := hex.DecodeString(tc.hex)
		in, err := Decode(code)
		if err != nil {
			t.Fatalf("%s: %v", tc.hex, err)
		}
		if got := in.EffAddr(r); got != tc.want {
			t.Errorf("%s (%v): %#x, want %#x", tc.hex, in, got, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"f30f38dc0b", "f3450f38fbd1", "f3430f38df9ce500010000", "64f30f38dc042510000000",
		"67f30f38dc05f0ffffff", "0fa2", "f30f38d84d00", "f30f38dcd1", "2e2e2e2e2e2e2e2e2ef3450f38dc00"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	if g, err := os.ReadFile(goldenFile); err == nil {
		for _, line := range strings.Split(string(g), "\n") {
			h, _, ok := strings.Cut(line, "\t")
			if b, err := hex.DecodeString(h); ok && err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := Decode(b)
		if err != nil {
			return
		}
		if in.Len <= 0 || in.Len > MaxLen || in.Len > len(b) {
			t.Fatalf("% x: length %d", b, in.Len)
		}
		in2, err := Decode(b[:in.Len])
		if err != nil || in2 != in {
			t.Fatalf("% x: prefix decodes differently: %v %v", b, in2, err)
		}
		for _, r := range []int{in.Reg, in.RM} {
			if r < 0 || r > 15 {
				t.Fatalf("% x: register %d", b, r)
			}
		}
		m := in.Mem
		if m.Base < NoReg || m.Base > 15 || m.Index < NoReg || m.Index > 15 || m.Index == 4 {
			t.Fatalf("% x: bad mem %+v", b, m)
		}
		if in.Op.IsAES() && (m.Scale != 1 && m.Scale != 2 && m.Scale != 4 && m.Scale != 8) {
			t.Fatalf("% x: scale %d", b, m.Scale)
		}
		_ = in.String()
		var gpr [16]uint64
		_ = in.EffAddr(Regs{GPR: &gpr})
	})
}
