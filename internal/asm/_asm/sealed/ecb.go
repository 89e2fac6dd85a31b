package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// SealedInit: the AES-256 schedule of EK, the POLYVAL powers of H and the
// decryption round keys of EK.
func sealedInit() {
	TEXT("SealedInit", NOSPLIT, fmt.Sprintf("func(region %s)", regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(docInit)...)
	arm()
	Load(Param("region"), RDI)
	Comment("The AES-256 schedule of EK (slots 0-14 = X1-X15).")
	MOVOU(Mem{Base: RDI, Disp: kernel.RegionEK}, X1)
	MOVOU(Mem{Base: RDI, Disp: kernel.RegionEK + 16}, X2)
	expand(kAES256)
	for i := 0; i < 15; i++ {
		MOVOU(xr[i+1], roundEK(i))
	}
	Comment("The decryption round keys: InvMixColumns of round keys 1-13.")
	for i := 1; i <= 13; i++ {
		AESIMC(xr[i+1], xr[i+1])
		MOVOU(xr[i+1], roundDK(i))
	}
	Comment("H_1 = H (IK), H_(k+1) = dot(H_k, H): X2 = H_k, X1 = H.")
	MOVOU(Mem{Base: RDI, Disp: kernel.RegionIK}, X1)
	MOVOU(X1, hPow(1))
	MOVO(X1, X2)
	a := acc{X3, X4, X5, X6}
	for k := 2; k <= (kernel.RegionRoundDK-kernel.RegionHPowers)/16; k++ {
		a.init(X2, X1)
		a.reduce()
		MOVO(X3, X2)
		MOVOU(X2, hPow(k))
	}
	epilogue("", usage{vec: 16}, "", nil, noResult)
}

// sealedEncodeKey: the wrap of handle.Wrap in registers.
func encodeKey() {
	TEXT("sealedEncodeKey", NOSPLIT, fmt.Sprintf("func(region %s, key *byte, keyLen int, restrictions uint32, h *Handle)", regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(docEncodeKey)...)
	arm()
	Load(Param("key"), RAX)
	wrapKey(func(k *keySize) {
		Commentf("AES-%d: the key, straight from the caller's memory, into X1 (X2).", k.bits)
		MOVOU(Mem{Base: RAX}, X1)
		switch k {
		case kAES256:
			MOVOU(Mem{Base: RAX, Disp: 16}, X2)
		case kAES192:
			MOVQ(Mem{Base: RAX, Disp: 16}, X2) // 8 key bytes, 8 zero pad bytes
		}
	}, noResult)
}

// wrapKey writes the body every wrapping routine shares: it loads region
// (DI), keyLen (CX), restrictions (DX) and h (SI), branches on keyLen, has
// load put the key of that size into X1 (X2: AES-192's 8 bytes in the low
// half, the high half zero), computes the tag, encrypts the key blocks and
// stores the handle, then returns through the epilogue with res.
func wrapKey(load func(k *keySize), res result) {
	Load(Param("region"), RDI)
	Load(Param("keyLen"), RCX)
	Load(Param("restrictions"), EDX)
	Load(Param("h"), RSI)
	Comment("DX = the metadata: the restriction bits, then the key type.")
	ANDL(U8(handle.RestrictionMask), EDX)
	lbl := map[*keySize]LabelRef{kAES128: label("k128_"), kAES192: label("k192_")}
	CMPQ(RCX, U8(kAES128.bits/8))
	JEQ(lbl[kAES128])
	CMPQ(RCX, U8(kAES192.bits/8))
	JEQ(lbl[kAES192])
	wrap2 := label("wrap2_")
	for _, k := range []*keySize{kAES256, kAES192, kAES128} {
		if k != kAES256 {
			here(lbl[k])
		}
		if k.kt != 0 {
			ORL(U32(k.kt<<handle.KeyTypeShift), EDX)
		}
		load(k)
		MOVQ(RDX, X6)
		tag(k)
		if k == kAES256 {
			JMP(wrap2) // the same wrap as AES-192's
			continue
		}
		if k == kAES192 {
			here(wrap2)
		}
		Comment("Encrypt the key blocks in counter mode from the tag, store the handle.")
		wrapCTR(k.blocks, X8)
		for i, kb := range keyBlocks[:k.blocks] {
			PXOR(kb, []VecPhysical{X3, X4}[i])
		}
		for i, x := range []VecPhysical{X6, X8, X3, X4}[:2+k.blocks] {
			MOVOU(x, Mem{Base: RSI, Disp: 16 * i})
		}
		var after func()
		if k.blocks == 1 {
			after = func() { MOVOU(X0, Mem{Base: RSI, Disp: handle.Size128}) } // h[48:64] = 0
		}
		epilogue("", usage{vec: 16}, "", after, res)
	}
}

// ecb: SealedEncrypt or SealedDecrypt.
func ecb(decrypt bool) {
	name, doc := "SealedEncrypt", docEncrypt
	if decrypt {
		name, doc = "SealedDecrypt", docDecrypt
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(region %s, h *Handle, dst, src []byte, path int) bool", regionArg))
	Pragma("noescape")
	Doc(gen.DocLines(doc)...)
	AllocLocal(spillFrame)
	reject, early, regsDone, one := label("reject"), label("rejectEarly"), label("regsDone"), label("one")
	arm()
	args("h", true)
	checkLen(early)
	unwrapKeys(decrypt, early, reject)
	TESTQ(RCX, RCX)
	JZ(regsDone)
	CMPQ(RCX, U8(1))
	JEQ(one)
	dispatchPaths(vaes512, vaes256)
	for _, p := range paths {
		ecbPath(p, decrypt)
		if p != aesni {
			continue
		}
		Comment("One block (the call's only one), the schedule in registers.")
		here(one)
		byKeyType(roundOrder, regsDone, func(k *keySize) {
			MOVOU(Mem{Base: RBX}, X0)
			regBatch.cryptKS(decrypt, k)
			MOVOU(X0, Mem{Base: RDX})
		})
		epilogue(regsDone, usage{vec: 16}, "", nil, resTrue)
	}
	epilogue(reject, usage{vec: 16}, early, nil, resFalse)
}

// ecbPath: the blocks on p, in p's stages.
func ecbPath(p *path, decrypt bool) {
	if p.label != "" {
		here(p.label)
	}
	Commentf("%s: %s", p.name, pathComment(p))
	p.setup(true)
	done := label(p.name + "Done")
	for _, st := range p.ecbStages() {
		next := done
		if !st.last {
			next = label("next")
		}
		ecbStage(p, st, decrypt, next, done)
		if !st.last {
			here(next)
		}
	}
	epilogue(done, p.usage(), "", nil, resTrue)
}

// ecbStage: one stage; jumps to next when fewer blocks are left.
func ecbStage(p *path, st stage, decrypt bool, next, done LabelRef) {
	n := st.blocks()
	if st.last {
		TESTQ(RCX, RCX)
		JZ(done)
	} else {
		CMPQ(RCX, imm(n))
		JB(next)
	}
	loop := label("loop")
	if st.loop {
		loopHead(loop)
	}
	rs := regs(st.regs, st.size)
	if st.masked {
		Comment("1-3 blocks under the mask K1 = 1<<(2n) - 1 (2 qwords per block).")
		SHLQ(U8(1), RCX)
		MOVL(U32(1), EAX)
		SHLQ(CL, RAX)
		DECQ(RAX)
		KMOVW(EAX, K1)
		VMOVDQU64_Z(Mem{Base: RBX}, K1, Z0)
	} else {
		loadRegs(p.enc, RBX, rs)
	}
	p.batch(rs...).crypt(decrypt)
	if st.masked {
		VMOVDQU64(Z0, K1, Mem{Base: RDX})
	} else {
		storeRegs(p.enc, RDX, rs)
	}
	switch {
	case st.last && !st.loop:
		// The rest of the blocks: nothing to advance.
	case st.last:
		advance(16 * n)
		DECQ(RCX)
		JNZ(loop)
	case st.loop:
		advance(16 * n)
		SUBQ(imm(n), RCX)
		CMPQ(RCX, imm(n))
		JAE(loop)
	default:
		advance(16 * n)
		SUBQ(imm(n), RCX)
	}
}

// pathComment describes the path's batches.
func pathComment(p *path) string {
	switch p.keys {
	case keysZ:
		return fmt.Sprintf("%d blocks per batch in Z0-Z7, the schedule broadcast in Z16-Z30.", p.main())
	}
	return fmt.Sprintf("%d blocks per batch, the schedule spilled to the aligned stack area at R10 (wiped before return).", p.main())
}
