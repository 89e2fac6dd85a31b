package fallback

import (
	"encoding/binary"
	"math/bits"
)

// A constant-time POLYVAL (RFC 8452) for the generic path, about ten times
// faster than internal/handle's bit-serial reference, against which it is
// tested. Carry-less 64x64 multiplication uses integer multiplication with
// "holes" (every fourth bit; BearSSL's ghash_ctmul64 technique): constant
// time wherever the CPU's 64-bit multiply is (all current 64-bit CPUs Go
// targets; not some old or embedded cores).

// bmul64 returns the low 64 bits of the carry-less product x*y. With one bit
// in four kept, at most 15 partial products meet in any result bit below
// bit 60 and at most 16 in bits 60-63, whose carry leaves the word: no carry
// reaches another kept bit.
func bmul64(x, y uint64) uint64 {
	const m0, m1, m2, m3 = 0x1111111111111111, 0x2222222222222222, 0x4444444444444444, 0x8888888888888888
	x0, x1, x2, x3 := x&m0, x&m1, x&m2, x&m3
	y0, y1, y2, y3 := y&m0, y&m1, y&m2, y&m3
	z0 := x0*y0 ^ x1*y3 ^ x2*y2 ^ x3*y1
	z1 := x0*y1 ^ x1*y0 ^ x2*y3 ^ x3*y2
	z2 := x0*y2 ^ x1*y1 ^ x2*y0 ^ x3*y3
	z3 := x0*y3 ^ x1*y2 ^ x2*y1 ^ x3*y0
	return z0&m0 | z1&m1 | z2&m2 | z3&m3
}

// clmul returns the 127-bit carry-less product x*y as hi:lo; the high half
// is the low half of the product of the bit-reversed operands, reversed.
func clmul(x, y uint64) (hi, lo uint64) {
	lo = bmul64(x, y)
	hi = bits.Reverse64(bmul64(bits.Reverse64(x), bits.Reverse64(y))) >> 1
	return
}

// dot returns a*b*x^-128 mod x^128 + x^127 + x^126 + x^121 + 1 (RFC 8452),
// elements as (low, high) 64-bit halves of the little-endian value.
func dot(a0, a1, b0, b1 uint64) (r0, r1 uint64) {
	h0, l0 := clmul(a0, b0)
	h1, l1 := clmul(a1, b1)
	h2, l2 := clmul(a0^a1, b0^b1) // Karatsuba middle term
	h2 ^= h0 ^ h1
	l2 ^= l0 ^ l1
	v0, v1, v2, v3 := l0, h0^l2, l1^h2, h1
	// Montgomery reduction: add v0*P, then v1*P, and drop the two low
	// words (multiplication by x^-128).
	v2 ^= v0 ^ v0>>1 ^ v0>>2 ^ v0>>7
	v1 ^= v0<<63 ^ v0<<62 ^ v0<<57
	v3 ^= v1 ^ v1>>1 ^ v1>>2 ^ v1>>7
	v2 ^= v1<<63 ^ v1<<62 ^ v1<<57
	return v2, v3
}

// polyval is a POLYVAL state: key h, accumulator s.
type polyval struct {
	h0, h1, s0, s1 uint64
}

func (p *polyval) init(h *[16]byte) {
	p.h0 = binary.LittleEndian.Uint64(h[0:])
	p.h1 = binary.LittleEndian.Uint64(h[8:])
	p.s0, p.s1 = 0, 0
}

// update absorbs whole blocks (len(b) a multiple of 16).
func (p *polyval) update(b []byte) {
	for ; len(b) >= 16; b = b[16:] {
		x0 := binary.LittleEndian.Uint64(b[0:])
		x1 := binary.LittleEndian.Uint64(b[8:])
		p.s0, p.s1 = dot(p.s0^x0, p.s1^x1, p.h0, p.h1)
	}
}

func (p *polyval) sum() (out [16]byte) {
	binary.LittleEndian.PutUint64(out[0:], p.s0)
	binary.LittleEndian.PutUint64(out[8:], p.s1)
	return
}
