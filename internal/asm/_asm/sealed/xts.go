package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"

	"github.com/go-keylocker/keylocker/internal/kernel"
)

// XTS. The tweak T (E(*tweak) under hTweak, or *tweak) waits in the stack
// area at tweakSlot while the data handle is unwrapped; block i uses T*x^i
// (IEEE 1619: little-endian, x^128 = x^7+x^2+x+1). The xmm path keeps the
// 8 tweaks of a batch at tweakBatch, the ymm path the 8 tweak pairs there
// (both wiped before return): a ymm batch starts with Y9 = (T_i, T_i+1)
// and Y13-Y15 = Y9 * x^2, x^4, x^6, its registers 4-7 come from those by
// a whole byte (mulBytes), the next batch's four by two bytes. The zmm
// path keeps the 8 tweak quadruples in Z8-Z15: a batch starts with Z31 =
// (T_i .. T_(i+3)) and Z9 = Z31 * x^4, Z8 = Z31, the others come from Z8
// and Z9 by whole bytes, and so do the next batch's Z31 and Z9. The tweaks
// of the batches (and of a sector's start, mulLanes) are computed on port
// 5 (byte shifts, VPCLMULQDQ) and with XORs, off the ports of the AES
// rounds (port 0 on zmm, 0 and 1 on ymm): a tweak chain waiting there would
// wait for the rounds issued before it, and at every sector's start in
// SealedXTSSectors the rounds would wait for the chain. (The tails, pairs
// and single blocks, double with qword shifts: dbl, mulX.)

const (
	tweakSlot  = 240 // the tweak T
	tweakBatch = 256 // a batch's tweaks (xmm: 8 x 16 bytes, ymm: 8 x 32)
	xtsFrame   = 528 // tweakBatch + 256 bytes, + 15 to align
)

var xtsSpan = span{tweakSlot, tweakBatch + 8*32}

func xts() {
	TEXT("SealedXTS", NOSPLIT, fmt.Sprintf("func(region %s, h, hTweak *Handle, dst, src []byte, tweak *[16]byte, flags, path int) bool", regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(docXTS)...)
	AllocLocal(xtsFrame)
	reject, early, noBlocks := label("reject"), label("rejectEarly"), label("noBlocks")
	plain, haveT := label("plainT"), label("haveT")
	xtsPrologue("", early)
	Comment("T = E(*tweak) with the key of hTweak (always encryption), or *tweak.")
	Load(Param("hTweak"), RSI)
	TESTQ(RSI, RSI)
	JZ(plain)
	unwrapKeys(false, reject, reject)
	Load(Param("tweak"), RAX)
	MOVOU(Mem{Base: RAX}, X0)
	regBatch.crypt(false)
	JMP(haveT)
	here(plain)
	Load(Param("tweak"), RAX)
	MOVOU(Mem{Base: RAX}, X0)
	here(haveT)
	MOVO(X0, Mem{Base: R10, Disp: tweakSlot})
	Load(Param("h"), RSI)
	dataKey(reject)
	TESTQ(RCX, RCX)
	JZ(noBlocks)
	dispatchPaths(vaes512, vaes256)
	for _, p := range paths {
		xtsPath(p, false)
	}
	Comment("No blocks: *tweak = T.")
	here(noBlocks)
	Load(Param("tweak"), RAX)
	MOVO(Mem{Base: R10, Disp: tweakSlot}, X0)
	MOVOU(X0, Mem{Base: RAX})
	epilogue("", usage{vec: 16, wipe: []span{{tweakSlot, tweakSlot + 16}}}, "", nil, resTrue)
	epilogue(reject, usage{vec: 16, wipe: []span{{tweakSlot, tweakSlot + 16}}}, early, nil, resFalse)
}

// dbl: t = t*x (SSE or VEX on xmm), tmp scratch.
func dbl(e encoding, t, tmp VecPhysical) {
	if e == sse {
		PSHUFD(U8(0x13), t, tmp)
		PSRAL(U8(31), tmp)
		PAND(xtsMask, tmp)
		PADDQ(t, t)
		PXOR(tmp, t)
		return
	}
	VPSHUFD(U8(0x13), t, tmp)
	VPSRAD(U8(31), tmp, tmp)
	VPAND(xtsMask, tmp, tmp)
	VPADDQ(t, t, t)
	VPXOR(tmp, t, t)
}

// mulX: d = s * x^k in each 128-bit lane (1 <= k <= 56): the k bits
// shifted out of the top of each qword are multiplied by 0x87 with
// VPCLMULQDQ (the high qword's) or moved into the high qword (the low
// qword's). s == d is allowed; t1, t2 scratch.
func mulX(k int, s, d, t1, t2 VecPhysical) {
	VPSRLQ(U8(64-k), s, t1)
	VPCLMULQDQ(U8(0x01), gfPoly, t1, t2)
	VPSLLDQ(U8(8), t1, t1)
	VPSLLQ(U8(k), s, d)
	if size(d) == 64 {
		VPTERNLOGD(U8(0x96), t2, t1, d)
		return
	}
	VPXOR(t1, d, d)
	VPXOR(t2, d, d)
}

// mulLanes: d = t * c in each 128-bit lane, c the lanes' factors x^k
// (0 <= k <= 63) in their low qwords (xtsPow): both halves of t
// multiplied by x^k with VPCLMULQDQ, the bits past x^127 folded back
// times 0x87. All on port 5 but the final XOR(s). t1, t2 scratch; d
// differs from t.
func mulLanes(c Mem, t, d, t1, t2 VecPhysical) {
	VPCLMULQDQ(U8(0x00), c, t, d)
	VPCLMULQDQ(U8(0x01), c, t, t1)
	VPCLMULQDQ(U8(0x01), gfPoly, t1, t2)
	VPSLLDQ(U8(8), t1, t1)
	if evex(d, t1, t2) {
		VPTERNLOGD(U8(0x96), t2, t1, d)
		return
	}
	VPXOR(t1, d, d)
	VPXOR(t2, d, d)
}

// mulBytes: d = s * x^(8k) in each 128-bit lane (1 <= k <= 7) with byte
// shifts only: the top k bytes of each lane times 0x87 (VPCLMULQDQ; the
// product fits in the low qword) XORed into the lane shifted up by k
// bytes. On Intel the byte shifts and VPCLMULQDQ run on port 5, leaving
// the AES rounds' ports (0 on zmm, 0 and 1 on ymm) to them (qword shifts
// would take those). s == d is allowed; t1, t2 scratch.
func mulBytes(k int, s, d, t1, t2 VecPhysical) {
	VPSRLDQ(U8(16-k), s, t1)
	VPCLMULQDQ(U8(0x00), gfPoly, t1, t2)
	VPSLLDQ(U8(k), s, d)
	xorInto(vex, t2, d)
}

// xtsPath writes p's XTS loop. With sectors, it runs once per sector
// (R13 sectors left, R12 the sector's encrypted tweak, sectorSize/16 blocks
// each) and the routine returns nothing but its result; else it runs over
// CX blocks from the tweak at tweakSlot and stores the next tweak to
// *tweak.
func xtsPath(p *path, sectors bool) {
	if p.label != "" {
		here(p.label)
	}
	Commentf("%s: %s", p.name, pathComment(p))
	e := p.enc
	p.setup(false)
	l := newLoopLabels(p)
	sector := label(p.name + "Sector")
	if sectors {
		Comment("Each sector: T = its encrypted tweak (R12), CX = its blocks.")
		here(sector)
		if p == aesni {
			load(e, Mem{Base: R12}, X9)
			store(e, X9, Mem{Base: R10, Disp: tweakSlot})
		}
		Load(Param("sectorSize"), RCX)
		SHRQ(U8(4), RCX)
	}
	// Where the tweak T is: the ymm and zmm paths of the sectors broadcast
	// it straight from the caller's tweaks (no store and reload on the
	// sector's critical path).
	tw := Mem{Base: R10, Disp: tweakSlot}
	if sectors {
		tw = Mem{Base: R12}
	}
	// The tweak registers: xmm X9 = T_i; ymm Y9 = (T_i, T_i+1) (and in
	// the main loop Y13-Y15 = Y9 * x^2, x^4, x^6); zmm Z31 = (T_i ..
	// T_i+3) and Z9 = (T_i+4 .. T_i+7).
	switch p {
	case aesni:
		MOVO(Mem{Base: R10, Disp: tweakSlot}, X9)
	case vaes256:
		// T in both lanes of Y10, then lane k times x^k.
		VBROADCASTI128(tw, Y10)
		mulLanes(xtsPow, Y10, Y9, Y11, Y12)
		skip := label("noBatch")
		Comment("A batch ahead: Y13-Y15 = the tweak pairs of its registers 1-3.")
		CMPQ(RCX, imm(p.main()))
		JB(skip)
		for i, y := range []VecPhysical{Y13, Y14, Y15} {
			mulLanes(xtsPow.Offset(32*(i+1)), Y10, y, Y11, Y12)
		}
		here(skip)
	case vaes512:
		// T in every lane of Z10, then Z31 and Z9 from it, lane k times
		// x^k and x^(k+4): two independent chains of two multiplications,
		// off port 0 (see above).
		VBROADCASTI32X4(tw, Z10)
		mulLanes(xtsPow, Z10, Z31, Z11, Z12)
		mulLanes(xtsPow.Offset(64), Z10, Z9, Z13, Z14)
	}
	crypt := func(b batch) {
		byDirection(func() { b.crypt(false) }, func() { b.crypt(true) })
	}
	batch := func(rs []VecPhysical, n int) {
		// The tweak of register i: xmm/ymm at tweakBatch + i*vec(R10),
		// zmm in Z(8+i).
		saved := func(i int) Op {
			if p.keys == keysZ {
				return zr[8+i]
			}
			return Mem{Base: R10, Disp: tweakBatch + i*size(rs[0])}
		}
		switch p {
		case aesni:
			for i, r := range rs {
				load(e, Mem{Base: RBX, Disp: 16 * i}, r)
				PXOR(X9, r)
				MOVO(X9, saved(i).(Mem))
				dbl(e, X9, X10)
			}
		case vaes256:
			// Register i's tweaks are Y9 * x^2i. A pair (one register)
			// keeps them in Y9, a batch in the stack area: registers 0-3
			// from Y9 and Y13-Y15, the others from them by a whole byte,
			// then the four of the next batch (x^16, two bytes).
			VPXOR(Mem{Base: RBX}, Y9, rs[0])
			if len(rs) > 1 {
				if len(rs) != batchRegs {
					panic("xts: a ymm batch is a pair or 8 registers")
				}
				base := []VecPhysical{Y9, Y13, Y14, Y15}
				VMOVDQU(Y9, saved(0).(Mem))
				for i, r := range rs[1:] {
					t := base[(i+1)%4]
					if i+1 >= 4 {
						mulBytes(1, t, Y10, Y11, Y12)
						t = Y10
					}
					VPXOR(Mem{Base: RBX, Disp: 32 * (i + 1)}, t, r)
					VMOVDQU(t, saved(i+1).(Mem))
				}
				for _, b := range base {
					mulBytes(2, b, b, Y11, Y12)
				}
			}
		case vaes512:
			// Register i's tweaks are Z31 * x^4i: register 0's Z31,
			// register 1's Z9 (already), the others from them by whole
			// bytes (x^8 per two registers), all in parallel; the next
			// batch's Z31 and Z9 follow after the stores.
			if len(rs)%2 != 0 || len(rs) > 14 {
				panic("xts: a zmm batch is an even number of registers, at most 14")
			}
			VMOVDQA64(Z31, Z8)
			for i := 2; i < len(rs); i++ {
				mulBytes(i/2, zr[8+i%2], zr[8+i], Z0, Z1)
			}
			loadRegs(e, RBX, rs)
		}
		b := p.batch(rs...)
		if p == vaes512 {
			// The tweaks go in with the first round key.
			b.add = zr[8 : 8+len(rs)]
		}
		crypt(b)
		if p == vaes256 && len(rs) == 1 {
			// A pair: the tweaks are still in Y9.
			VPXOR(Y9, Y0, Y0)
			VMOVDQU(Y0, Mem{Base: RDX})
			mulX(2, Y9, Y9, Y11, Y12)
		} else {
			for i, r := range rs {
				if p.keys == keysZ {
					VPXORQ(saved(i), r, r)
				} else {
					xorInto(e, saved(i), r)
				}
			}
			storeRegs(e, RDX, rs)
			if p == vaes512 {
				// The next batch's Z31 and Z9; a sector's last batch has
				// none.
				skip := label("lastBatch")
				if sectors {
					CMPQ(RCX, imm(n))
					JEQ(skip)
				}
				mulBytes(len(rs)/2, Z8, Z31, Z0, Z1)
				mulBytes(len(rs)/2, Z9, Z9, Z0, Z1)
				if sectors {
					here(skip)
				}
			}
		}
		advance(16 * n)
		SUBQ(imm(n), RCX)
	}
	one := func() {
		if e == sse {
			MOVOU(Mem{Base: RBX}, X0)
			PXOR(X9, X0)
		} else {
			VPXOR(Mem{Base: RBX}, X9, X0)
		}
		crypt(p.batch(X0))
		xorInto(e, X9, X0)
		store(e, X0, Mem{Base: RDX})
		dbl(e, X9, X10)
		advance(16)
		DECQ(RCX)
		JNZ(l.one)
	}
	units := func() {
		Comment("Units of up to 4 blocks in Z0 under the mask K1 (R9 = n) with the tweaks Z31;")
		Comment("after a unit of 4 Z31 *= x^4, after the last partial unit of n < 4 the next")
		Comment("tweak is lane 0 of Z31 doubled n times.")
		un, end, part, partDbl := label("unit"), label("tweakEnd"), label("partial"), label("partialDbl")
		TESTQ(RCX, RCX)
		JZ(end)
		unitCount(un, true)
		here(un)
		unitMask()
		VMOVDQU64_Z(Mem{Base: RBX}, K1, Z0)
		VPXORQ(Z31, Z0, Z0)
		crypt(p.batch(Z0))
		VPXORQ(Z31, Z0, Z0)
		VMOVDQU64(Z0, K1, Mem{Base: RDX})
		CMPQ(R9, U8(unitBlocks))
		JB(part)
		mulX(4, Z31, Z31, Z1, Z2)
		advance(64)
		SUBQ(U8(unitBlocks), RCX)
		JMP(l.tail)
		here(part)
		if sectors {
			Comment("The sector's last unit: move the cursors past it (the next")
			Comment("sector brings its own tweak).")
			SHLQ(U8(4), R9)
			ADDQ(R9, RBX)
			ADDQ(R9, RDX)
			JMP(l.done)
		}
		VEXTRACTI32X4(U8(0), Z31, X9)
		here(partDbl)
		dbl(e, X9, X10)
		DECQ(R9)
		JNZ(partDbl)
		JMP(l.done)
		here(end)
		VEXTRACTI32X4(U8(0), Z31, X9)
	}
	blockLoop(p, l, batch, one, units)
	here(l.done)
	if sectors {
		ADDQ(U8(16), R12)
		DECQ(R13)
		JNZ(sector)
	} else {
		Comment("*tweak = the next block's tweak.")
		Load(Param("tweak"), RAX)
		store(e, X9, Mem{Base: RAX})
	}
	u := p.usage()
	if p.keys == keysZ {
		u.wipe = []span{{tweakSlot, tweakSlot + 16}}
	} else {
		u.wipe = append(u.wipe, xtsSpan)
	}
	epilogue("", u, "", nil, resTrue)
}

// xtsSectors writes SealedXTSSectors: the data key unwrapped once for a run
// of sectors whose tweaks the caller encrypted (one ECB call with the
// tweak handle), then each sector's blocks as in SealedXTS.
func xtsSectors() {
	TEXT("SealedXTSSectors", NOSPLIT, fmt.Sprintf("func(region %s, h *Handle, dst, src []byte, tweaks *byte, sectorSize, flags, path int) bool", regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(docXTSSectors)...)
	AllocLocal(xtsFrame)
	reject, early, noBlocks := label("reject"), label("rejectEarly"), label("noBlocks")
	xtsPrologue("h", early)
	dataKey(reject)
	Comment("R13 = the number of sectors, R12 = their tweaks. A sector size that is")
	Comment("not a positive multiple of 16 dividing len(src) is refused.")
	TESTQ(RCX, RCX)
	JZ(noBlocks)
	MOVQ(RCX, RAX)
	SHLQ(U8(4), RAX)
	XORL(EDX, EDX)
	Load(Param("sectorSize"), R9)
	TESTQ(U32(15), R9)
	JNZ(reject)
	TESTQ(R9, R9)
	JZ(reject)
	DIVQ(R9)
	TESTQ(RDX, RDX)
	JNZ(reject)
	MOVQ(RAX, R13)
	Load(Param("dst").Base(), RDX)
	Load(Param("tweaks"), R12)
	dispatchPaths(vaes512, vaes256)
	for _, p := range paths {
		xtsPath(p, true)
	}
	here(noBlocks)
	epilogue("", usage{vec: 16, wipe: []span{spillSpan, xtsSpan}}, "", nil, resTrue)
	epilogue(reject, usage{vec: 16, wipe: []span{spillSpan, xtsSpan}}, early, nil, resFalse)
}

// xtsPrologue: the arm hook, the arguments (h into SI if named), flags'
// direction bit (R14) and the path (R8), the length check (to early) and
// the aligned stack area (R10).
func xtsPrologue(h string, early LabelRef) {
	arm()
	args(h, false)
	Load(Param("flags"), R14)
	Load(Param("path"), R8)
	checkLen(early)
	ANDQ(U8(kernel.ModeDecrypt), R14)
	alignSpill()
}

// dataKey unwraps the data handle at SI for the direction of flags (R14),
// or jumps to reject.
func dataKey(reject LabelRef) {
	dec, keys := label("decKeys"), label("keys")
	Comment("The data key, for the direction of flags.")
	TESTQ(R14, R14)
	JNZ(dec)
	unwrapKeys(false, reject, reject)
	JMP(keys)
	here(dec)
	unwrapKeys(true, reject, reject)
	here(keys)
}
