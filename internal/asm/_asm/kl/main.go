// Command kl writes internal/asm/kl's assembly and its Go declarations.
// With -part main (kl_amd64.s, kl_amd64.go): ENCODEKEY, the ECB routines
// for every key size x direction x width, and the mode kernels (CTR, CBC,
// XTS, GCM's counter mode). With -part random (klrandom_amd64.s/.go):
// EncodeRandom128/256, ENCODEKEY of a key drawn from RDSEED/RDRAND inside
// the routine; with -part random-test (klrandom_testrng_amd64.s/.go) the
// same routines drawing from the test source of builds with the
// aeskl_testrng tag instead. Run it through go generate in internal/asm/kl.
package main

import (
	"flag"
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
)

var part = flag.String("part", "main", "what to write: main, random or random-test")

func main() {
	flag.Parse()
	gen.DeclareArrayType("Handle", 64)
	switch *part {
	case "main":
		ConstraintExpr("amd64,!purego")
	case "random", "random-test":
		test := *part == "random-test"
		if test {
			ConstraintExpr("amd64,!purego,aeskl_testrng")
		} else {
			ConstraintExpr("amd64,!purego,!aeskl_testrng")
		}
		encodeRandom(128, test)
		encodeRandom(256, test)
		Generate()
		return
	default:
		log.Fatalf("kl: unknown -part %q", *part)
	}
	encodeKey(128)
	encodeKey(256)
	for _, wide := range []bool{false, true} {
		for _, bits := range []int{128, 256} {
			for _, decrypt := range []bool{false, true} {
				ecb(bits, decrypt, wide)
			}
		}
	}
	ctr()
	cbcEncrypt()
	cbcDecrypt()
	xts()
	gcmCTR()
	Generate()
}

var (
	fail = LabelRef("fail")
	nlab int
)

// label returns a fresh label name (labels are function-scoped).
func label(prefix string) LabelRef {
	nlab++
	return LabelRef(fmt.Sprintf("%s%d", prefix, nlab))
}

func ret() Mem {
	b, err := ReturnIndex(0).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// epilogue writes the success and failure returns: both zero regs, then
// store the result byte.
func epilogue(regs []VecPhysical, okLabel string, onOK func()) {
	Label(okLabel)
	if onOK != nil {
		onOK()
	}
	gen.Clear(regs...)
	MOVB(U8(1), ret())
	RET()
	Label("fail")
	gen.Clear(regs...)
	MOVB(U8(0), ret())
	RET()
}

func load8(base Register) {
	for i, x := range gen.XRange(0, 7) {
		MOVOU(Mem{Base: base, Disp: 16 * i}, x)
	}
}

func store8(base Register) {
	for i, x := range gen.XRange(0, 7) {
		MOVOU(x, Mem{Base: base, Disp: 16 * i})
	}
}

// ---------------------------------------------------------------------------
// ENCODEKEY

func encodeKey(bits int) {
	name := fmt.Sprintf("EncodeKey%d", bits)
	TEXT(name, NOSPLIT, fmt.Sprintf("func(key *[%d]byte, restrictions uint32, h *Handle) (info uint32)", bits/8))
	Pragma("noescape")
	keyRegs, handleRegs, op := "X0", "X0-X2", gen.ENCODEKEY128
	if bits == 256 {
		keyRegs, handleRegs, op = "X1:X0", "X0-X3", gen.ENCODEKEY256
	}
	doc := fmt.Sprintf(`%s executes ENCODEKEY%d: it loads the key into %s straight
from the caller's memory (the key never passes through a general register
or the Go stack), runs ENCODEKEY%d EDX, ECX with ECX = restrictions, stores
the handle from %s to h (h[48:64] zeroed for AES-128), then zeroes X0-X6.
A signal frame taken while the key was in a register is zeroed before it
returns (internal/asm's signal-frame hooks). It uses AX, BX, CX, DX, DI.

restrictions is the handle's restriction bits (bit 0 CPL0-only, bit 1
no-encrypt, bit 2 no-decrypt). A bit above 2, or a restriction that
CPUID.19H:EAX does not list, raises #GP (SIGSEGV): the caller must check.
info is the ENCODEKEY destination register: bit 0 = IWKey.NoBackup,
bits 4:1 = IWKey.KeySource (0 software-supplied, 1 hardware random).
#UD (SIGILL) unless CPUID.19H:EBX reports AESKLE.`, name, bits, keyRegs, bits, handleRegs)
	Doc(gen.DocLines(doc)...)
	gen.Hook("sigArm", "Before any key byte is loaded: arm the signal-frame check.")
	Load(Param("key"), RAX)
	Load(Param("restrictions"), ECX)
	Load(Param("h"), RBX)
	Comment("The key, straight from the caller's memory.")
	MOVOU(Mem{Base: RAX}, X0)
	if bits == 256 {
		MOVOU(Mem{Base: RAX, Disp: 16}, X1)
	}
	XORL(EDX, EDX)
	gen.KL(op)
	Store(EDX, ReturnIndex(0))
	n := 3
	if bits == 256 {
		n = 4
	}
	for i, x := range gen.XRange(0, n-1) {
		MOVOU(x, Mem{Base: RBX, Disp: 16 * i})
	}
	gen.Clear(gen.XRange(0, 6)...)
	if bits == 128 {
		MOVOU(X0, Mem{Base: RBX, Disp: 48})
	}
	gen.Hook("sigCheck", "Vector registers are zero: wipe the signal frame if a signal came.")
	RET()
}

// ---------------------------------------------------------------------------
// ECB

func ecb(bits int, decrypt, wide bool) {
	dir, verb := "Encrypt", "encrypts"
	restr := "no-encrypt"
	if decrypt {
		dir, verb, restr = "Decrypt", "decrypts", "no-decrypt"
	}
	w := ""
	if wide {
		w = "Wide"
	}
	other := 384 - bits
	name := fmt.Sprintf("%sKL%s%d", dir, w, bits)
	TEXT(name, NOSPLIT, "func(h *Handle, dst, src []byte) bool")
	Pragma("noescape")
	single := gen.KLForm(bits, decrypt, false)
	var how, regs, needs string
	if wide {
		wop := gen.KLForm(bits, decrypt, true)
		how = fmt.Sprintf("%s on X0-X7 for each full batch of 8 blocks, then %s for each of the n%%8 tail blocks", wop.Intel, single.Intel)
		regs, needs = "X0-X7", "AESKLE and WIDE_KL"
	} else {
		how = fmt.Sprintf("%s, one instruction per block", single.Intel)
		regs, needs = "X0", "AESKLE"
	}
	Doc(gen.DocLines(fmt.Sprintf(`%s %s len(src)/16 blocks of src into dst in ECB mode with
the AES-%d handle at h: %s.
It uses %s (zeroed before return on every path) and AX, CX, DX, SI, DI.
ZF is tested after every instruction. It returns false at the first one
that reports ZF=1 (a rejected handle: %s or CPL0-only restriction, an
AES-%d handle, reserved bit, failed integrity check e.g. after an IWKey
change); that batch or block and the ones after it are not written, but
the ones before it are: dst is partially written, so the caller must zero
dst on false. The caller guarantees len(dst) >= len(src) and
len(src)%%16 == 0 (not checked); dst == src is allowed. #UD (SIGILL)
unless CPUID.19H:EBX reports %s.`, name, verb, bits, how, regs, restr, other, needs))...)

	Load(Param("h"), RAX)
	Load(Param("dst").Base(), RDI)
	Load(Param("src").Base(), RSI)
	Load(Param("src").Len(), RCX)
	SHRQ(U8(4), RCX)
	count := RCX
	if wide {
		Comment("CX = batches of 8, DX = tail blocks.")
		MOVQ(RCX, RDX)
		ANDQ(U8(7), RDX)
		SHRQ(U8(3), RCX)
		TESTQ(RCX, RCX)
		JZ(LabelRef("tail"))
		Label("wide")
		load8(RSI)
		gen.KL(gen.KLForm(bits, decrypt, true))
		JZ(fail)
		store8(RDI)
		ADDQ(U32(128), RSI)
		ADDQ(U32(128), RDI)
		DECQ(RCX)
		JNZ(LabelRef("wide"))
		Label("tail")
		count = RDX
	}
	TESTQ(count, count)
	JZ(LabelRef("ok"))
	Label("single")
	MOVOU(Mem{Base: RSI}, X0)
	gen.KL(single)
	JZ(fail)
	MOVOU(X0, Mem{Base: RDI})
	ADDQ(U8(16), RSI)
	ADDQ(U8(16), RDI)
	DECQ(count)
	JNZ(LabelRef("single"))
	clear := gen.XRange(0, 0)
	if wide {
		clear = gen.XRange(0, 7)
	}
	epilogue(clear, "ok", nil)
}
