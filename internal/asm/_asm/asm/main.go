// Command asm writes internal/asm's assembly (asm_amd64.s) and its Go
// declarations (asm_amd64.go): CPUID, XGETBV, and the signal-frame hooks
// with the helpers their start-up code uses. Run it through go generate in
// internal/asm.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
)

// tls is the thread-local slot that holds the current g: the Go
// assembler's (TLS) pseudo-register. avo has no operand for it; a label
// reference prints as written and names no register.
var tls = LabelRef("(TLS)")

// gOffM is the offset of g.m in the runtime's g struct: the fields before
// it (stack, stackguard0, stackguard1, _panic, _defer) have been there since
// the first Go 1 release. The offset of m.gsignal is not assumed: the
// start-up code finds it and checks it against sigaltstack(2).
const gOffM = 48

func sym(name string) Mem { return NewDataAddr(Symbol{Name: "·" + name}, 0) }

func main() {
	ConstraintExpr("amd64,!purego")
	cpuid()
	arm()
	check()
	hooks()
	helpers()
	Generate()
}

func cpuid() {
	gen.CPUIDFunc("CPUID", `CPUID executes the CPUID instruction with EAX=eax and ECX=ecx and returns
EAX, EBX, ECX and EDX. It uses only the general registers AX-DX and no
vector register. Under klemu a CPUID faulting or patched is answered by
the emulator's profile, so the result reflects the emulated CPU.`)

	TEXT("XGETBV0", NOSPLIT, "func() (eax, edx uint32)")
	Doc(gen.DocLines(`XGETBV0 executes XGETBV with ECX=0 and returns XCR0 as EAX (low 32 bits)
and EDX (high 32 bits): which register states the OS saves (bit 1 SSE,
bit 2 AVX, bits 5-7 AVX-512). It raises #UD (SIGILL) unless
CPUID.1:ECX.OSXSAVE[27] is set: check that first. It uses only AX, CX, DX.`)...)
	MOVL(U32(0), ECX)
	XGETBV()
	Store(EAX, Return("eax"))
	Store(EDX, Return("edx"))
	RET()
}

// canary emits: g = this thread's gsignal, a = the canary's address
// (gsignal.stack.hi - sigstkCanaryOff); CX must hold sigstkMOff (nonzero).
// It jumps to off if the address is below gsignal.stack.lo (a signal stack
// that C code set up and that is too small for a frame: then nothing is
// written or read there).
func canary(g, a Register, off LabelRef) {
	gen.Raw("MOVQ", tls, g)
	MOVQ(Mem{Base: g, Disp: gOffM}, g)
	MOVQ(Mem{Base: g, Index: RCX, Scale: 1}, g)
	MOVQ(Mem{Base: g, Disp: 8}, a)
	SUBQ(sym("sigstkCanaryOff"), a)
	CMPQ(a, Mem{Base: g})
	JB(off)
}

const hookContract = `Clobbers AX, CX, DX, DI and flags; never called from Go: key-holding
routines call it (in this package by name, elsewhere through the address
SignalFrameHooks returns).`

func arm() {
	TEXT("sigstkArm", NOSPLIT|NOFRAME, "func()")
	Doc(gen.DocLines(`sigstkArm writes the canary below the top of the current thread's signal
stack (nothing when the wipe is off). Assembly routines call it on entry,
before any key byte is loaded. ` + hookContract)...)
	MOVQ(sym("sigstkMOff"), RCX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("off"))
	canary(RDX, RAX, "off")
	MOVQ(sym("sigstkCanary"), RCX)
	MOVQ(RCX, Mem{Base: RAX})
	Label("off")
	RET()
}

func check() {
	TEXT("sigstkCheck", NOSPLIT|NOFRAME, "func()")
	Doc(gen.DocLines(`sigstkCheck zeroes the frame area at the top of the current thread's
signal stack if the canary written by sigstkArm changed (a signal was
delivered in between). Assembly routines call it before every RET, after
their vector registers are zero. ` + hookContract)...)
	MOVQ(sym("sigstkMOff"), RCX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("off"))
	canary(RDX, RAX, "off")
	MOVQ(sym("sigstkCanary"), RCX)
	CMPQ(RCX, Mem{Base: RAX})
	JEQ(LabelRef("off"))
	Comment("A signal was delivered on this thread since sigstkArm: its frame,",
		"with the vector registers of that moment, is at the top of the",
		"signal stack. Zero [max(top - wipeLen, lo), top).")
	MOVQ(Mem{Base: RDX, Disp: 8}, RCX)
	MOVQ(RCX, RDI)
	SUBQ(sym("sigstkWipeLen"), RDI)
	CMPQ(RDI, Mem{Base: RDX})
	JAE(LabelRef("lo_ok"))
	MOVQ(Mem{Base: RDX}, RDI)
	Label("lo_ok")
	SUBQ(RDI, RCX)
	XORL(EAX, EAX)
	CLD()
	gen.Raw("REP")
	gen.Raw("STOSB")
	gen.Raw("LOCK")
	gen.Raw("INCQ", sym("sigstkWipes"))
	Label("off")
	RET()
}

func hooks() {
	TEXT("SignalFrameHooks", NOSPLIT, "func() (arm, check uintptr)")
	Doc(gen.DocLines(`SignalFrameHooks returns the ABI0 entry addresses of sigstkArm and
sigstkCheck, for the assembly of the other packages: a Go assembly file
cannot name a symbol of this package (its import path has a '-', which
the assembler's symbol syntax cannot write), so they keep these in
package variables and call through them (MOVQ ·sigArm(SB), AX; CALL AX).
The hooks' contract is the same as for a direct call.`)...)
	LEAQ(sym("sigstkArm"), RAX)
	Store(RAX, Return("arm"))
	LEAQ(sym("sigstkCheck"), RAX)
	Store(RAX, Return("check"))
	RET()
}

func helpers() {
	TEXT("sigstkTopOf", NOSPLIT, "func(mOff uintptr) uintptr")
	Doc(gen.DocLines(`sigstkTopOf returns gsignal.stack.hi of the current thread, taking the
offset of gsignal in m from mOff (not from sigstkMOff). For the start-up
code and tests.`)...)
	Load(Param("mOff"), RCX)
	gen.Raw("MOVQ", tls, RAX)
	MOVQ(Mem{Base: RAX, Disp: gOffM}, RAX)
	MOVQ(Mem{Base: RAX, Index: RCX, Scale: 1}, RAX)
	MOVQ(Mem{Base: RAX, Disp: 8}, RAX)
	Store(RAX, ReturnIndex(0))
	RET()

	TEXT("curM", NOSPLIT, "func() uintptr")
	Doc("curM returns the current thread's m pointer (g.m).")
	gen.Raw("MOVQ", tls, RAX)
	MOVQ(Mem{Base: RAX, Disp: gOffM}, RAX)
	Store(RAX, ReturnIndex(0))
	RET()

	TEXT("loadWord", NOSPLIT, "func(addr uintptr) uint64")
	Doc("loadWord returns the 8 bytes at addr, which must be readable.")
	Load(Param("addr"), RAX)
	MOVQ(Mem{Base: RAX}, RAX)
	Store(RAX, ReturnIndex(0))
	RET()

	TEXT("storeWords", NOSPLIT, "func(addr, n uintptr, v uint64)")
	Doc(gen.DocLines(`storeWords writes v to the n 8-byte words at addr, which must be writable
memory that nothing else uses.`)...)
	Load(Param("addr"), RDI)
	Load(Param("n"), RCX)
	Load(Param("v"), RAX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("done"))
	Label("loop")
	MOVQ(RAX, Mem{Base: RDI})
	ADDQ(U8(8), RDI)
	DECQ(RCX)
	JNZ(LabelRef("loop"))
	Label("done")
	RET()
}
