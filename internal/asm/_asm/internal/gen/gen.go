// Package gen holds what every assembly generator of this module shares:
// raw instructions for what avo does not know (the Key Locker instructions,
// indirect calls, string operations), the signal-frame hooks, register
// clearing and the loops every kernel writes the same way.
package gen

import (
	"fmt"
	"go/token"
	"go/types"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/kernel"
	"github.com/go-keylocker/keylocker/internal/testrng"
)

// Raw appends an instruction as written, without avo's operand checks: for
// instructions avo does not know or forms it does not accept.
func Raw(opcode string, ops ...Op) {
	Instruction(&ir.Instruction{Opcode: opcode, Operands: ops})
}

// Bytes emits b as BYTE directives, after a comment giving the instruction
// they encode in AT&T syntax (what GNU objdump prints, which the disassembly
// tests compare with) and in Intel syntax.
func Bytes(att, intel string, b ...byte) {
	Commentf("%s  (Intel: %s)", att, intel)
	for _, x := range b {
		Raw("BYTE", U8(x))
	}
}

// KLOp is one Key Locker instruction form this project uses.
type KLOp struct {
	ATT, Intel string // mnemonic with operands, as objdump prints it and in Intel syntax
	Bytes      []byte
}

// The Key Locker instructions, memory operand (%rax) / [rax] (mod=00,
// rm=000: no REX, no SIB, no displacement), register operands XMM0 and
// EDX, ECX. Encodings: F3 0F 38 DC-DF /r for the single forms, F3 0F 38 D8
// /0-/3 for the WIDE forms, F3 0F 38 FA/FB /r for ENCODEKEY.
var (
	AESENC128KL     = KLOp{"aesenc128kl (%rax),%xmm0", "AESENC128KL xmm0, [rax]", []byte{0xF3, 0x0F, 0x38, 0xDC, 0x00}}
	AESDEC128KL     = KLOp{"aesdec128kl (%rax),%xmm0", "AESDEC128KL xmm0, [rax]", []byte{0xF3, 0x0F, 0x38, 0xDD, 0x00}}
	AESENC256KL     = KLOp{"aesenc256kl (%rax),%xmm0", "AESENC256KL xmm0, [rax]", []byte{0xF3, 0x0F, 0x38, 0xDE, 0x00}}
	AESDEC256KL     = KLOp{"aesdec256kl (%rax),%xmm0", "AESDEC256KL xmm0, [rax]", []byte{0xF3, 0x0F, 0x38, 0xDF, 0x00}}
	AESENCWIDE128KL = KLOp{"aesencwide128kl (%rax)", "AESENCWIDE128KL [rax]", []byte{0xF3, 0x0F, 0x38, 0xD8, 0x00}}
	AESDECWIDE128KL = KLOp{"aesdecwide128kl (%rax)", "AESDECWIDE128KL [rax]", []byte{0xF3, 0x0F, 0x38, 0xD8, 0x08}}
	AESENCWIDE256KL = KLOp{"aesencwide256kl (%rax)", "AESENCWIDE256KL [rax]", []byte{0xF3, 0x0F, 0x38, 0xD8, 0x10}}
	AESDECWIDE256KL = KLOp{"aesdecwide256kl (%rax)", "AESDECWIDE256KL [rax]", []byte{0xF3, 0x0F, 0x38, 0xD8, 0x18}}
	ENCODEKEY128    = KLOp{"encodekey128 %ecx,%edx", "ENCODEKEY128 edx, ecx", []byte{0xF3, 0x0F, 0x38, 0xFA, 0xD1}}
	ENCODEKEY256    = KLOp{"encodekey256 %ecx,%edx", "ENCODEKEY256 edx, ecx", []byte{0xF3, 0x0F, 0x38, 0xFB, 0xD1}}
)

// KL emits op.
func KL(op KLOp) { Bytes(op.ATT, op.Intel, op.Bytes...) }

// KLForm returns the Key Locker instruction for a key size (128 or 256),
// direction and width (WIDE: 8 blocks in X0-X7; else 1 block in X0).
func KLForm(bits int, decrypt, wide bool) KLOp {
	i := 0
	if decrypt {
		i |= 1
	}
	if bits == 256 {
		i |= 2
	}
	if wide {
		return []KLOp{AESENCWIDE128KL, AESDECWIDE128KL, AESENCWIDE256KL, AESDECWIDE256KL}[i]
	}
	return []KLOp{AESENC128KL, AESDEC128KL, AESENC256KL, AESDEC256KL}[i]
}

// Clear zeroes the given XMM registers (PXOR r, r).
func Clear(regs ...reg.VecPhysical) {
	for _, r := range regs {
		PXOR(r, r)
	}
}

// The vector registers by number: X, Y and Z hold X0-X31, Y0-Y31 and
// Z0-Z31 (16 and up need EVEX).
var (
	X = []reg.VecPhysical{reg.X0, reg.X1, reg.X2, reg.X3, reg.X4, reg.X5, reg.X6, reg.X7,
		reg.X8, reg.X9, reg.X10, reg.X11, reg.X12, reg.X13, reg.X14, reg.X15,
		reg.X16, reg.X17, reg.X18, reg.X19, reg.X20, reg.X21, reg.X22, reg.X23,
		reg.X24, reg.X25, reg.X26, reg.X27, reg.X28, reg.X29, reg.X30, reg.X31}
	Y = []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
		reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15,
		reg.Y16, reg.Y17, reg.Y18, reg.Y19, reg.Y20, reg.Y21, reg.Y22, reg.Y23,
		reg.Y24, reg.Y25, reg.Y26, reg.Y27, reg.Y28, reg.Y29, reg.Y30, reg.Y31}
	Z = []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
		reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
		reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
		reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31}
)

// Vec returns register n at width v bytes (16, 32 or 64).
func Vec(n, v int) reg.VecPhysical {
	switch v {
	case 16:
		return X[n]
	case 32:
		return Y[n]
	case 64:
		return Z[n]
	}
	panic(fmt.Sprintf("gen.Vec: width %d", v))
}

// XRange returns X{lo}..X{hi}, a new slice the caller may change.
func XRange(lo, hi int) []reg.VecPhysical { return append([]reg.VecPhysical(nil), X[lo:hi+1]...) }

// Hook emits the call of a signal-frame hook whose ABI0 address is in the
// package variable sym (see internal/asm's SignalFrameHooks): MOVQ
// ·sym(SB), AX; CALL AX. A hook clobbers AX, CX, DX, DI and the flags.
func Hook(sym, why string) {
	Comment(why)
	MOVQ(NewDataAddr(Symbol{Name: "·" + sym}, 0), reg.RAX)
	Raw("CALL", reg.RAX)
}

// DocLines splits a doc comment written as one string into lines.
func DocLines(s string) []string {
	s = strings.TrimSpace(s)
	return strings.Split(s, "\n")
}

// DeclareArrayType makes name usable in TEXT signatures as a named type
// whose underlying type is [size]byte, so that the generated Go
// declarations say *Handle or *Region rather than *[64]byte. avo resolves
// signature types without loading the target package (which may not build
// while its generated files are missing), so the name goes into the
// universe scope of this generator process only. The target package must
// declare name itself, as an alias of the project's type (type Handle =
// handle.Handle), so that the declarations compile and callers need no
// conversion.
func DeclareArrayType(name string, size int) {
	if types.Universe.Lookup(name) != nil {
		return
	}
	tn := types.NewTypeName(token.NoPos, nil, name, nil)
	types.NewNamed(tn, types.NewArray(types.Typ[types.Byte], int64(size)), nil)
	types.Universe.Insert(tn)
}

// CPUIDFunc writes a routine name(eax, ecx uint32) (a, b, c, d uint32)
// that executes CPUID with EAX=eax and ECX=ecx and returns EAX, EBX, ECX
// and EDX, with the doc comment doc. It uses only AX-DX. (klemu patches the
// CPUID in such small functions whose names contain "cpuid" when it cannot
// fault CPUID: see internal/klemu/tracer.)
func CPUIDFunc(name, doc string) {
	TEXT(name, NOSPLIT, "func(eax, ecx uint32) (a, b, c, d uint32)")
	Doc(DocLines(doc)...)
	Load(Param("eax"), reg.EAX)
	Load(Param("ecx"), reg.ECX)
	CPUID()
	Store(reg.EAX, Return("a"))
	Store(reg.EBX, Return("b"))
	Store(reg.ECX, Return("c"))
	Store(reg.EDX, Return("d"))
	RET()
}

// RandomRegs are the general registers of RandomWord: Dst receives the
// word, Count counts the tries, Sources holds the sources argument
// (kernel.RandRDSEED | kernel.RandRDRAND). State and Tmp are used only by
// the test source's sequence.
type RandomRegs struct {
	Dst, Count, Sources, State, Tmp reg.Register
}

// RandomWord draws one 64-bit word from the CPU's random source into r.Dst
// with the retry discipline of internal/kernel: RDSEED up to
// kernel.RandSeedTries times (PAUSE between tries) if the sources allow it,
// then RDRAND up to kernel.RandRandTries times; a try that returns CF=0 or
// a word of all ones is retried. It jumps to fail when every try failed.
// id makes its labels unique within the function. With test (the variant
// of builds with the aeskl_testrng tag), each RDSEED and RDRAND is replaced
// by a draw from the internal/testrng State that the package variable
// testRNG points to.
func RandomWord(r RandomRegs, fail LabelRef, test bool, id string) {
	l := func(s string) string { return s + "_" + id }
	got := LabelRef(l("got"))
	Commentf("A random word into %s: RDSEED, then RDRAND, with retries.", r.Dst.Asm())
	TESTQ(U32(kernel.RandRDSEED), r.Sources)
	JZ(LabelRef(l("rdrand")))
	MOVL(U32(kernel.RandSeedTries), r.Count.(reg.GP).As32())
	Label(l("rdseed"))
	randomTry(r, true, test, id)
	JCC(LabelRef(l("seedNext")))
	CMPQ(r.Dst, I8(-1))
	JNE(got)
	Label(l("seedNext"))
	PAUSE()
	DECL(r.Count.(reg.GP).As32())
	JNZ(LabelRef(l("rdseed")))
	Label(l("rdrand"))
	TESTQ(U32(kernel.RandRDRAND), r.Sources)
	JZ(fail)
	MOVL(U32(kernel.RandRandTries), r.Count.(reg.GP).As32())
	Label(l("rdrandTry"))
	randomTry(r, false, test, id)
	JCC(LabelRef(l("randNext")))
	CMPQ(r.Dst, I8(-1))
	JNE(got)
	Label(l("randNext"))
	DECL(r.Count.(reg.GP).As32())
	JNZ(LabelRef(l("rdrandTry")))
	JMP(fail)
	Label(l("got"))
}

// randomTry emits one RDSEED (seed) or RDRAND into r.Dst, CF=1 on success;
// with test, the test source's equivalent.
func randomTry(r RandomRegs, seed, test bool, id string) {
	if !test {
		if seed {
			Raw("RDSEEDQ", r.Dst)
		} else {
			Raw("RDRANDQ", r.Dst)
		}
		return
	}
	fail, count, kind := testrng.OffRandFail, testrng.OffRands, "rand"
	if seed {
		fail, count, kind = testrng.OffSeedFail, testrng.OffSeeds, "seed"
	}
	l := func(s string) string { return s + "_" + kind + "_" + id }
	st := func(off int) Mem { return Mem{Base: r.State, Disp: off} }
	Commentf("Test source (aeskl_testrng builds only): the %s try.", strings.ToUpper("rd"+kind))
	MOVQ(NewDataAddr(Symbol{Name: "·testRNG"}, 0), r.State)
	MOVQ(st(fail), r.Dst)
	TESTQ(r.Dst, r.Dst)
	JZ(LabelRef(l("tOnes")))
	DECQ(r.Dst)
	MOVQ(r.Dst, st(fail))
	XORL(r.Dst.(reg.GP).As32(), r.Dst.(reg.GP).As32())
	CLC()
	JMP(LabelRef(l("tDone")))
	Label(l("tOnes"))
	INCQ(st(count))
	MOVQ(st(testrng.OffOnes), r.Dst)
	TESTQ(r.Dst, r.Dst)
	JZ(LabelRef(l("tMix")))
	DECQ(r.Dst)
	MOVQ(r.Dst, st(testrng.OffOnes))
	MOVQ(I32(-1), r.Dst)
	STC()
	JMP(LabelRef(l("tDone")))
	Label(l("tMix"))
	Comment("splitmix64: x += gamma; z = x; z = (z^z>>30)*m1; z = (z^z>>27)*m2; z ^= z>>31.")
	MOVQ(U64(testrng.Gamma), r.Tmp)
	MOVQ(st(testrng.OffX), r.Dst)
	ADDQ(r.Tmp, r.Dst)
	MOVQ(r.Dst, st(testrng.OffX))
	for _, s := range []struct {
		shift uint8
		mul   uint64
	}{{30, testrng.Mul1}, {27, testrng.Mul2}, {31, 0}} {
		MOVQ(r.Dst, r.Tmp)
		SHRQ(U8(s.shift), r.Tmp)
		XORQ(r.Tmp, r.Dst)
		if s.mul != 0 {
			MOVQ(U64(s.mul), r.Tmp)
			IMULQ(r.Tmp, r.Dst)
		}
	}
	XORL(r.Tmp.(reg.GP).As32(), r.Tmp.(reg.GP).As32())
	STC()
	Label(l("tDone"))
}
