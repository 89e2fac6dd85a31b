package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/ghashgen"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// GCM with AES and GHASH in one pass, on the zmm path: each batch of 32
// counter blocks (8 registers) runs its AES rounds with the GHASH of 32
// ciphertext blocks interleaved, the registers multiplied in pairs (half
// of a pair's products after each of the rounds every key size shares)
// and the reduction after the last of them, as the Linux kernel's
// aes-gcm-avx10 code does. VAES and
// VPCLMULQDQ issue on different ports, so the multiplications fill the
// AES latency. Decryption hashes the batch it decrypts (the ciphertext is
// read before the batch is stored, so dst == src works); encryption hashes
// the batch before it (just stored), then the last batch on its own or
// with the rounds of the tail. The tail (the bytes after the last whole
// batch, any length) takes one more batch of keystream and is stored and
// hashed a register at a time under a byte mask (gcmTailUnits); the
// length block, if given, comes last (gcmLengthBlock). One call is one
// message: one unwrap.

// gcmBatch is the number of blocks of one batch (the powers H^32 .. H^1
// of the GHASH table cover it with one reduction).
const gcmBatch = 32

// gcmPrefetch is how far ahead of the batch the source and the
// destination are prefetched (PREFETCHT0 of each of their 64-byte lines,
// one of each after each of 8 rounds): data coming from memory (a large
// buffer sealed or opened in one pass) then arrives before the batch that
// reads it, across the 4 KiB page boundaries where the hardware
// prefetcher stops, and a destination line not cached elsewhere arrives
// owned, so the batch's stores do not wait for it (Go's assembler has no
// PREFETCHW). A prefetch never faults and reads nothing into registers,
// so one past the end of src or dst (into whatever follows them) is
// harmless. Measured on the 64 MiB stream encryption and decryption
// (interleaved runs): the source's about 10% on encryption, the
// destination's 4-15% more on both; 2 and 4 KiB ahead did the same.
const gcmPrefetch = 2048

// The registers of the interleaved GHASH (numbers, zmm): Z0-Z7 hold the
// counter blocks and Z16-Z30 the round keys; Z9 is also the base of the
// counter blocks (gcmCtrBlocks) and Z10 their byte-reversal mask, which
// GHASH shares.
const (
	gD   = 8  // the data register being multiplied (the first of a pair)
	gMsk = 10 // byte reversal (loaded once)
	gSt  = 15 // the GHASH state (xmm, upper lanes zero)
	gPow = 31 // the tail: the powers of the register being multiplied
	gD1  = 31 // the batches: the second data register of a pair
)

// gcmPoly returns GHASH's reduction constant in each lane of a zmm
// register (a static symbol of the file, made by the first call).
func gcmPoly() Mem {
	if smGhashPoly == nil {
		m := GLOBL("smGhashPoly", RODATA|NOPTR)
		for l := 0; l < 4; l++ {
			DATA(16*l, U64(1))
			DATA(16*l+8, U64(0xc200000000000000))
		}
		smGhashPoly = &m
	}
	return *smGhashPoly
}

var smGhashPoly *Mem

var gcmRegs = ghashgen.Regs{Lo: 11, Hi: 12, Mid: 13, T0: 9, T1: 14, T2: 9, T3: -1, T4: -1, St: gSt, Msk: gMsk}

func gcm() {
	TEXT("sealedGCM", NOSPLIT, fmt.Sprintf("func(region %s, h *Handle, dst, src []byte, ctr, tagMask *[16]byte, t *GHASHTable, acc, lens *[16]byte, flags, path int) bool", regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(docGCM)...)
	poly := gcmPoly()
	m := ghashgen.Mul{Ops: ghashgen.Ops{Enc: ghashgen.EVEX}, Regs: gcmRegs, Bytes: 64, Poly: poly}
	reject, early := label("reject"), label("rejectEarly")
	arm()
	args("h", true)
	checkLen(early)
	CMPQ(R8, U8(vaes512.id))
	JNE(early)
	unwrapKeys(false, early, reject)
	Comment("R13:R12 = the big-endian counter as an integer; *tagMask = E(*ctr).")
	Load(Param("ctr"), RAX)
	MOVQ(Mem{Base: RAX, Disp: 8}, R12)
	BSWAPQ(R12)
	MOVQ(Mem{Base: RAX}, R13)
	BSWAPQ(R13)
	MOVOU(Mem{Base: RAX}, X0)
	regBatch.crypt(false)
	Load(Param("tagMask"), R9)
	MOVOU(X0, Mem{Base: R9})
	MOVQ(U32(kernel.ModeInc32), R14)
	inc32(func() { INCL(EAX) })
	vaes512.setup(false)
	Comment("SI = the GHASH table, DI = acc (the handle and region are done with).")
	Load(Param("t"), RSI)
	Load(Param("acc"), RDI)
	load(vex, bswap, zr[gMsk])
	VMOVDQU(Mem{Base: RDI}, xr[gSt])
	m.Shuf(gSt, 16)
	Load(Param("src").Len(), R10)
	gcmCrypt(m)
	skip := label("gcmNoLens")
	Load(Param("lens"), RAX)
	TESTQ(RAX, RAX)
	JZ(skip)
	gcmLengthBlock(poly, Mem{Base: RAX})
	here(skip)
	m.Shuf(gSt, 16)
	VMOVDQU(xr[gSt], Mem{Base: RDI})
	epilogue("", usage{vec: 64, mask: true}, "", nil, resTrue)
	epilogue(reject, usage{vec: 16}, early, nil, resFalse)
}

// gcmCrypt runs GCM over one message of R10 bytes from BX (src) to DX
// (dst), the counter R13:R12 at inc32(J0) with R14 = ModeInc32, the
// round keys in Z16-Z30, the byte reversal in Z10, the table at SI and
// the GHASH state (byte-reversed) in X15: the batches, then the tail,
// each absorbed into the state. The direction comes from the flags
// argument. It ends where the state holds the GHASH of the ciphertext.
func gcmCrypt(m ghashgen.Mul) {
	Comment("R10 = the bytes after the whole batches (the tail), CX = the batches.")
	MOVQ(R10, RCX)
	ANDQ(U32(16*gcmBatch-1), R10)
	SHRQ(U8(9), RCX)
	Load(Param("flags"), RAX)
	TESTQ(U32(kernel.ModeDecrypt), RAX)
	dec, done := label("gcmDec"), label("gcmDone")
	tailPlain, encUnits := label("gcmTailPlain"), label("gcmEncUnits")
	JNZ(dec)

	Comment("Encryption: the first batch alone, then each batch with the GHASH of the one before.")
	TESTQ(RCX, RCX)
	JZ(tailPlain)
	gcmBatchAES(m, nil, false)
	DECQ(RCX)
	encLoop, encLast, encTail := label("gcmEncLoop"), label("gcmEncLast"), label("gcmEncTail")
	loopHead(encLoop)
	TESTQ(RCX, RCX)
	JZ(encLast)
	gcmBatchAES(m, &Mem{Base: RDX, Disp: -16 * gcmBatch}, false)
	DECQ(RCX)
	JMP(encLoop)
	here(encLast)
	TESTQ(R10, R10)
	JNZ(encTail)
	for i := 0; i <= 8; i++ {
		gcmHashStep(m, Mem{Base: RDX, Disp: -16 * gcmBatch}, i)
	}
	JMP(done)
	Comment("The tail's keystream with the GHASH of the last batch.")
	here(encTail)
	gcmBatchAES(m, &Mem{Base: RDX, Disp: -16 * gcmBatch}, true)
	JMP(encUnits)

	Comment("Decryption: each batch with the GHASH of its own ciphertext.")
	here(dec)
	decLoop := label("gcmDecLoop")
	loopHead(decLoop)
	TESTQ(RCX, RCX)
	JZ(tailPlain)
	gcmBatchAES(m, &Mem{Base: RBX}, false)
	DECQ(RCX)
	JMP(decLoop)

	Comment("The tail's keystream alone (no batch before it, or decryption).")
	here(tailPlain)
	TESTQ(R10, R10)
	JZ(done)
	gcmBatchAES(m, nil, true)
	decUnits := label("gcmDecUnits")
	Load(Param("flags"), RAX)
	TESTQ(U32(kernel.ModeDecrypt), RAX)
	JNZ(decUnits)
	here(encUnits)
	gcmTailUnits(m, false, done)
	here(decUnits)
	gcmTailUnits(m, true, done)

	here(done)
}

// gcmBatchAES runs one batch: 32 counter blocks through AES, XORed with
// src into dst, the cursors and the counter advanced; with hash, the GHASH
// of the 32 blocks at *hash interleaved with the rounds, and the source
// and destination gcmPrefetch bytes ahead prefetched. With tail, it
// stops after the rounds: the keystream of the tail is left in Z0-Z7 for
// gcmTailUnits.
func gcmBatchAES(m ghashgen.Mul, hash *Mem, tail bool) {
	rs := regs(batchRegs, 64)
	gcmCtrBlocks(rs)
	b := vaes512.batch(rs...)
	byKeyType(roundOrder, "", b.encPrefix)
	for s := common; s < 14; s++ {
		b.round(opEnc, s)
		if i := s - common; !tail && i < batchRegs {
			PREFETCHT0(Mem{Base: RBX, Disp: gcmPrefetch + 64*i})
			PREFETCHT0(Mem{Base: RDX, Disp: gcmPrefetch + 64*i})
		}
		if hash != nil {
			gcmHashStep(m, *hash, s-common)
		}
	}
	b.round(opEncLast, 14)
	if tail {
		return
	}
	for i, r := range rs {
		xorData(vex, Mem{Base: RBX, Disp: i * 64}, r)
	}
	storeRegs(vex, RDX, rs)
	advance(16 * gcmBatch)
	ctrAdvance(imm(gcmBatch))
}

// gcmCtrBlocks sets Z0-Z7 to the batch's 32 counter blocks, as
// ctrBlocks does. When the counter's last byte is at most 256-gcmBatch,
// no block of the batch carries out of that byte: the counter is
// byte-reversed once (X9, broadcast to Z9) and the offsets are added to
// the last byte of the big-endian blocks (addBE), one VPSHUFB for the
// batch instead of one per register. Otherwise (one batch in 8) ctrBlocks
// adds in the integer form, where a carry from the last byte (within the
// low 32 bits, inc32) propagates.
func gcmCtrBlocks(rs []VecPhysical) {
	slow, done := label("gcmCtrCarry"), label("gcmCtrDone")
	CMPB(R12B, U8(256-gcmBatch))
	JA(slow)
	VMOVQ(R12, X9)
	VPINSRQ(U8(1), R13, X9, X9)
	VPSHUFB(X10, X9, X9)
	VSHUFI64X2(U8(0), Z9, Z9, Z9)
	for i, r := range rs {
		VPADDD(addBE.Offset(64*i), Z9, r)
	}
	JMP(done)
	here(slow)
	ctrBlocks(vaes512, rs)
	here(done)
}

// gcmHashStep is step i of the GHASH of the 32 blocks at data, the
// registers taken in pairs (ghashgen's MulAcc2, the powers read from the
// table as memory operands): i = 2k loads and byte-reverses registers 2k
// and 2k+1 (blocks 8k..8k+7, the first XORed with the state) and
// multiplies them by H^(32-8k) .. H^(25-8k) for the low and high
// products, i = 2k+1 the middle ones; i = 8 reduces into the state.
func gcmHashStep(m ghashgen.Mul, data Mem, i int) {
	if i == 8 {
		m.FoldWide()
		return
	}
	k := i / 2
	if i%2 == 0 {
		for j, r := range []int{gD, gD1} {
			d := data
			d.Disp += 64 * (2*k + j)
			m.Load(d, r, 64)
			m.Shuf(r, 64)
		}
		if k == 0 {
			m.Xor(gD, gSt, 64)
		}
	}
	pow := func(j int) Mem { return Mem{Base: RSI, Disp: kernel.GHASHTablePow + 64*(2*k+j)} }
	m.MulAcc2(i%2, k == 0, gD, gD1, pow(0), pow(1))
}

// gcmTailUnits finishes the tail of R10 bytes (1 to 16*gcmBatch-1) whose
// keystream is in Z0-Z7: register i takes the tail's bytes 64i to 64i+63
// that exist, loaded and stored under the byte mask K1 (nothing outside
// src and dst is read or written), and its ciphertext, zero past the end
// (GCM pads the last block with zeros), is multiplied by the powers of H
// for its blocks: with n blocks in the tail, block j by H^(n-j), read from
// the table at R9 = &H^n. A register whose blocks stop before its end
// reads powers past H^1, still inside the table, for its zero lanes. One
// reduction for the whole tail, then it jumps to done. The keystream of
// the registers past the tail is not used (the epilogue zeroes it).
func gcmTailUnits(m ghashgen.Mul, decrypt bool, done LabelRef) {
	// The last register of a tail reads at most 48 bytes past H^1.
	if kernel.GHASHTableSize < kernel.GHASHTablePow+16*kernel.GHASHPowers+48 {
		panic("gcmTailUnits: the GHASH table ends too soon after H^1")
	}
	if decrypt {
		Comment("Decryption tail: the ciphertext is hashed as loaded (before dst, maybe src, is written).")
	} else {
		Comment("Encryption tail: the ciphertext is hashed as stored.")
	}
	Comment("R9 = &H^n, n = ceil(R10/16) the blocks of the tail; R8 = all ones.")
	LEAQ(Mem{Base: R10, Disp: 15}, R9)
	ANDQ(I8(-16), R9)
	NEGQ(R9)
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 1, Disp: kernel.GHASHTablePow + 16*kernel.GHASHPowers}, R9)
	MOVQ(I32(-1), R8)
	fold := label("gcmTailFold")
	for i := 0; i < batchRegs; i++ {
		ks := zr[i]
		d := zr[gD]
		Commentf("Register %d: K1 = the first min(R10, 64) bytes.", i)
		MOVQ(R10, RCX)
		MOVQ(I32(-1), RAX)
		SHLQ(CL, RAX)
		NOTQ(RAX)
		CMPQ(R10, U8(64))
		CMOVQCC(R8, RAX)
		KMOVQ(RAX, K1)
		VMOVDQU8_Z(Mem{Base: RBX, Disp: 64 * i}, K1, d)
		if decrypt {
			VPXORQ(d, ks, ks)
			VMOVDQU8(ks, K1, Mem{Base: RDX, Disp: 64 * i})
		} else {
			VPXORQ(ks, d, d)
			VMOVDQU8_Z(d, K1, d)
			VMOVDQU8(d, K1, Mem{Base: RDX, Disp: 64 * i})
		}
		m.Shuf(gD, 64)
		if i == 0 {
			m.Xor(gD, gSt, 64)
		}
		m.Load(Mem{Base: R9, Disp: 64 * i}, gPow, 64)
		m.MulAcc(64, i == 0, gD, ghashgen.R(gPow, 64))
		if i < batchRegs-1 {
			SUBQ(U8(64), R10)
			JBE(fold)
		}
	}
	here(fold)
	m.FoldWide()
	JMP(done)
}

// gcmLengthBlock absorbs the length block at lens into the state: one
// block multiplied by H^1 and reduced (GCM's length block, which ends the
// GHASH of a message: its own GHASH call would cost more than the block).
// The power goes in X0 (VEX loads reach X0-X15 only; the keystream is
// done with).
func gcmLengthBlock(poly Mem, lens Mem) {
	m := ghashgen.Mul{Ops: ghashgen.Ops{Enc: ghashgen.EVEX}, Regs: gcmRegs, Bytes: 16, Poly: poly}
	m.Load(lens, gD, 16)
	m.Shuf(gD, 16)
	m.Xor(gD, gSt, 16)
	m.Load(Mem{Base: RSI, Disp: kernel.GHASHTablePow + 16*(kernel.GHASHPowers-1)}, 0, 16)
	m.MulAcc(16, true, gD, ghashgen.R(0, 16))
	m.Fold()
}

// gcmMessages is sealedGCM over many messages under one key: one unwrap
// for all of them. Each descriptor (internal/kernel's GCMMsg* layout)
// gives a message's dst, src, length, J0, GHASH state and length block;
// the message runs as sealedGCM's body, then its length block, and the
// tag GHASH ^ E(J0) replaces the state in the descriptor. E(J0) is
// computed in Z0 after the message (the keystream registers are free
// then) and never stored on its own.
func gcmMessages() {
	TEXT("sealedGCMMessages", NOSPLIT, fmt.Sprintf("func(region %s, h *Handle, msgs *GCMMessage, n int, t *GHASHTable, flags, path int) bool", regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(docGCMMessages)...)
	poly := gcmPoly()
	m := ghashgen.Mul{Ops: ghashgen.Ops{Enc: ghashgen.EVEX}, Regs: gcmRegs, Bytes: 64, Poly: poly}
	reject, early, none := label("reject"), label("rejectEarly"), label("noMessages")
	arm()
	Load(Param("region"), RDI)
	Load(Param("h"), RSI)
	Load(Param("path"), R8)
	CMPQ(R8, U8(vaes512.id))
	JNE(early)
	unwrapKeys(false, early, reject)
	vaes512.setup(false)
	Comment("SI = the GHASH table, DI = the descriptor (the handle and region are done with).")
	Load(Param("t"), RSI)
	Load(Param("msgs"), RDI)
	load(vex, bswap, zr[gMsk])
	n, err := Param("n").Resolve()
	if err != nil {
		panic(err)
	}
	CMPQ(n.Addr, U8(0))
	JLE(none)
	msg := label("gcmMessage")
	loopHead(msg)
	d := func(off int) Mem { return Mem{Base: RDI, Disp: off} }
	Comment("The message: BX = src, DX = dst, R10 = its bytes, R13:R12 = inc32(J0), X15 = its GHASH state.")
	MOVQ(d(kernel.GCMMsgSrc), RBX)
	MOVQ(d(kernel.GCMMsgDst), RDX)
	MOVQ(d(kernel.GCMMsgLen), R10)
	MOVQ(d(kernel.GCMMsgJ0+8), R12)
	BSWAPQ(R12)
	MOVQ(d(kernel.GCMMsgJ0), R13)
	BSWAPQ(R13)
	MOVQ(U32(kernel.ModeInc32), R14)
	inc32(func() { INCL(EAX) })
	VMOVDQU(d(kernel.GCMMsgAcc), xr[gSt])
	m.Shuf(gSt, 16)
	gcmCrypt(m)
	gcmLengthBlock(poly, d(kernel.GCMMsgLens))
	m.Shuf(gSt, 16)
	Comment("The tag: the state XOR E(J0), J0 encrypted in Z0 with the round keys in Z16-Z30.")
	VMOVDQU(d(kernel.GCMMsgJ0), X0)
	vaes512.batch(Z0).crypt(false)
	VPXOR(X0, xr[gSt], xr[gSt])
	VMOVDQU(xr[gSt], d(kernel.GCMMsgAcc))
	ADDQ(U8(kernel.GCMMsgSize), RDI)
	DECQ(n.Addr)
	JNZ(msg)
	here(none)
	epilogue("", usage{vec: 64, mask: true}, "", nil, resTrue)
	epilogue(reject, usage{vec: 16}, early, nil, resFalse)
}
