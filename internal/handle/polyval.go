package handle

import "encoding/binary"

// Polyval is a from-scratch, bit-serial POLYVAL (RFC 8452 section 3): the
// reference the assembly is checked against. It is constant-time (no
// branches on data) but slow; it is not used on a hot path.
type Polyval struct {
	h, s elem
}

// elem is an element of GF(2^128) mod x^128 + x^127 + x^126 + x^121 + 1,
// bit i of the little-endian 128-bit value being the coefficient of x^i.
type elem struct{ lo, hi uint64 }

func load(b []byte) elem {
	return elem{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}
}

// mulx returns a*x mod P.
func (a elem) mulx() elem {
	carry := a.hi >> 63
	r := elem{a.lo << 1, a.hi<<1 | a.lo>>63}
	// x^128 = x^127 + x^126 + x^121 + 1
	mask := -carry
	r.lo ^= 1 & mask
	r.hi ^= (1<<63 | 1<<62 | 1<<57) & mask
	return r
}

// mul returns a*b mod P.
func mul(a, b elem) elem {
	var r elem
	for i := 0; i < 128; i++ {
		var bit uint64
		if i < 64 {
			bit = b.lo >> i & 1
		} else {
			bit = b.hi >> (i - 64) & 1
		}
		m := -bit
		r.lo ^= a.lo & m
		r.hi ^= a.hi & m
		a = a.mulx()
	}
	return r
}

// xInv128 is x^-128 mod P = x^127 + x^124 + x^121 + x^114 + 1 (RFC 8452).
var xInv128 = elem{1, 1<<63 | 1<<60 | 1<<57 | 1<<50}

// Dot is RFC 8452's dot(a, b) = a * b * x^-128.
func dot(a, b elem) elem { return mul(mul(a, b), xInv128) }

// Init sets the POLYVAL key and resets the state.
func (p *Polyval) Init(h *[16]byte) {
	p.h = load(h[:])
	p.s = elem{}
}

// Update absorbs whole 16-byte blocks; len(b) must be a multiple of 16.
func (p *Polyval) Update(b []byte) {
	if len(b)%16 != 0 {
		panic("handle: POLYVAL input is not whole blocks")
	}
	for ; len(b) > 0; b = b[16:] {
		x := load(b)
		p.s = dot(elem{p.s.lo ^ x.lo, p.s.hi ^ x.hi}, p.h)
	}
}

// Sum returns the current POLYVAL value.
func (p *Polyval) Sum() (out [16]byte) {
	binary.LittleEndian.PutUint64(out[0:], p.s.lo)
	binary.LittleEndian.PutUint64(out[8:], p.s.hi)
	return
}
