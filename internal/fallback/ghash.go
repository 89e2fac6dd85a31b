package fallback

import "encoding/binary"

// GHASH is a constant-time GHASH (NIST SP 800-38D) for the generic GCM,
// computed with the POLYVAL code of polyval.go through RFC 8452 appendix A:
// GHASH(H, X) = ByteReverse(POLYVAL(mulX(ByteReverse(H)), ByteReverse(X))).
// The GHASH key H is not the AES key; it lives in this ordinary struct.
type GHASH struct {
	h0, h1 uint64 // mulX(ByteReverse(H)) as a POLYVAL key
}

// NewGHASH returns a GHASH for the key H = E(0^128).
func NewGHASH(h *[16]byte) *GHASH {
	g := new(GHASH)
	g.Init(h)
	return g
}

// Init sets the key.
func (g *GHASH) Init(h *[16]byte) {
	lo := binary.BigEndian.Uint64(h[8:])
	hi := binary.BigEndian.Uint64(h[0:])
	// mulX in the POLYVAL field: x^128 = x^127 + x^126 + x^121 + 1.
	carry := hi >> 63
	hi = hi<<1 | lo>>63
	lo <<= 1
	lo ^= 1 & -carry
	hi ^= (1<<63 | 1<<62 | 1<<57) & -carry
	g.h0, g.h1 = lo, hi
}

// Update absorbs whole 16-byte blocks into the GHASH accumulator acc
// (acc = (acc XOR X_i) * H for each block). It panics if len(data) is not
// a multiple of 16.
func (g *GHASH) Update(acc *[16]byte, data []byte) {
	if len(data)%16 != 0 {
		panic("fallback: GHASH input is not whole blocks")
	}
	s0 := binary.BigEndian.Uint64(acc[8:])
	s1 := binary.BigEndian.Uint64(acc[0:])
	for ; len(data) > 0; data = data[16:] {
		x0 := binary.BigEndian.Uint64(data[8:])
		x1 := binary.BigEndian.Uint64(data[0:])
		s0, s1 = dot(s0^x0, s1^x1, g.h0, g.h1)
	}
	binary.BigEndian.PutUint64(acc[8:], s0)
	binary.BigEndian.PutUint64(acc[0:], s1)
}

// Wipe zeroes the key.
//
//go:noinline
func (g *GHASH) Wipe() {
	*g = GHASH{}
}
