package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The vector operations of GHASH, written once for the three encodings:
// legacy SSE (two operands, the destination is also a source; a memory
// operand of an arithmetic instruction must be 16-byte aligned and the
// table is not, so memory is only ever read with MOVOU), VEX
// (three operands, xmm and ymm, X0-X15) and EVEX (zmm, Z0-Z31, VPTERNLOGQ).
// A register is named by its number and sized at each use: r(n, v) is
// X{n}, Y{n} or Z{n} for a v of 16, 32 or 64 bytes. A VEX or EVEX write to
// a narrower register zeroes the rest of the zmm, which the wide loops rely
// on: a product formed in an xmm or ymm is XORed into a full-width
// accumulator with zero upper lanes.

type encoding int

const (
	sse  encoding = iota // PCLMULQDQ on xmm: PCLMULQDQ and SSSE3 only
	vex                  // VPCLMULQDQ on ymm: AVX2 and VPCLMULQDQ, no AVX-512
	evex                 // VPCLMULQDQ on zmm: AVX512F/BW/VL and VPCLMULQDQ
)

// Register numbers, shared by every path.
const (
	rD0  = 0  // data vectors rD0 .. rD0+group-1
	rLo  = 4  // accumulators: low, high and middle 128-bit halves of the
	rHi  = 5  // products, one per lane
	rMid = 6  //
	rT0  = 7  // scratch
	rSt  = 8  // the GHASH state (xmm; the upper lanes zero on the wide paths)
	rT1  = 9  // scratch
	rT2  = 10 //
	rT3  = 11 //
	rT4  = 12 //
	rPol = 14 // SSE: the reduction constant (the wide paths read it from memory)
	rMsk = 15 // the byte-reversal mask
	rPow = 16 // zmm: the powers of H for the main loop, Z16-Z23
)

var (
	xregs = []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15,
		X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30, X31}
	yregs = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15,
		Y16, Y17, Y18, Y19, Y20, Y21, Y22, Y23, Y24, Y25, Y26, Y27, Y28, Y29, Y30, Y31}
	zregs = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
)

// r returns register n at width v (16, 32 or 64 bytes).
func r(n, v int) VecPhysical {
	switch v {
	case 16:
		return xregs[n]
	case 32:
		return yregs[n]
	case 64:
		return zregs[n]
	}
	panic("bad width")
}

// imm returns n as the shortest immediate.
func imm(n int) Constant {
	if n < 128 {
		return U8(n)
	}
	return U32(n)
}

// ops emits the vector operations in one encoding.
type ops struct{ enc encoding }

// load: register n (width v) = the v bytes at m.
func (o ops) load(m Mem, n, v int) {
	switch {
	case o.enc == sse:
		MOVOU(m, r(n, 16))
	case v == 64:
		VMOVDQU64(m, r(n, 64))
	default:
		VMOVDQU(m, r(n, v))
	}
}

// store16: the 16 bytes at m = xmm n.
func (o ops) store16(n int, m Mem) {
	if o.enc == sse {
		MOVOU(r(n, 16), m)
	} else {
		VMOVDQU(r(n, 16), m)
	}
}

// mov: register dst = register src (width v).
func (o ops) mov(dst, src, v int) {
	if o.enc == sse {
		MOVOU(r(src, 16), r(dst, 16))
	} else {
		VMOVDQU(r(src, v), r(dst, v))
	}
}

// zero clears register n (on VEX and EVEX the whole zmm).
func (o ops) zero(n int) {
	if o.enc == sse {
		PXOR(r(n, 16), r(n, 16))
	} else {
		VPXOR(r(n, 16), r(n, 16), r(n, 16))
	}
}

// xor: dst ^= src (width v).
func (o ops) xor(dst, src, v int) {
	switch {
	case o.enc == sse:
		PXOR(r(src, 16), r(dst, 16))
	case v == 64:
		VPXORQ(r(src, 64), r(dst, 64), r(dst, 64))
	default:
		VPXOR(r(src, v), r(dst, v), r(dst, v))
	}
}

// xorTo: dst = a ^ b (width v).
func (o ops) xorTo(dst, a, b, v int) {
	if o.enc == sse {
		o.mov(dst, a, 16)
		PXOR(r(b, 16), r(dst, 16))
	} else if v == 64 {
		VPXORQ(r(b, 64), r(a, 64), r(dst, 64))
	} else {
		VPXOR(r(b, v), r(a, v), r(dst, v))
	}
}

// xor3: dst ^= a ^ b (width v): one VPTERNLOGQ on EVEX.
func (o ops) xor3(dst, a, b, v int) {
	if o.enc == evex {
		VPTERNLOGQ(U8(0x96), r(b, v), r(a, v), r(dst, v))
		return
	}
	o.xor(dst, a, v)
	o.xor(dst, b, v)
}

// shuf byte-reverses each 16-byte lane of register n (width v) with the
// mask in rMsk.
func (o ops) shuf(n, v int) {
	if o.enc == sse {
		PSHUFB(r(rMsk, 16), r(n, 16))
	} else {
		VPSHUFB(r(rMsk, v), r(n, v), r(n, v))
	}
}

// swapHalves: dst = src with the two qwords of each lane swapped (width v).
func (o ops) swapHalves(dst, src, v int) {
	if o.enc == sse {
		PSHUFD(U8(78), r(src, 16), r(dst, 16))
	} else {
		VPSHUFD(U8(78), r(src, v), r(dst, v))
	}
}

// shiftLanes: dst = src shifted by 8 bytes within each lane, up (left) or
// down (width v).
func (o ops) shiftLanes(dst, src int, left bool, v int) {
	if o.enc == sse {
		if dst != src {
			o.mov(dst, src, 16)
		}
		if left {
			PSLLDQ(U8(8), r(dst, 16))
		} else {
			PSRLDQ(U8(8), r(dst, 16))
		}
		return
	}
	if left {
		VPSLLDQ(U8(8), r(src, v), r(dst, v))
	} else {
		VPSRLDQ(U8(8), r(src, v), r(dst, v))
	}
}

// upperHalf: register dst (width v/2) = the upper half of register src
// (width v).
func (o ops) upperHalf(dst, src, v int) {
	if v == 64 {
		VEXTRACTI64X4(U8(1), r(src, 64), r(dst, 32))
	} else {
		VEXTRACTI128(U8(1), r(src, 32), r(dst, 16))
	}
}

// clmul: register dst = the carry-less product, in each lane, of qword
// imm&1 of register src1 and qword imm>>4&1 of src2 (a register or, except
// on SSE, memory), width v. As VPCLMULQDQ imm, src2, src1, dst. On SSE
// (PCLMULQDQ imm, src, dst: dst's qword by imm&1) a memory src2 is loaded
// into dst first (dst != src1) and the immediate's selectors swapped.
func (o ops) clmul(i uint8, src2 Op, src1, dst, v int) {
	if o.enc != sse {
		VPCLMULQDQ(U8(i), src2, r(src1, v), r(dst, v))
		return
	}
	if m, ok := src2.(Mem); ok {
		if dst == src1 {
			panic("clmul: SSE memory operand into its first source")
		}
		MOVOU(m, r(dst, 16))
		PCLMULQDQ(U8(i>>4|i<<4), r(src1, 16), r(dst, 16))
		return
	}
	if dst != src1 {
		if s, ok := src2.(Register); ok && s.Asm() == r(dst, 16).Asm() {
			panic("clmul: SSE destination is the second source")
		}
		o.mov(dst, src1, 16)
	}
	PCLMULQDQ(U8(i), src2, r(dst, 16))
}
