package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
)

// CBC.

const cbcSig = "func(region %s, h *Handle, dst, src []byte, iv *[16]byte, flags, path int) bool"

// cbcEncrypt is sequential, one block at a time. The next block's
// plaintext and the first round key are folded into the last round key of
// the current block (AESENCLAST with K_last^K_0^P_(i+1) gives
// C_i^K_0^P_(i+1), the next block's state after its first AddRoundKey), so
// the dependency chain is the AES rounds only. The xmm and ymm paths run
// it with SSE and the spilled schedule, the zmm path with EVEX on xmm and
// the schedule in X16-X30.
func cbcEncrypt() {
	TEXT("SealedCBCEncrypt", NOSPLIT, fmt.Sprintf(cbcSig, regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(docCBCEncrypt)...)
	AllocLocal(spillFrame)
	reject, early, regsDone := label("reject"), label("rejectEarly"), label("regsDone")
	arm()
	args("h", false)
	checkLen(early)
	Load(Param("path"), R8)
	unwrapKeys(false, early, reject)
	TESTQ(RCX, RCX)
	JZ(regsDone)
	dispatchPaths(vaes512)
	cbcEncPath(aesni)
	epilogue(regsDone, usage{vec: 16}, "", nil, resTrue)
	cbcEncPath(vaes512)
	epilogue(reject, usage{vec: 16}, early, nil, resFalse)
}

// cbcEncPath: the loop with p's key source: p == aesni the spilled
// schedule (SSE), else Z16-Z30 (their xmm parts). X0 = the state, X1 = the
// last round key folded, X2 = the next plaintext block ^ K_0, X3 = the
// ciphertext block; K_0 at (R12) or in X31.
func cbcEncPath(p *path) {
	if p.label != "" {
		here(p.label)
	}
	e, regs := p.enc, p == aesni
	k0 := X31
	var key func(s int) Op
	if regs {
		Comment("aesni (and vaes256): the spilled schedule, R12 = &K_0.")
		alignSpill()
		spill()
		MOVQ(R10, R12)
		key = func(s int) Op { return spillSlot(s) }
	} else {
		Comment("vaes512: the schedule in X16-X30 (never in memory), K_0 copied to X31.")
		zbcast()
		key = func(s int) Op { return xr[16+s] }
	}
	Comment("K_0 is slot first of the key size.")
	byKeyType(roundOrder, "", func(k *keySize) {
		if regs {
			if k.first > 0 {
				ADDQ(U8(16*k.first), R12)
			}
			return
		}
		VMOVDQA64(zr[16+k.first], zr[31])
	})
	var k0m Op = k0
	if regs {
		k0m = Mem{Base: R12}
	}
	Load(Param("iv"), RAX)
	Comment("X0 = IV ^ P_0 ^ K_0.")
	if regs {
		MOVOU(Mem{Base: RAX}, X0)
		MOVOU(Mem{Base: RBX}, X2)
		PXOR(X2, X0)
		PXOR(k0m, X0)
	} else {
		VMOVDQU(Mem{Base: RAX}, X0)
		VPXOR(Mem{Base: RBX}, X0, X0)
		VPXORD(k0m, X0, X0)
	}
	loop, last, rounds := label("loop"), label("last"), label("rounds")
	loopHead(loop)
	CMPQ(RCX, U8(1))
	JEQ(last)
	Comment("X2 = P_(i+1) ^ K_0, X1 = X2 ^ K_last.")
	if regs {
		MOVOU(Mem{Base: RBX, Disp: 16}, X2)
		PXOR(k0m, X2)
		MOVO(X2, X1)
		PXOR(key(14), X1)
	} else {
		VPXORD(Mem{Base: RBX, Disp: 16}, k0, X2)
		VPXORD(key(14), X2, X1)
	}
	JMP(rounds)
	here(last)
	if regs {
		PXOR(X2, X2)
		MOVO(key(14), X1)
	} else {
		VPXOR(X2, X2, X2)
		VMOVDQA64(key(14), X1)
	}
	here(rounds)
	Comment("The rounds between K_0 and K_last, entered by key size.")
	lbl := map[*keySize]LabelRef{kAES256: label("k256_"), kAES192: label("k192_"), kAES128: label("k128_")}
	CMPQ(R11, U8(kAES256.kt))
	JEQ(lbl[kAES256])
	JA(lbl[kAES192])
	JMP(lbl[kAES128])
	order := []*keySize{kAES256, kAES192, kAES128}
	for i, k := range order {
		here(lbl[k])
		end := 14
		if i+1 < len(order) {
			end = order[i+1].first + 1
		}
		for s := k.first + 1; s < end; s++ {
			aes(e, opEnc, key(s), X0)
		}
	}
	aes(e, opEncLast, X1, X0)
	if regs {
		MOVO(X0, X3)
		PXOR(X2, X3)
	} else {
		VPXOR(X2, X0, X3)
	}
	store(e, X3, Mem{Base: RDX})
	advance(16)
	DECQ(RCX)
	JNZ(loop)
	store(e, X3, Mem{Base: RAX})
	if regs {
		epilogue("", aesni.usage(), "", nil, resTrue)
	} else {
		epilogue("", usage{vec: 64}, "", nil, resTrue)
	}
}

// cbcDecrypt is parallel: every batch is loaded, decrypted and XORed with
// the previous ciphertext blocks (read from src before anything of the
// batch is written; the last one of the previous batch kept in X9, or in
// lane 3 of Z31 on zmm), then stored, so dst == src works.
func cbcDecrypt() {
	TEXT("SealedCBCDecrypt", NOSPLIT, fmt.Sprintf(cbcSig, regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(docCBCDecrypt)...)
	AllocLocal(spillFrame)
	reject, early, regsDone := label("reject"), label("rejectEarly"), label("regsDone")
	arm()
	args("h", true)
	checkLen(early)
	unwrapKeys(true, early, reject)
	TESTQ(RCX, RCX)
	JZ(regsDone)
	Load(Param("iv"), RAX)
	dispatchPaths(vaes512, vaes256)
	for _, p := range paths {
		cbcDecPath(p)
		if p == aesni {
			epilogue(regsDone, usage{vec: 16}, "", nil, resTrue)
		}
	}
	epilogue(reject, usage{vec: 16}, early, nil, resFalse)
}

func cbcDecPath(p *path) {
	if p.label != "" {
		here(p.label)
	}
	Commentf("%s: %s", p.name, pathComment(p))
	e := p.enc
	p.setup(true)
	l := newLoopLabels(p)
	if p.keys == keysZ {
		Comment("Z31 lane 3 = the previous ciphertext block, shifted in front of a batch by VALIGNQ.")
		VMOVDQU(Mem{Base: RAX}, X9)
		VSHUFI64X2(U8(0), Z9, Z9, Z31)
	} else {
		Comment("X9 = the previous ciphertext block.")
		load(e, Mem{Base: RAX}, X9)
	}
	// prevAt: the offset of the ciphertext block before register i's first.
	prevAt := func(i, v int) int { return i*v - 16 }
	batch := func(rs []VecPhysical, n int) {
		v := size(rs[0])
		loadRegs(e, RBX, rs)
		if p.keys == keysZ {
			VALIGNQ(U8(6), Z31, Z0, Z8)
			VMOVDQA64(rs[len(rs)-1], Z31)
		}
		p.batch(rs...).crypt(true)
		switch {
		case p.keys == keysZ:
			VPXORQ(Z8, Z0, Z0)
		case v == 32:
			VINSERTI128(U8(1), Mem{Base: RBX}, Y9, Y10)
			VPXOR(Y10, Y0, Y0)
		default:
			PXOR(X9, X0)
		}
		for i, r := range rs[1:] {
			if p.keys == keysZ {
				VPXORQ(Mem{Base: RBX, Disp: prevAt(i+1, v)}, r, r)
			} else {
				xorData(e, Mem{Base: RBX, Disp: prevAt(i+1, v)}, r)
			}
		}
		if p.keys != keysZ {
			load(e, Mem{Base: RBX, Disp: 16 * (n - 1)}, X9)
		}
		storeRegs(e, RDX, rs)
		advance(16 * n)
		SUBQ(imm(n), RCX)
	}
	one := func() {
		load(e, Mem{Base: RBX}, X0)
		if e == sse {
			MOVO(X0, X10)
		} else {
			VMOVDQA(X0, X10)
		}
		p.batch(X0).crypt(true)
		xorInto(e, X9, X0)
		if e == sse {
			MOVO(X10, X9)
		} else {
			VMOVDQA(X10, X9)
		}
		store(e, X0, Mem{Base: RDX})
		advance(16)
		DECQ(RCX)
		JNZ(l.one)
	}
	units := func() {
		Comment("Units of up to 4 blocks in Z0 under the mask K1 (R9 = n, R8 = 16n); X9 = the")
		Comment("unit's last ciphertext block, read before the store.")
		un, next := label("unit"), label("nextUnit")
		VEXTRACTI32X4(U8(3), Z31, X9)
		TESTQ(RCX, RCX)
		JZ(l.done)
		unitCount(un, true)
		here(un)
		unitMask()
		MOVQ(R9, R8)
		SHLQ(U8(4), R8)
		VMOVDQU64_Z(Mem{Base: RBX}, K1, Z0)
		VALIGNQ(U8(6), Z31, Z0, Z8)
		VMOVDQA64(Z0, Z31)
		VMOVDQU(Mem{Base: RBX, Index: R8, Scale: 1, Disp: -16}, X9)
		p.batch(Z0).crypt(true)
		VPXORQ(Z8, Z0, Z0)
		VMOVDQU64(Z0, K1, Mem{Base: RDX})
		ADDQ(R8, RBX)
		ADDQ(R8, RDX)
		SUBQ(R9, RCX)
		JNZ(next)
		JMP(l.done)
		here(next)
		unitCount(un, false)
	}
	blockLoop(p, l, batch, one, units)
	here(l.done)
	store(e, X9, Mem{Base: RAX})
	epilogue("", p.usage(), "", nil, resTrue)
}
