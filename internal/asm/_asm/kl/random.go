package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// encodeRandom writes EncodeRandom128 or EncodeRandom256: ENCODEKEY of a
// key that exists only in registers, drawn word by word from the CPU's
// random source (gen.RandomWord) and XORed with the caller's entropy.
func encodeRandom(bits int, test bool) {
	name := fmt.Sprintf("EncodeRandom%d", bits)
	TEXT(name, NOSPLIT, fmt.Sprintf("func(restrictions uint32, entropy *[%d]byte, sources int, h *Handle) (info uint32, ok bool)", bits/8))
	Pragma("noescape")
	keyRegs, handleRegs, op := "X0", "X0-X2", gen.ENCODEKEY128
	if bits == 256 {
		keyRegs, handleRegs, op = "X1:X0", "X0-X3", gen.ENCODEKEY256
	}
	source := "the CPU's random source (RDSEED, falling back to RDRAND)"
	if test {
		source = "the test source of builds with the aeskl_testrng tag (internal/testrng's State that the package variable testRNG points to, read in place of every RDSEED and RDRAND)"
	}
	doc := fmt.Sprintf(`%s executes ENCODEKEY%d on a key that never exists in memory. It
draws %d 64-bit words from %s
into %s, word 0 in the low half of X0, XORs them with the %d bytes at
entropy (pass zeros for none), runs ENCODEKEY%d EDX, ECX with
ECX = restrictions and stores the handle from %s to h (h[48:64] zeroed
for AES-128). Each word is tried up to %d times with RDSEED (PAUSE
between tries) if sources&%d != 0, then up to %d times with RDRAND if
sources&%d != 0; a try with CF=0 or a word of all ones is retried. If
every try of a word fails it returns ok = false and info = 0 and leaves h
untouched. The words pass through R9 only, which is zero on return, and
X0-X6 are zeroed on every path; the signal-frame hooks are called first
and right before every return. It uses AX, BX, CX, DX, DI, SI, R8-R11.
Never set a bit in sources for an instruction the CPU lacks (#UD).

restrictions is the handle's restriction bits (bit 0 CPL0-only, bit 1
no-encrypt, bit 2 no-decrypt). A bit above 2, or a restriction that
CPUID.19H:EAX does not list, raises #GP (SIGSEGV): the caller must check.
info is the ENCODEKEY destination register: bit 0 = IWKey.NoBackup,
bits 4:1 = IWKey.KeySource. #UD (SIGILL) unless CPUID.19H:EBX reports
AESKLE. Needs SSE4.1 (PINSRQ).`, name, bits, bits/64, source, keyRegs, bits/8, bits, handleRegs,
		kernel.RandSeedTries, kernel.RandRDSEED, kernel.RandRandTries, kernel.RandRDRAND)
	Doc(gen.DocLines(doc)...)
	gen.Hook("sigArm", "Before any key bit is drawn: arm the signal-frame check.")
	Load(Param("sources"), R8)
	rr := gen.RandomRegs{Dst: R9, Count: R10, Sources: R8, State: R11, Tmp: RSI}
	keyX := []VecPhysical{X0, X1}
	for i := 0; i < bits/64; i++ {
		gen.RandomWord(rr, fail, test, fmt.Sprint(i))
		if i%2 == 0 {
			MOVQ(R9, keyX[i/2])
		} else {
			PINSRQ(U8(1), R9, keyX[i/2])
		}
	}
	XORL(R9L, R9L)
	Comment("XOR the caller's entropy into the key, in registers.")
	Load(Param("entropy"), RAX)
	for i := 0; i < bits/128; i++ {
		MOVOU(Mem{Base: RAX, Disp: 16 * i}, X2)
		PXOR(X2, keyX[i])
	}
	Load(Param("restrictions"), ECX)
	Load(Param("h"), RBX)
	XORL(EDX, EDX)
	gen.KL(op)
	Store(EDX, Return("info"))
	n := 2 + bits/128 // handle blocks: metadata, tag, wrapped key
	for i, x := range gen.XRange(0, n-1) {
		MOVOU(x, Mem{Base: RBX, Disp: 16 * i})
	}
	gen.Clear(gen.XRange(0, 6)...)
	if bits == 128 {
		MOVOU(X0, Mem{Base: RBX, Disp: 48})
	}
	okMem, err := Return("ok").Resolve()
	if err != nil {
		panic(err)
	}
	MOVB(U8(1), okMem.Addr)
	gen.Hook("sigCheck", "Vector registers are zero: wipe the signal frame if a signal came.")
	RET()

	Label("fail")
	Comment("A word could not be drawn: zero what holds key words, return false.")
	gen.Clear(gen.XRange(0, 6)...)
	XORL(R9L, R9L)
	MOVL(U32(0), EDX)
	Store(EDX, Return("info"))
	MOVB(U8(0), okMem.Addr)
	gen.Hook("sigCheck", "Vector registers are zero: wipe the signal frame if a signal came.")
	RET()
}
