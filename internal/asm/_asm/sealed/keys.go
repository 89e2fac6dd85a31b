package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// The wrapping key region (DI), the handle (SI) and the prologue every
// routine that takes a handle runs: check the metadata, unwrap the key,
// verify the tag and expand the schedule, all in X0-X15 with legacy SSE
// (the AES-NI path needs no AVX).
//
// After the prologue the data key's schedule is right-aligned in X1-X15
// (see keySize): the last round key is in X15, round key i in X(5+i) for
// AES-128, X(3+i) for AES-192, X(1+i) for AES-256. X0 is the temporary of
// the expansion and the data block afterwards.

var (
	kAES128 = &keySize{bits: 128, kt: handle.KeyTypeAES128, first: 4, blocks: 1}
	kAES192 = &keySize{bits: 192, kt: handle.KeyTypeAES192, first: 2, blocks: 2}
	kAES256 = &keySize{bits: 256, kt: handle.KeyTypeAES256, first: 0, blocks: 2}
	// roundOrder is the order of the dispatched rounds (AES-128 falls
	// through, then AES-192, then AES-256).
	roundOrder = []*keySize{kAES128, kAES192, kAES256}
)

func init() {
	// byKeyType's CMPQ R11, $AES256; JEQ; JA relies on this order.
	if !(kAES128.kt < kAES256.kt && kAES256.kt < kAES192.kt) {
		panic("key types out of order")
	}
}

// The constants of the prologue (static symbols of the file).
var (
	polyRed  Mem              // the POLYVAL reduction: 1, 0xc2 << 56
	bit127   Mem              // bit 127 (the CTR block of the wrap)
	clr127   Mem              // every bit but 127 (POLYVAL's S)
	hiQ      Mem              // the high qword (AES-192's pad)
	wrapOne  Mem              // 1 in the low dword (the wrap's second CTR block)
	lenBlock map[*keySize]Mem // the length blocks: 128 | keybits<<64
	rconTab  Mem              // rconTab+16i: rcon[i] in every dword (i < 10), then a zero block
	rotWord3 Mem              // PSHUFB: RotWord(w3) in every dword
	rotWord1 Mem              // PSHUFB: RotWord(w1) in every dword
	word3    Mem              // PSHUFB: w3 in every dword
	rcon     = []uint8{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36}
)

// splat returns the PSHUFB mask that puts the bytes b0..b3 (indices into
// the source) into every dword.
func splat(name string, b0, b1, b2, b3 uint64) Mem {
	d := b0 | b1<<8 | b2<<16 | b3<<24
	return data16(name, d|d<<32, d|d<<32)
}

func data16(name string, lo, hi uint64) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	DATA(0, U64(lo))
	DATA(8, U64(hi))
	return m
}

func keyConsts() {
	polyRed = data16("sealedPoly", 1, 0xc200000000000000)
	bit127 = data16("sealedBit127", 0, 1<<63)
	clr127 = data16("sealedClr127", ^uint64(0), 1<<63-1)
	hiQ = data16("sealedHiQ", 0, ^uint64(0))
	wrapOne = data16("sealedOne", 1, 0)
	lenBlock = map[*keySize]Mem{}
	for _, k := range roundOrder {
		lenBlock[k] = data16(fmt.Sprintf("sealedLen%d", k.bits), 128, uint64(k.bits))
	}
	rconTab = GLOBL("sealedRcon", RODATA|NOPTR)
	for i, rc := range append(rcon, 0) {
		d := uint64(rc) | uint64(rc)<<32
		DATA(16*i, U64(d))
		DATA(16*i+8, U64(d))
	}
	rotWord3 = splat("sealedRotWord3", 13, 14, 15, 12)
	rotWord1 = splat("sealedRotWord1", 5, 6, 7, 4)
	word3 = splat("sealedWord3", 12, 13, 14, 15)
}

// Region addresses (DI = region).
func roundEK(i int) Mem { return Mem{Base: RDI, Disp: kernel.RegionRoundEK + 16*i} }
func roundDK(i int) Mem { return Mem{Base: RDI, Disp: kernel.RegionRoundDK + 16*(i-1)} } // 1 <= i <= 13
func hPow(k int) Mem    { return Mem{Base: RDI, Disp: kernel.RegionHPowers + 16*(k-1)} }

// ekEncrypt: AES-256 with EK's round keys (from the region, tmp holding
// each) on the blocks bs in parallel.
func ekEncrypt(tmp VecPhysical, bs ...VecPhysical) {
	for i := 0; i <= 14; i++ {
		MOVOU(roundEK(i), tmp)
		for _, b := range bs {
			switch i {
			case 0:
				PXOR(tmp, b)
			case 14:
				AESENCLAST(tmp, b)
			default:
				AESENC(tmp, b)
			}
		}
	}
}

// ekDecrypt: d = AES-256_EK^-1(d), the equivalent inverse cipher with the
// region's decryption round keys (SealedInit's InvMixColumns of round keys
// 1-13: no AESIMC per call).
func ekDecrypt(d, tmp VecPhysical) {
	MOVOU(roundEK(14), tmp)
	PXOR(tmp, d)
	for i := 13; i >= 1; i-- {
		MOVOU(roundDK(i), tmp)
		AESDEC(tmp, d)
	}
	MOVOU(roundEK(0), tmp)
	AESDECLAST(tmp, d)
}

// ---------------------------------------------------------------------------
// POLYVAL (RFC 8452). Elements are little-endian 128-bit values loaded as
// they are: bit i of the register is the coefficient of x^i, as PCLMULQDQ
// wants. dot(a, b) = a*b*x^-128 mod x^128+x^127+x^126+x^121+1. Products are
// accumulated unreduced in (lo, mid, hi) and reduced once.

type acc struct{ lo, mid, hi, t VecPhysical }

// init: the accumulator = x * h.
func (a acc) init(x, h VecPhysical) {
	MOVO(x, a.lo)
	PCLMULQDQ(U8(0x00), h, a.lo)
	MOVO(x, a.hi)
	PCLMULQDQ(U8(0x11), h, a.hi)
	MOVO(x, a.mid)
	PCLMULQDQ(U8(0x01), h, a.mid)
	MOVO(x, a.t)
	PCLMULQDQ(U8(0x10), h, a.t)
	PXOR(a.t, a.mid)
}

// initLo: the accumulator = x * h for an x whose high qword is zero (the
// metadata block: bits 127:32 are zero, or the handle was refused).
func (a acc) initLo(x, h VecPhysical) {
	MOVO(x, a.lo)
	PCLMULQDQ(U8(0x00), h, a.lo)
	MOVO(x, a.mid)
	PCLMULQDQ(U8(0x10), h, a.mid)
	PXOR(a.hi, a.hi)
}

// add: the accumulator += x * h.
func (a acc) add(x, h VecPhysical) {
	for _, p := range []struct {
		sel uint8
		dst VecPhysical
	}{{0x00, a.lo}, {0x11, a.hi}, {0x01, a.mid}, {0x10, a.mid}} {
		MOVO(x, a.t)
		PCLMULQDQ(U8(p.sel), h, a.t)
		PXOR(a.t, p.dst)
	}
}

// reduce: lo = (hi:mid:lo) * x^-128 mod P. Each of the two folds multiplies
// by x^-64 = x^64 + (x^63+x^62+x^57): swap the qwords and add
// lo64 * 0xc200000000000000.
func (a acc) reduce() {
	MOVO(a.mid, a.t)
	PSLLDQ(U8(8), a.t)
	PXOR(a.t, a.lo)
	PSRLDQ(U8(8), a.mid)
	PXOR(a.mid, a.hi)
	for i := 0; i < 2; i++ {
		MOVO(a.lo, a.t)
		PCLMULQDQ(U8(0x10), polyRed, a.t)
		PSHUFD(U8(0x4e), a.lo, a.lo)
		PXOR(a.t, a.lo)
	}
	PXOR(a.hi, a.lo)
}

// polyval: X8 = POLYVAL(X6 metadata, the key blocks keys, length) with bit
// 127 cleared: block j of n is multiplied by H^(n-j). Uses X7-X12; X6 and
// the keys kept. The key-dependent products come last (the shortest
// dependency chain from the unwrap).
func polyval(keys []VecPhysical, length Mem) {
	a := acc{X8, X9, X10, X11}
	n := len(keys) + 2
	MOVOU(hPow(n), X7)
	a.initLo(X6, X7)
	MOVOU(hPow(1), X7)
	MOVOU(length, X12)
	a.add(X12, X7)
	for i, k := range keys {
		MOVOU(hPow(n-1-i), X7)
		a.add(k, X7)
	}
	a.reduce()
	PAND(clr127, X8)
}

var keyBlocks = []VecPhysical{X1, X2}

// tag: X8 = the tag AES-256_EK(S) of the metadata X6 and the key blocks
// X1 (X2) of k (for wrapping).
func tag(k *keySize) {
	polyval(keyBlocks[:k.blocks], lenBlock[k])
	ekEncrypt(X11, X8)
}

// wrapCTR: X3 (X4) = the key stream of n blocks from the tag in X8 with
// bit 127 set (AES-256_EK in counter mode, the counter in the low dword).
func wrapCTR(n int, ctrFrom VecPhysical) {
	if ctrFrom != X3 {
		MOVO(ctrFrom, X3)
	}
	POR(bit127, X3)
	if n == 2 {
		MOVO(X3, X4)
		PADDD(wrapOne, X4)
	}
	ekEncrypt(X5, []VecPhysical{X3, X4}[:n]...)
}

// unwrap: X1 (X2) = the n key blocks of the handle at SI.
func unwrap(n int) {
	MOVOU(Mem{Base: RSI, Disp: handle.MetaSize}, X3)
	wrapCTR(n, X3)
	for i, k := range keyBlocks[:n] {
		MOVOU(Mem{Base: RSI, Disp: handle.MetaSize + handle.TagSize + 16*i}, k)
		PXOR([]VecPhysical{X3, X4}[i], k)
	}
}

// metaCheck checks the handle's metadata at SI: bits 127:32 and the
// reserved bits of the low word clear, no restriction bit of forbid set,
// key type at most AES-192's. Leaves the key type in R11 or jumps to
// reject. Uses AX, R9.
func metaCheck(forbid uint64, reject LabelRef) {
	MOVQ(Mem{Base: RSI, Disp: 8}, RAX)
	TESTQ(RAX, RAX)
	JNZ(reject)
	MOVQ(Mem{Base: RSI}, RAX)
	MOVQ(U64(0xFFFFFFFF<<32|handle.ReservedMask|forbid), R9)
	TESTQ(R9, RAX)
	JNZ(reject)
	MOVQ(RAX, R11)
	SHRQ(U8(handle.KeyTypeShift), R11)
	CMPQ(R11, U8(kAES192.kt))
	JA(reject)
}

// forbid is the restriction bits that refuse a handle for a direction.
func forbid(decrypt bool) uint64 {
	if decrypt {
		return handle.CPL0Only | handle.NoDecrypt
	}
	return handle.CPL0Only | handle.NoEncrypt
}

// ---------------------------------------------------------------------------
// Key expansion in registers (FIPS-197 5.2). The word that is substituted
// comes from AESENCLAST: PSHUFB puts RotWord(w) (or w) into every column,
// where ShiftRows moves nothing, so AESENCLAST with rcon in every column as
// the round key gives SubWord(RotWord(w)) ^ rcon broadcast (with the zero
// block, SubWord(w)). Its latency is shorter than AESKEYGENASSIST's (which
// with PSHUFD gives the same word): the step's dependency chain is PSHUFB,
// AESENCLAST, PXOR.

// prefix: d = (w0, w0^w1, w0^w1^w2, w0^w1^w2^w3), in two shift-xor steps.
func prefix(d, t VecPhysical) {
	for _, n := range []uint8{4, 8} {
		MOVO(d, t)
		PSLLDQ(U8(n), t)
		PXOR(t, d)
	}
}

// rconZero is the index of rconTab's zero block.
const rconZero = 10

// kstep: d = prefix(pp) ^ the word of p that sh selects, substituted and
// XORed with rconTab's block rc, in every column: sh = rotWord3 with rc <
// 10 is SubWord(RotWord(p.w3)) ^ rcon (every key size), sh = word3 with rc
// = rconZero SubWord(p.w3) (AES-256's odd round keys), sh = rotWord1
// SubWord(RotWord(p.w1)) ^ rcon (AES-192, p the 2-word half). d differs
// from pp and p.
func kstep(pp, p, d, t VecPhysical, rc int, sh Mem) {
	MOVO(pp, d)
	prefix(d, t)
	MOVO(p, t)
	PSHUFB(sh, t)
	AESENCLAST(rconTab.Offset(16*rc), t)
	PXOR(t, d)
}

// k192b: b = (b0, b0^b1) ^ d.w3 (AES-192's 2-word half; the rest is junk).
func k192b(b, d, t VecPhysical) {
	MOVO(b, t)
	PSLLDQ(U8(4), t)
	PXOR(t, b)
	PSHUFD(U8(0xff), d, t)
	PXOR(t, b)
}

// expand computes the schedule of k into its slots from the key in slot
// first (and X2: AES-256's slot 1, AES-192's words 4-5 in the low half).
// X0 is the temporary.
func expand(k *keySize) {
	rk := func(s int) VecPhysical { return xr[s+1] }
	switch k {
	case kAES128:
		for s := k.first + 1; s <= 14; s++ {
			kstep(rk(s-1), rk(s-1), rk(s), X0, s-k.first-1, rotWord3)
		}
	case kAES256:
		for s := k.first + 2; s <= 14; s++ {
			if (s-k.first)%2 == 0 {
				kstep(rk(s-2), rk(s-1), rk(s), X0, (s-k.first)/2-1, rotWord3)
			} else {
				kstep(rk(s-2), rk(s-1), rk(s), X0, rconZero, word3)
			}
		}
	case kAES192:
		// Steps of 6 words: A = 4 words, B = 2 words (X2, low half). X1
		// holds the odd steps. Each group of three round keys takes two.
		for g := 0; g < 4; g++ {
			base := k.first + 1 + 3*g // the group's first slot
			prev := rk(base - 1)
			kstep(prev, X2, X1, X0, 2*g, rotWord1)
			MOVO(X2, rk(base))
			PUNPCKLQDQ(X1, rk(base))
			k192b(X2, X1, X0)
			MOVO(X2, rk(base+1))
			PALIGNR(U8(8), X1, rk(base+1))
			kstep(X1, X2, rk(base+2), X0, 2*g+1, rotWord1)
			if g < 3 {
				k192b(X2, rk(base+2), X0)
			}
		}
	}
}

// invMix turns k's encryption schedule into the decryption schedule of the
// equivalent inverse cipher: InvMixColumns of the middle round keys.
func invMix(k *keySize) {
	for s := k.first + 1; s < 14; s++ {
		AESIMC(xr[s+1], xr[s+1])
	}
}

// unwrapKeys is the prologue of every routine that uses a handle: check the
// metadata of the handle at SI (jump to rejMeta), unwrap its key, verify
// the tag in constant time (jump to rejTag, X0-X15 to be cleared; AES-192:
// the 8 pad bytes of key block 1 must decrypt to zero) and expand the
// schedule into X1-X15, right-aligned, decryption schedule if decrypt. R11
// = key type. Uses X0-X15, AX, R9.
//
// Unwrap compares S with the decrypted stored tag instead of encrypting S:
// the AES-256 runs in parallel with the unwrap instead of after POLYVAL. AES
// is a permutation, so S == Dec(tag) exactly when Enc(S) == tag.
//
// The handle may be wiped under the routine (aeskl's Close zeroes a
// Cipher's words while a call may be reading them), and some words are
// read twice (the metadata by metaCheck and again for POLYVAL). That is
// safe: a word only ever goes from its value to zero, and everything the
// key is derived from (the metadata and key blocks as POLYVAL reads them)
// is authenticated against the tag read once into X13, so any mix of old
// and zero words fails the tag check.
func unwrapKeys(decrypt bool, rejMeta, rejTag LabelRef) {
	Comment("Check the metadata, unwrap the key, verify the tag, expand the schedule.")
	metaCheck(forbid(decrypt), rejMeta)
	MOVOU(Mem{Base: RSI, Disp: handle.MetaSize}, X13)
	ekDecrypt(X13, X14)
	byKeyType([]*keySize{kAES128, kAES256, kAES192}, "", func(k *keySize) {
		unwrap(k.blocks)
		MOVOU(Mem{Base: RSI}, X6)
		polyval(keyBlocks[:k.blocks], lenBlock[k])
		PXOR(X13, X8)
		if k == kAES192 {
			MOVO(X2, X7)
			PAND(hiQ, X7)
			POR(X7, X8)
		}
		PTEST(X8, X8)
		JNZ(rejTag)
		if k.first > 0 {
			MOVO(X1, xr[k.first+1])
		}
		expand(k)
		if decrypt {
			invMix(k)
		}
	})
}

// ---------------------------------------------------------------------------
// The stack area at R10 (16-byte aligned, in the routine's own frame):
// slots 0-14 hold the spilled schedule, the rest what a routine keeps there
// (XTS: its tweaks).

type span struct{ lo, hi int } // bytes [lo, hi) at R10

var spillSpan = span{0, 15 * 16}

func spillSlot(s int) Mem { return Mem{Base: R10, Disp: 16 * s} }

// alignSpill: R10 = SP rounded up to 16.
func alignSpill() {
	LEAQ(Mem{Base: StackPointer, Disp: 15}, R10)
	ANDQ(I8(-16), R10)
}

// spill stores X1-X15 to slots 0-14.
func spill() {
	for s := 0; s < 15; s++ {
		MOVO(xr[s+1], spillSlot(s))
	}
}

// zbcast broadcasts X1-X15 into every lane of Z16-Z30.
func zbcast() {
	for s := 0; s < 15; s++ {
		VSHUFI64X2(U8(0), zr[s+1], zr[s+1], zr[16+s])
	}
}
