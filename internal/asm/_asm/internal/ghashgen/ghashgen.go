// Package ghashgen emits GHASH's vector arithmetic for the assembly
// generators: the multiplication of data registers by powers of H with
// unreduced accumulation, and the fold and reduction, written once for the
// three encodings (SSE on xmm, VEX on xmm/ymm, EVEX on zmm) and for any
// assignment of registers (Regs). The ghash generator builds its update
// loops from it; the sealed generator interleaves it with the AES rounds
// of its fused GCM kernel.
//
// Legacy SSE has two operands (the destination is also a source) and a
// memory operand of an arithmetic instruction must be 16-byte aligned; the
// tables are not, so on SSE memory is only ever read with MOVOU. VEX has
// three operands on xmm and ymm (X0-X15); EVEX reaches zmm and has
// VPTERNLOGQ. A register is named by its number and sized at each use:
// R(n, v) is X{n}, Y{n} or Z{n} for a v of 16, 32 or 64 bytes. A VEX or
// EVEX write to a narrower register zeroes the rest of the zmm, which the
// wide loops rely on: a product formed in an xmm or ymm is XORed into a
// full-width accumulator with zero upper lanes. The operations take
// register numbers below 16 only where they use VEX forms (xmm and ymm).
package ghashgen

import (
	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Encoding is how the operations are written.
type Encoding int

const (
	SSE  Encoding = iota // PCLMULQDQ on xmm: PCLMULQDQ and SSSE3 only
	VEX                  // VPCLMULQDQ on ymm: AVX2 and VPCLMULQDQ, no AVX-512
	EVEX                 // VPCLMULQDQ on zmm: AVX512F/BW/VL and VPCLMULQDQ
)

// R returns register n at width v (16, 32 or 64 bytes).
var R = gen.Vec

// Short returns n as the shortest immediate.
func Short(n int) Constant {
	if n < 128 {
		return U8(n)
	}
	return U32(n)
}

// Ops emits the vector operations in one encoding.
type Ops struct{ Enc Encoding }

// Load: register n (width v) = the v bytes at m.
func (o Ops) Load(m Mem, n, v int) {
	switch {
	case o.Enc == SSE:
		MOVOU(m, R(n, 16))
	case v == 64:
		VMOVDQU64(m, R(n, 64))
	default:
		VMOVDQU(m, R(n, v))
	}
}

// Store16: the 16 bytes at m = xmm n.
func (o Ops) Store16(n int, m Mem) {
	if o.Enc == SSE {
		MOVOU(R(n, 16), m)
	} else {
		VMOVDQU(R(n, 16), m)
	}
}

// Mov: register dst = register src (width v).
func (o Ops) Mov(dst, src, v int) {
	if o.Enc == SSE {
		MOVOU(R(src, 16), R(dst, 16))
	} else {
		VMOVDQU(R(src, v), R(dst, v))
	}
}

// Zero clears register n (on VEX and EVEX the whole zmm).
func (o Ops) Zero(n int) {
	if o.Enc == SSE {
		PXOR(R(n, 16), R(n, 16))
	} else {
		VPXOR(R(n, 16), R(n, 16), R(n, 16))
	}
}

// Xor: dst ^= src (width v).
func (o Ops) Xor(dst, src, v int) {
	switch {
	case o.Enc == SSE:
		PXOR(R(src, 16), R(dst, 16))
	case v == 64:
		VPXORQ(R(src, 64), R(dst, 64), R(dst, 64))
	default:
		VPXOR(R(src, v), R(dst, v), R(dst, v))
	}
}

// XorTo: dst = a ^ b (width v).
func (o Ops) XorTo(dst, a, b, v int) {
	if o.Enc == SSE {
		o.Mov(dst, a, 16)
		PXOR(R(b, 16), R(dst, 16))
	} else if v == 64 {
		VPXORQ(R(b, 64), R(a, 64), R(dst, 64))
	} else {
		VPXOR(R(b, v), R(a, v), R(dst, v))
	}
}

// Xor3: dst ^= a ^ b (width v): one VPTERNLOGQ on EVEX.
func (o Ops) Xor3(dst, a, b, v int) {
	if o.Enc == EVEX {
		VPTERNLOGQ(U8(0x96), R(b, v), R(a, v), R(dst, v))
		return
	}
	o.Xor(dst, a, v)
	o.Xor(dst, b, v)
}

// SwapHalves: dst = src with the two qwords of each lane swapped (width v).
func (o Ops) SwapHalves(dst, src, v int) {
	if o.Enc == SSE {
		PSHUFD(U8(78), R(src, 16), R(dst, 16))
	} else {
		VPSHUFD(U8(78), R(src, v), R(dst, v))
	}
}

// ShiftLanes: dst = src shifted by 8 bytes within each lane, up (left) or
// down (width v).
func (o Ops) ShiftLanes(dst, src int, left bool, v int) {
	if o.Enc == SSE {
		if dst != src {
			o.Mov(dst, src, 16)
		}
		if left {
			PSLLDQ(U8(8), R(dst, 16))
		} else {
			PSRLDQ(U8(8), R(dst, 16))
		}
		return
	}
	if left {
		VPSLLDQ(U8(8), R(src, v), R(dst, v))
	} else {
		VPSRLDQ(U8(8), R(src, v), R(dst, v))
	}
}

// UpperHalf: register dst (width v/2) = the upper half of register src
// (width v).
func (o Ops) UpperHalf(dst, src, v int) {
	if v == 64 {
		VEXTRACTI64X4(U8(1), R(src, 64), R(dst, 32))
	} else {
		VEXTRACTI128(U8(1), R(src, 32), R(dst, 16))
	}
}

// Clmul: register dst = the carry-less product, in each lane, of qword
// imm&1 of register src1 and qword imm>>4&1 of src2 (a register or, except
// on SSE, memory), width v. As VPCLMULQDQ imm, src2, src1, dst. On SSE
// (PCLMULQDQ imm, src, dst: dst's qword by imm&1) a memory src2 is loaded
// into dst first (dst != src1) and the immediate's selectors swapped.
func (o Ops) Clmul(i uint8, src2 Op, src1, dst, v int) {
	if o.Enc != SSE {
		VPCLMULQDQ(U8(i), src2, R(src1, v), R(dst, v))
		return
	}
	if m, ok := src2.(Mem); ok {
		if dst == src1 {
			panic("clmul: SSE memory operand into its first source")
		}
		MOVOU(m, R(dst, 16))
		PCLMULQDQ(U8(i>>4|i<<4), R(src1, 16), R(dst, 16))
		return
	}
	if dst != src1 {
		if s, ok := src2.(Register); ok && s.Asm() == R(dst, 16).Asm() {
			panic("clmul: SSE destination is the second source")
		}
		o.Mov(dst, src1, 16)
	}
	PCLMULQDQ(U8(i), src2, R(dst, 16))
}

// Regs assigns the registers of the multiplication and fold (numbers).
// T0-T2 are scratch: T0 only in the first product of a group and in the
// fold, T1 and T2 in the later products and the fold; T3 and T4 only with
// Karatsuba. A data register is dead after its product, so the fold may
// reuse it as scratch.
type Regs struct {
	Lo, Hi, Mid int // accumulators: low, high and middle halves, one per lane
	T0, T1, T2  int
	T3, T4      int // Karatsuba only
	St          int // the GHASH state (xmm; upper lanes zero on the wide paths)
	Pol         int // SSE: the reduction constant (the wide paths read Poly)
	Msk         int // the byte-reversal mask
}

// A Mul multiplies and reduces at one register width (Bytes) in one
// encoding with one register assignment.
type Mul struct {
	Ops
	Regs
	Bytes int  // the loop's register width: 16, 32 or 64
	Kara  bool // Karatsuba (3 products per block, the table's kar terms)
	// KarDelta: the Karatsuba term of a power in memory is KarDelta
	// bytes after it.
	KarDelta int
	// Poly: the reduction constant P's high half as a 16-byte value;
	// FoldWide reads Bytes of it, the value repeated in every lane.
	Poly Mem
}

// Shuf byte-reverses each 16-byte lane of register n (width v) with the
// mask in Msk.
func (m Mul) Shuf(n, v int) {
	if m.Enc == SSE {
		PSHUFB(R(m.Msk, 16), R(n, 16))
	} else {
		VPSHUFB(R(m.Msk, v), R(n, v), R(n, v))
	}
}

// PolyOp is the reduction constant as the second source of a clmul.
func (m Mul) PolyOp() Op {
	if m.Enc == SSE {
		return R(m.Pol, 16)
	}
	return m.Poly
}

// MulAcc multiplies data register d (width v) by the powers pw (a register
// or memory, width v; with Karatsuba memory, their terms KarDelta bytes
// after them) and accumulates into Lo, Hi, Mid at the loop's width.
// first: the accumulators are written, not XORed into (v is then the
// loop's width).
func (m Mul) MulAcc(v int, first bool, d int, pw Op) {
	w := m.Bytes
	if m.Kara {
		kt := pw.(Mem)
		kt.Disp += m.KarDelta
		a, b, k := m.T1, m.T2, m.T3
		if first {
			a, b, k = m.Lo, m.Hi, m.Mid
		}
		m.SwapHalves(k, d, v)
		m.Xor(k, d, v)
		m.Clmul(0x00, pw, d, a, v)
		m.Clmul(0x11, pw, d, b, v)
		m.Load(kt, m.T4, v)
		m.Clmul(0x00, R(m.T4, v), k, k, v)
		if !first {
			m.Xor(m.Lo, a, w)
			m.Xor(m.Hi, b, w)
			m.Xor(m.Mid, k, w)
		}
		return
	}
	if first {
		m.Clmul(0x00, pw, d, m.Lo, v)
		m.Clmul(0x11, pw, d, m.Hi, v)
		m.Clmul(0x01, pw, d, m.Mid, v)
		m.Clmul(0x10, pw, d, m.T0, v)
		m.Xor(m.Mid, m.T0, v)
		return
	}
	m.Clmul(0x00, pw, d, m.T1, v)
	m.Clmul(0x11, pw, d, m.T2, v)
	m.Xor(m.Lo, m.T1, w)
	m.Xor(m.Hi, m.T2, w)
	m.Clmul(0x01, pw, d, m.T1, v)
	m.Clmul(0x10, pw, d, m.T2, v)
	m.Xor3(m.Mid, m.T1, m.T2, w)
}

// MulAcc2 is MulAcc of two data registers d0 and d1 (width Bytes) by
// the powers p0 and p1, EVEX only: each VPTERNLOGQ adds two products to an
// accumulator, 4 logic operations for the pair where MulAcc takes 3 per
// register. It is emitted in two halves, which may be apart (other work
// between them) but in order: half 0 the low and high products, half 1
// the middle ones. first: the accumulators are written, not XORed into.
// T1 and T2 are scratch.
func (m Mul) MulAcc2(half int, first bool, d0, d1 int, p0, p1 Op) {
	if m.Enc != EVEX || m.Kara {
		panic("MulAcc2: EVEX schoolbook only")
	}
	w := m.Bytes
	if half == 0 {
		for _, c := range []struct {
			imm uint8
			acc int
		}{{0x00, m.Lo}, {0x11, m.Hi}} {
			if first {
				m.Clmul(c.imm, p0, d0, c.acc, w)
				m.Clmul(c.imm, p1, d1, m.T1, w)
				m.Xor(c.acc, m.T1, w)
				continue
			}
			m.Clmul(c.imm, p0, d0, m.T1, w)
			m.Clmul(c.imm, p1, d1, m.T2, w)
			m.Xor3(c.acc, m.T1, m.T2, w)
		}
		return
	}
	if first {
		m.Clmul(0x01, p0, d0, m.Mid, w)
		m.Clmul(0x01, p1, d1, m.T1, w)
		m.Clmul(0x10, p0, d0, m.T2, w)
		m.Xor3(m.Mid, m.T1, m.T2, w)
		m.Clmul(0x10, p1, d1, m.T1, w)
		m.Xor(m.Mid, m.T1, w)
		return
	}
	m.Clmul(0x01, p0, d0, m.T1, w)
	m.Clmul(0x01, p1, d1, m.T2, w)
	m.Xor3(m.Mid, m.T1, m.T2, w)
	m.Clmul(0x10, p0, d0, m.T1, w)
	m.Clmul(0x10, p1, d1, m.T2, w)
	m.Xor3(m.Mid, m.T1, m.T2, w)
}

// Fold turns the accumulators into the new state: the middle term into the
// low and high halves, the lanes XORed together, then the reduction
// modulo P into St.
func (m Mul) Fold() {
	w := m.Bytes
	if m.Kara {
		m.Xor(m.Mid, m.Lo, w)
		m.Xor(m.Mid, m.Hi, w)
	}
	m.ShiftLanes(m.T0, m.Mid, true, w)
	m.ShiftLanes(m.Mid, m.Mid, false, w)
	m.Xor(m.Lo, m.T0, w)
	m.Xor(m.Hi, m.Mid, w)
	for v := w / 2; v >= 16; v /= 2 {
		m.UpperHalf(m.T1, m.Lo, 2*v)
		m.UpperHalf(m.T2, m.Hi, 2*v)
		m.Xor(m.Lo, m.T1, v)
		m.Xor(m.Hi, m.T2, v)
	}
	for i := 0; i < 2; i++ {
		m.Clmul(0x10, m.PolyOp(), m.Lo, m.T1, 16)
		m.SwapHalves(m.Lo, m.Lo, 16)
		m.Xor(m.Lo, m.T1, 16)
	}
	m.XorTo(m.St, m.Lo, m.Hi, 16)
}

// FoldWide is Fold with the reduction before the lanes are XORed
// together, VEX or EVEX, Poly Bytes wide (the constant in every lane): in
// each lane the low half is folded into the middle term and the middle
// term into the high half, as two multiplications by the constant (the
// same arithmetic as Fold's, on the unmerged terms), then the lanes of Hi,
// each now a reduced product, are XORed together into St. 10 operations
// on zmm where Fold takes 19 (EVEX: one VPTERNLOGQ per fold step), 10 on
// ymm where Fold takes 15 (VEX: two XORs per step). T1 is scratch; Lo,
// Mid and Hi are left clobbered.
func (m Mul) FoldWide() {
	if m.Enc == SSE || m.Kara {
		panic("FoldWide: VEX or EVEX schoolbook only")
	}
	w := m.Bytes
	m.Clmul(0x10, m.Poly, m.Lo, m.T1, w)
	m.SwapHalves(m.Lo, m.Lo, w)
	m.Xor3(m.Mid, m.Lo, m.T1, w)
	m.Clmul(0x10, m.Poly, m.Mid, m.T1, w)
	m.SwapHalves(m.Mid, m.Mid, w)
	m.Xor3(m.Hi, m.Mid, m.T1, w)
	if w == 16 {
		m.Mov(m.St, m.Hi, 16)
		return
	}
	for v := w / 2; v >= 16; v /= 2 {
		m.UpperHalf(m.T1, m.Hi, 2*v)
		if v == 16 {
			m.XorTo(m.St, m.Hi, m.T1, 16)
		} else {
			m.Xor(m.Hi, m.T1, v)
		}
	}
}
