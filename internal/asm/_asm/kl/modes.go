package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// Mode kernels. Register use (ABI0, arguments on the stack):
//
//	AX  handle pointer (h; hTweak while the XTS tweak is encrypted)
//	SI  src cursor    DI  dst cursor    CX  WIDE batches    BX  single blocks
//	R8  state pointer (ctr, iv, tweak, j0)    R9  flags    DX  scratch
//	R10:R11  CTR counter (high:low 64 bits, native order)
//	R12      CTR increment mask (all ones, or 0xFFFFFFFF for inc32)
//	R13      tagMask pointer (GCMCTR)
//	X0-X7    data / keystream (X0-X7 implicit operands of AES*WIDE*KL)
//	X8-X15   CTR: X8 scratch, X15 byte-swap mask; CBC: X8 chaining value,
//	         X9-X10 scratch; XTS: X8-X15 the 8 tweaks of a WIDE batch
//
// ABI0 functions may clobber X15 and R14 (the ABI wrapper restores them);
// R14, R15, BP and SP are not touched.

// klSite emits a Key Locker instruction whose key size comes from flags
// (R9 & ModeKey256) at run time, followed by the ZF check.
func klSite(decrypt, wide bool) {
	l256, done := label("k256_"), label("kdone")
	TESTQ(U32(kernel.ModeKey256), R9)
	JNZ(l256)
	gen.KL(gen.KLForm(128, decrypt, wide))
	JZ(fail)
	JMP(done)
	Label(string(l256))
	gen.KL(gen.KLForm(256, decrypt, wide))
	JZ(fail)
	Label(string(done))
}

// args loads h, dst, src, the block count (BX), the state pointer (R8)
// and flags (R9).
func args(state string) {
	Load(Param("h"), RAX)
	Load(Param("dst").Base(), RDI)
	Load(Param("src").Base(), RSI)
	Load(Param("src").Len(), RBX)
	SHRQ(U8(4), RBX)
	Load(Param(state), R8)
	Load(Param("flags"), R9)
}

// splitBlocks: with ModeWide, CX = BX/8 WIDE batches and BX = BX%8 single
// blocks; else CX = 0.
func splitBlocks() {
	nowide := label("nowide")
	XORQ(RCX, RCX)
	TESTQ(U32(kernel.ModeWide), R9)
	JZ(nowide)
	MOVQ(RBX, RCX)
	SHRQ(U8(3), RCX)
	ANDQ(U8(7), RBX)
	Label(string(nowide))
}

// xorSrc8 XORs the 8 blocks at (SI) into X0-X7 through X8.
func xorSrc8() {
	for i, x := range gen.XRange(0, 7) {
		MOVOU(Mem{Base: RSI, Disp: 16 * i}, X8)
		PXOR(X8, x)
	}
}

func advance(n int, count Register, loop LabelRef) {
	ADDQ(U32(n), RSI)
	ADDQ(U32(n), RDI)
	DECQ(count)
	JNZ(loop)
}

// ---------------------------------------------------------------------------
// CTR. The counter lives in R10 (high 64 bits) : R11 (low 64 bits) as native
// integers. A counter block is R11 | R10<<64 byte-reversed by PSHUFB X15.

// ctrInc adds 1 to the counter: DX = the bits of R11 that R11+1 changes,
// restricted by the mask R12 (all ones: the whole low half may change;
// 0xFFFFFFFF: only the low 32 bits, inc32 mod 2^32), applied to R11 by XOR.
// The carry into R10 happens exactly when every bit of R11 changed (R11
// was all ones and the mask is all ones): then DX+1 carries. Branch-free.
func ctrInc() {
	LEAQ(Mem{Base: R11, Disp: 1}, RDX)
	XORQ(R11, RDX)
	ANDQ(R12, RDX)
	XORQ(RDX, R11)
	ADDQ(U8(1), RDX)
	ADCQ(U8(0), R10)
}

// ctrBlock sets x to the current counter block and increments the counter.
func ctrBlock(x VecPhysical) {
	MOVQ(R11, x)
	PINSRQ(U8(1), R10, x)
	PSHUFB(X15, x)
	ctrInc()
}

// bswapMask sets X15 to the PSHUFB mask that reverses 16 bytes.
func bswapMask() {
	MOVQ(U64(0x08090a0b0c0d0e0f), RDX)
	MOVQ(RDX, X15)
	MOVQ(U64(0x0001020304050607), RDX)
	PINSRQ(U8(1), RDX, X15)
}

// ctrLoad loads the big-endian counter at (R8) into R10:R11.
func ctrLoad() {
	MOVQ(Mem{Base: R8}, R10)
	BSWAPQ(R10)
	MOVQ(Mem{Base: R8, Disp: 8}, R11)
	BSWAPQ(R11)
}

// ctrLoop: dst = src XOR keystream for CX WIDE batches then BX single
// blocks. A batch's or block's keystream is XORed with src and stored only
// after its Key Locker instruction reported ZF=0; each src block is read
// just before the dst block at the same offset is written (in place works).
func ctrLoop() {
	tail, wide, single, done := label("ctrtail"), label("ctrwide"), label("ctrsingle"), label("ctrdone")
	TESTQ(RCX, RCX)
	JZ(tail)
	Label(string(wide))
	for _, x := range gen.XRange(0, 7) {
		ctrBlock(x)
	}
	klSite(false, true)
	xorSrc8()
	store8(RDI)
	advance(128, RCX, wide)
	Label(string(tail))
	TESTQ(RBX, RBX)
	JZ(done)
	Label(string(single))
	ctrBlock(X0)
	klSite(false, false)
	MOVOU(Mem{Base: RSI}, X8)
	PXOR(X8, X0)
	MOVOU(X0, Mem{Base: RDI})
	advance(16, RBX, single)
	Label(string(done))
}

func ctrRegs() []VecPhysical { return append(gen.XRange(0, 8), X15) }

func ctr() {
	TEXT("KLCTR", NOSPLIT, "func(h *Handle, dst, src []byte, ctr *[16]byte, flags int) bool")
	Pragma("noescape")
	Doc(gen.DocLines(`KLCTR XORs src with the CTR keystream E(*ctr), E(*ctr+1), ... into dst.
The counter is big-endian; it is incremented over all 128 bits (carry
from the low into the high 64-bit half, wrapping mod 2^128, as
crypto/cipher.NewCTR) or, with flags&ModeInc32, only in its low 32 bits
mod 2^32 (GCM's inc32). Counter blocks are built in registers
(R10:R11, PINSRQ, PSHUFB byte reversal) and XORed with src after the Key
Locker instruction reported ZF=0. On true *ctr is advanced by
len(src)/16. Uses X0-X8 and X15, all zeroed before return on every
path. Needs an encrypt-capable handle: a NoEncrypt handle (or a tampered
or wrong-size one) returns false; then dst may be partly written (the
batches before the failing one) and the caller must zero it; *ctr is
unchanged.`)...)
	args("ctr")
	splitBlocks()
	bswapMask()
	ctrLoad()
	Comment("Whole 128-bit increment, or inc32 with ModeInc32.")
	MOVQ(I32(-1), R12)
	TESTQ(U32(kernel.ModeInc32), R9)
	JZ(LabelRef("loop"))
	MOVL(U32(0xFFFFFFFF), R12L)
	Label("loop")
	ctrLoop()
	epilogue(ctrRegs(), "ok", func() {
		BSWAPQ(R10)
		BSWAPQ(R11)
		MOVQ(R10, Mem{Base: R8})
		MOVQ(R11, Mem{Base: R8, Disp: 8})
	})
}

func gcmCTR() {
	TEXT("KLGCMCTR", NOSPLIT, "func(h *Handle, dst, src []byte, j0, tagMask *[16]byte, flags int) bool")
	Pragma("noescape")
	Doc(gen.DocLines(`KLGCMCTR is GCM's counter mode: first *tagMask = E(*j0) (one
AESENC{128,256}KL, even for zero blocks), then dst = src XOR keystream of
the counter blocks inc32(*j0), inc32(inc32(*j0)), ... (only the low 32
bits count, mod 2^32, whatever flags&ModeInc32 says). *j0 is not
modified. Uses X0-X8 and X15, zeroed before return on every path. A
NoEncrypt (or tampered, wrong-size) handle returns false: nothing is
written if the tag mask instruction fails; if a later one fails, dst may
be partly written and the caller must zero it and discard *tagMask.`)...)
	args("j0")
	Load(Param("tagMask"), R13)
	splitBlocks()
	Comment("*tagMask = E(*j0)")
	MOVOU(Mem{Base: R8}, X0)
	klSite(false, false)
	MOVOU(X0, Mem{Base: R13})
	Comment("Counter blocks inc32(J0), inc32(J0)+1, ... (always inc32).")
	bswapMask()
	ctrLoad()
	MOVL(U32(0xFFFFFFFF), R12L)
	ctrInc()
	ctrLoop()
	epilogue(ctrRegs(), "ok", nil)
}

// ---------------------------------------------------------------------------
// CBC

func cbcEncrypt() {
	TEXT("KLCBCEncrypt", NOSPLIT, "func(h *Handle, dst, src []byte, iv *[16]byte, flags int) bool")
	Pragma("noescape")
	Doc(gen.DocLines(`KLCBCEncrypt computes C_i = E(P_i XOR C_{i-1}) with C_{-1} = *iv, one
AESENC{128,256}KL per block (ModeWide is ignored: CBC encryption is
sequential). On true *iv = the last ciphertext block (unchanged for zero
blocks). Uses X0 and X1, zeroed before return on every path. A NoEncrypt
(or tampered, wrong-size) handle returns false; then dst may be partly
written and the caller must zero it; *iv is unchanged.`)...)
	args("iv")
	Comment("X1 = chaining value, X0 = the block.")
	MOVOU(Mem{Base: R8}, X1)
	TESTQ(RBX, RBX)
	JZ(LabelRef("done"))
	Label("loop")
	MOVOU(Mem{Base: RSI}, X0)
	PXOR(X1, X0)
	klSite(false, false)
	MOVOU(X0, Mem{Base: RDI})
	MOVOU(X0, X1)
	advance(16, RBX, "loop")
	epilogue(gen.XRange(0, 1), "done", func() { MOVOU(X1, Mem{Base: R8}) })
}

func cbcDecrypt() {
	TEXT("KLCBCDecrypt", NOSPLIT, "func(h *Handle, dst, src []byte, iv *[16]byte, flags int) bool")
	Pragma("noescape")
	Doc(gen.DocLines(`KLCBCDecrypt computes P_i = D(C_i) XOR C_{i-1} with C_{-1} = *iv: with
ModeWide one AESDECWIDE{128,256}KL per 8 blocks, else and for the tail
AESDEC{128,256}KL per block. Every ciphertext block is read before the
batch or block using it is stored, so dst == src works. On true *iv = the
last ciphertext block. Uses X0-X10, zeroed before return on every path.
A NoDecrypt (or tampered, wrong-size) handle returns false; then dst may
be partly written and the caller must zero it; *iv is unchanged.`)...)
	args("iv")
	splitBlocks()
	Comment("X8 = chaining value (the previous ciphertext block), X9, X10 scratch.")
	MOVOU(Mem{Base: R8}, X8)
	TESTQ(RCX, RCX)
	JZ(LabelRef("tail"))
	Label("wide")
	load8(RSI)
	klSite(true, true)
	Comment("X9 = the next chaining value.")
	MOVOU(Mem{Base: RSI, Disp: 112}, X9)
	PXOR(X8, X0)
	for i, x := range gen.XRange(1, 7) {
		MOVOU(Mem{Base: RSI, Disp: 16 * i}, X10)
		PXOR(X10, x)
	}
	MOVOU(X9, X8)
	store8(RDI)
	advance(128, RCX, "wide")
	Label("tail")
	TESTQ(RBX, RBX)
	JZ(LabelRef("done"))
	Label("single")
	MOVOU(Mem{Base: RSI}, X0)
	MOVOU(X0, X9)
	klSite(true, false)
	PXOR(X8, X0)
	MOVOU(X9, X8)
	MOVOU(X0, Mem{Base: RDI})
	advance(16, RBX, "single")
	epilogue(gen.XRange(0, 10), "done", func() { MOVOU(X8, Mem{Base: R8}) })
}

// ---------------------------------------------------------------------------
// XTS

// gfMask sets x to the doubling mask: qword 0 = 0x87 (the reduction of
// x^128 = x^7 + x^2 + x + 1), qword 1 = 1 (the carry from bit 63 into 64).
func gfMask(x VecPhysical) {
	MOVQ(U32(0x87), RDX)
	MOVQ(RDX, x)
	MOVQ(U32(1), RDX)
	PINSRQ(U8(1), RDX, x)
}

// gfDouble: dst = src * x in GF(2^128), IEEE 1619 little-endian convention.
// PSHUFD $0x13 puts dword 3 of src in dword 0 and dword 1 in dword 2; PSRAL
// $31 turns them into all-ones where bit 127 / bit 63 was set; PAND keeps
// 0x87 / 1 there; PADDQ shifts each 64-bit half left by one; PXOR adds the
// reduction and the carry between the halves. dst may be src.
func gfDouble(src, dst, tmp, mask VecPhysical) {
	PSHUFD(U8(0x13), src, tmp)
	if dst != src {
		MOVOU(src, dst)
	}
	PADDQ(dst, dst)
	PSRAL(U8(31), tmp)
	PAND(mask, tmp)
	PXOR(tmp, dst)
}

func xorTweaks8() {
	for i, x := range gen.XRange(0, 7) {
		PXOR(gen.XRange(8, 15)[i], x)
	}
}

// xtsSite: encrypt or decrypt (flags & ModeDecrypt at run time).
func xtsSite(wide bool) {
	dec, done := label("xdec"), label("xdone")
	TESTQ(U32(kernel.ModeDecrypt), R9)
	JNZ(dec)
	klSite(false, wide)
	JMP(done)
	Label(string(dec))
	klSite(true, wide)
	Label(string(done))
}

func xts() {
	TEXT("KLXTS", NOSPLIT, "func(h, hTweak *Handle, dst, src []byte, tweak *[16]byte, flags int) bool")
	Pragma("noescape")
	Doc(gen.DocLines(`KLXTS runs XTS over len(src)/16 whole blocks (no ciphertext stealing: the
caller does that). If hTweak != nil, first T = AESENC{128,256}KL(*tweak)
with hTweak (always the encrypt form, so a NoDecrypt tweak handle works
for decryption too; same key size as h); else T = *tweak (an already
encrypted tweak, as left by a previous call). Block i uses T_i = T * x^i
in GF(2^128) (IEEE 1619 little-endian doubling, polynomial 0x87):
dst_i = E(src_i XOR T_i) XOR T_i, or D(...) with flags&ModeDecrypt. With
ModeWide each batch of 8 keeps its tweaks in X8-X15 and uses
AES{ENC,DEC}WIDE{128,256}KL on X0-X7. On true *tweak = T * x^n, the
tweak of the next block, so a following call with hTweak == nil
continues the stream. Uses X0-X15, all zeroed before return on every
path. Returns false if either handle is rejected (hTweak: NoEncrypt,
tampered or wrong size, before any data block; h: NoEncrypt for
encryption, NoDecrypt for decryption, tampered, wrong size); then dst may
be partly written and the caller must zero it; *tweak is unchanged.`)...)
	Load(Param("tweak"), R8)
	Load(Param("flags"), R9)
	Comment("X8 = the current tweak.")
	MOVOU(Mem{Base: R8}, X8)
	Load(Param("hTweak"), RAX)
	TESTQ(RAX, RAX)
	JZ(LabelRef("data"))
	Comment("T = E_tweakkey(*tweak): always the encrypt form.")
	MOVOU(X8, X0)
	klSite(false, false)
	MOVOU(X0, X8)
	Label("data")
	Load(Param("h"), RAX)
	Load(Param("dst").Base(), RDI)
	Load(Param("src").Base(), RSI)
	Load(Param("src").Len(), RBX)
	SHRQ(U8(4), RBX)
	splitBlocks()
	TESTQ(RCX, RCX)
	JZ(LabelRef("tail"))
	Label("wide")
	Comment("X8-X15 = T, T*x, ..., T*x^7 (X6 scratch, X7 the doubling mask).")
	gfMask(X7)
	tw := gen.XRange(8, 15)
	for i := 0; i < 7; i++ {
		gfDouble(tw[i], tw[i+1], X6, X7)
	}
	load8(RSI)
	xorTweaks8()
	xtsSite(true)
	xorTweaks8()
	store8(RDI)
	Comment("The next batch's first tweak.")
	gfMask(X7)
	gfDouble(X15, X8, X6, X7)
	advance(128, RCX, "wide")
	Label("tail")
	TESTQ(RBX, RBX)
	JZ(LabelRef("done"))
	Comment("X9 = the doubling mask, X10 scratch.")
	gfMask(X9)
	Label("single")
	MOVOU(Mem{Base: RSI}, X0)
	PXOR(X8, X0)
	xtsSite(false)
	PXOR(X8, X0)
	MOVOU(X0, Mem{Base: RDI})
	gfDouble(X8, X8, X10, X9)
	advance(16, RBX, "single")
	epilogue(gen.XRange(0, 15), "done", func() { MOVOU(X8, Mem{Base: R8}) })
}
