package stream

import (
	"encoding/binary"
	"math/bits"
)

// HKDF-SHA256 (RFC 5869) with every intermediate value in one struct that
// the caller wipes. crypto/hmac and crypto/hkdf keep the HMAC key XORed
// with the pads, the hashed message block and the output in buffers of
// their own that nothing clears: the main key, the pseudorandom key and the
// derived AES key would stay in freed heap memory. Only the output of a
// single HMAC block is needed (the derived key is 16 or 32 bytes, one
// SHA-256 output), so Expand is one HMAC: T(1) = HMAC(PRK, info || 0x01).

// sha256State is SHA-256 (FIPS 180-4) with the message schedule kept in
// the state, so that clearing the state clears it too.
type sha256State struct {
	h   [8]uint32
	x   [64]byte // buffered input
	nx  int
	len uint64
	w   [64]uint32 // message schedule of the last block
}

var sha256IV = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

var sha256K = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

func (d *sha256State) reset() {
	d.h = sha256IV
	d.nx = 0
	d.len = 0
}

// block runs the compression function over one 64-byte block.
func (d *sha256State) block(p *[64]byte) {
	w := &d.w
	for i := 0; i < 16; i++ {
		w[i] = binary.BigEndian.Uint32(p[4*i:])
	}
	for i := 16; i < 64; i++ {
		v1, v2 := w[i-2], w[i-15]
		s1 := bits.RotateLeft32(v1, -17) ^ bits.RotateLeft32(v1, -19) ^ v1>>10
		s0 := bits.RotateLeft32(v2, -7) ^ bits.RotateLeft32(v2, -18) ^ v2>>3
		w[i] = s1 + w[i-7] + s0 + w[i-16]
	}
	a, b, c, dd, e, f, g, h := d.h[0], d.h[1], d.h[2], d.h[3], d.h[4], d.h[5], d.h[6], d.h[7]
	for i := 0; i < 64; i++ {
		t1 := h + (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) +
			((e & f) ^ (^e & g)) + sha256K[i] + w[i]
		t2 := (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) +
			((a & b) ^ (a & c) ^ (b & c))
		h, g, f, e, dd, c, b, a = g, f, e, dd+t1, c, b, a, t1+t2
	}
	d.h[0] += a
	d.h[1] += b
	d.h[2] += c
	d.h[3] += dd
	d.h[4] += e
	d.h[5] += f
	d.h[6] += g
	d.h[7] += h
}

// write absorbs p; every byte goes through d.x.
func (d *sha256State) write(p []byte) {
	d.len += uint64(len(p))
	for len(p) > 0 {
		n := copy(d.x[d.nx:], p)
		d.nx += n
		p = p[n:]
		if d.nx == 64 {
			d.block(&d.x)
			d.nx = 0
		}
	}
}

// sum pads and finishes the hash into out; the state is spent.
func (d *sha256State) sum(out *[32]byte) {
	bitLen := d.len << 3
	d.x[d.nx] = 0x80
	d.nx++
	if d.nx > 56 {
		clear(d.x[d.nx:])
		d.block(&d.x)
		d.nx = 0
	}
	clear(d.x[d.nx:56])
	binary.BigEndian.PutUint64(d.x[56:], bitLen)
	d.block(&d.x)
	for i, v := range d.h {
		binary.BigEndian.PutUint32(out[4*i:], v)
	}
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) over sha256State.
type hmacSHA256 struct {
	inner, outer sha256State
	pad          [64]byte
	ih           [32]byte // the inner hash
}

// init keys the HMAC; key may be any length (longer than a block: hashed).
func (m *hmacSHA256) init(key []byte) {
	clear(m.pad[:])
	if len(key) > 64 {
		m.inner.reset()
		m.inner.write(key)
		m.inner.sum(&m.ih)
		copy(m.pad[:], m.ih[:])
	} else {
		copy(m.pad[:], key)
	}
	for i := range m.pad {
		m.pad[i] ^= 0x36
	}
	m.inner.reset()
	m.inner.write(m.pad[:])
	for i := range m.pad {
		m.pad[i] ^= 0x36 ^ 0x5c
	}
	m.outer.reset()
	m.outer.write(m.pad[:])
}

func (m *hmacSHA256) write(p []byte) { m.inner.write(p) }

// sum finishes the MAC into out; the HMAC is spent.
func (m *hmacSHA256) sum(out *[32]byte) {
	m.inner.sum(&m.ih)
	m.outer.write(m.ih[:])
	m.outer.sum(out)
}

// hkdfState is the whole working memory of one key derivation.
type hkdfState struct {
	mac hmacSHA256
	prk [32]byte
	okm [32]byte
}

// derive computes HKDF-SHA256(ikm, salt, info) for one output block into
// s.okm: PRK = HMAC(salt, ikm), OKM = HMAC(PRK, info || 0x01). The caller
// takes the first L <= 32 bytes and clears s.
func (s *hkdfState) derive(ikm, salt, info []byte) {
	if len(salt) == 0 {
		salt = make([]byte, 32) // RFC 5869: HashLen zeros
	}
	s.mac.init(salt)
	s.mac.write(ikm)
	s.mac.sum(&s.prk)
	s.mac.init(s.prk[:])
	s.mac.write(info)
	s.mac.write([]byte{1})
	s.mac.sum(&s.okm)
}

// burnStack overwrites the stack below its caller's frame with zeros:
// called right after a function that held key material in local variables
// or register spills, from the same frame, it covers that function's
// frames. Called before such a function too, it makes sure the goroutine
// stack has room, so that the stack is not copied to a new place (leaving
// the old copy behind) while key material is on it.
//
//go:noinline
func burnStack() {
	var b [16 << 10]byte
	burnSink(&b)
}

// burnSink reads the array, so that the compiler must zero all of it.
//
//go:noinline
func burnSink(b *[16 << 10]byte) {
	if b[0]|b[len(b)-1] != 0 {
		panic("stream: stack burn array not zeroed")
	}
}
