package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"

	"github.com/go-keylocker/keylocker/internal/kernel"
)

// CTR (and GCM's CTR). The counter is R13:R12 as a 128-bit integer; the
// vector code adds the block offsets in 32-bit lanes (VPADDD of addTab), so
// a batch that would carry out of the low 32 bits in full-increment mode
// takes single blocks (ctrCheck) until it is past the carry.

func ctr() {
	TEXT("sealedCTR", NOSPLIT, fmt.Sprintf("func(region %s, h *Handle, dst, src []byte, ctr, tagMask *[16]byte, flags, path int) bool", regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(docCTR)...)
	AllocLocal(spillFrame)
	reject, early, regsDone, run := label("reject"), label("rejectEarly"), label("regsDone"), label("run")
	arm()
	args("h", false)
	Load(Param("flags"), R14)
	Load(Param("path"), R8)
	checkLen(early)
	ANDQ(U8(kernel.ModeInc32), R14)
	unwrapKeys(false, early, reject)
	Comment("R13:R12 = the big-endian counter as an integer.")
	Load(Param("ctr"), RAX)
	MOVQ(Mem{Base: RAX, Disp: 8}, R12)
	BSWAPQ(R12)
	MOVQ(Mem{Base: RAX}, R13)
	BSWAPQ(R13)
	Load(Param("tagMask"), R9)
	TESTQ(R9, R9)
	JZ(run)
	Comment("GCM: *tagMask = E(*ctr), then inc32 from inc32(*ctr).")
	MOVOU(Mem{Base: RAX}, X0)
	regBatch.crypt(false)
	MOVOU(X0, Mem{Base: R9})
	MOVQ(U32(kernel.ModeInc32), R14)
	inc32(func() { INCL(EAX) })
	here(run)
	TESTQ(RCX, RCX)
	JZ(regsDone)
	dispatchPaths(vaes512, vaes256)
	for _, p := range paths {
		ctrPath(p)
		if p == aesni {
			epilogue(regsDone, usage{vec: 16}, "", storeCounter, resTrue)
		}
	}
	epilogue(reject, usage{vec: 16}, early, nil, resFalse)
}

// storeCounter: *ctr = R13:R12 big-endian, unless GCM (tagMask != nil).
func storeCounter() {
	skip := label("gcm")
	Load(Param("tagMask"), R9)
	TESTQ(R9, R9)
	JNZ(skip)
	Load(Param("ctr"), RAX)
	BSWAPQ(R12)
	BSWAPQ(R13)
	MOVQ(R12, Mem{Base: RAX, Disp: 8})
	MOVQ(R13, Mem{Base: RAX})
	here(skip)
}

// inc32: the low 32 bits of R12 += (add on EAX), mod 2^32.
func inc32(add func()) {
	MOVL(R12L, EAX)
	add()
	SHRQ(U8(32), R12)
	SHLQ(U8(32), R12)
	ORQ(RAX, R12)
}

// ctrAdvance: the counter += n (a constant or R9), over 128 bits or, with
// ModeInc32 in R14, inc32.
func ctrAdvance(n Op) {
	i32, done := label("inc32_"), label("advanced")
	n32 := n
	if n == R9 {
		n32 = R9L
	}
	TESTQ(R14, R14)
	JNZ(i32)
	ADDQ(n, R12)
	ADCQ(U8(0), R13)
	JMP(done)
	here(i32)
	inc32(func() { ADDL(n32, EAX) })
	here(done)
}

// ctrCheck jumps to slow if n+1 blocks from the counter would carry out of
// its low 32 bits in full-increment mode.
func ctrCheck(n int, slow LabelRef) {
	ok := label("noCarry")
	TESTQ(R14, R14)
	JNZ(ok)
	MOVL(R12L, EAX)
	ADDL(U8(n), EAX)
	JCS(slow)
	here(ok)
}

// ctrBlocks sets the registers rs to the counter blocks of the next
// blocks (block j of register i = counter + i*lanes + j), byte-reversed.
// The base counter is built in X8 (xmm) or register 9 (a batch of several
// registers) or the first register itself.
func ctrBlocks(p *path, rs []VecPhysical) {
	if p == aesni {
		MOVQ(R12, X8)
		PINSRQ(U8(1), R13, X8)
		for i, r := range rs {
			MOVO(X8, r)
			if i > 0 {
				PADDD(addTab.Offset(16*i), r)
			}
			PSHUFB(bswap, r)
		}
		return
	}
	v := size(rs[0])
	b := 0
	if len(rs) > 1 {
		b = 9
	}
	VMOVQ(R12, xr[b])
	VPINSRQ(U8(1), R13, xr[b], xr[b])
	if v == 32 {
		VINSERTI128(U8(1), xr[b], yr[b], yr[b])
	} else {
		VSHUFI64X2(U8(0), zr[b], zr[b], zr[b])
	}
	for i, r := range rs {
		VPADDD(addTab.Offset(v*i), vr(b, v), r)
		VPSHUFB(vr(10, v), r, r)
	}
}

// ctrOne: X0 = the counter block (one block).
func ctrOne(p *path) {
	if p == aesni {
		MOVQ(R12, X0)
		PINSRQ(U8(1), R13, X0)
		PSHUFB(bswap, X0)
		return
	}
	VMOVQ(R12, X0)
	VPINSRQ(U8(1), R13, X0, X0)
	VPSHUFB(X10, X0, X0)
}

func ctrPath(p *path) {
	if p.label != "" {
		here(p.label)
	}
	Commentf("%s: %s", p.name, pathComment(p))
	p.setup(true)
	if p != aesni {
		load(p.enc, bswap, vr(10, p.vec))
	}
	l := newLoopLabels(p)
	batch := func(rs []VecPhysical, n int) {
		ctrCheck(n-1, l.one)
		ctrBlocks(p, rs)
		p.batch(rs...).crypt(false)
		for i, r := range rs {
			xorData(p.enc, Mem{Base: RBX, Disp: i * size(r)}, r)
		}
		storeRegs(p.enc, RDX, rs)
		advance(16 * n)
		SUBQ(imm(n), RCX)
		ctrAdvance(imm(n))
	}
	one := func() {
		Comment("One block (also where a batch would carry out of the low 32 counter bits).")
		ctrOne(p)
		p.batch(p.one()).crypt(false)
		xorData(p.enc, Mem{Base: RBX}, X0)
		store(p.enc, X0, Mem{Base: RDX})
		advance(16)
		DECQ(RCX)
		ctrAdvance(U8(1))
		JMP(l.main)
	}
	units := func() {
		Comment("Units of up to 4 blocks in Z0 under the mask K1 (R9 = n).")
		un, ok := label("unit"), label("unitOK")
		TESTQ(RCX, RCX)
		JZ(l.done)
		unitCount(un, true)
		here(un)
		TESTQ(R14, R14)
		JNZ(ok)
		LEAQ(Mem{Base: R9, Disp: -1}, RAX)
		ADDL(R12L, EAX)
		JCS(l.one)
		here(ok)
		unitMask()
		ctrBlocks(p, []VecPhysical{Z0})
		p.batch(Z0).crypt(false)
		VMOVDQU64_Z(Mem{Base: RBX}, K1, Z1)
		VPXORQ(Z1, Z0, Z0)
		VMOVDQU64(Z0, K1, Mem{Base: RDX})
		SUBQ(R9, RCX)
		ctrAdvance(R9)
		SHLQ(U8(4), R9)
		ADDQ(R9, RBX)
		ADDQ(R9, RDX)
		JMP(l.tail)
		here(l.one)
		one()
	}
	blockLoop(p, l, batch, one, units)
	epilogue(l.done, p.usage(), "", storeCounter, resTrue)
}
