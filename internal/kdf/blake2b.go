package kdf

import (
	"encoding/binary"
	"math/bits"
)

// BLAKE2b (RFC 7693), unkeyed, for Argon2's H0 and H': written here so
// that its state, message words and input buffer live in memory the
// caller wipes (golang.org/x/crypto/blake2b keeps its input buffer, and
// copies its state on the stack for each Sum).

const blake2bSize = 64 // the largest digest, in bytes

var blake2bIV = [8]uint64{
	0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
	0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
}

var blake2bSigma = [12][16]uint8{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
	{11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
	{7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
	{9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
	{2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
	{12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
	{13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
	{6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
	{10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
}

// blake2b is a BLAKE2b computation. Its fields hold the input's last
// block and the chaining value: the caller wipes it (clear) when done.
type blake2b struct {
	h    [8]uint64
	m    [16]uint64 // the block being compressed, as words
	v    [16]uint64 // the compression's working vector
	buf  [128]byte  // input not yet compressed: at most a block, kept until more comes or sum
	n    int        // bytes in buf
	t    uint64     // bytes compressed so far (Argon2's inputs stay far below 2^64)
	size int        // digest length, 1 to 64 bytes
}

// init starts a digest of size bytes (1 to 64).
func (d *blake2b) init(size int) {
	d.h = blake2bIV
	d.h[0] ^= 0x01010000 ^ uint64(size)
	d.n, d.t, d.size = 0, 0, size
}

func (d *blake2b) write(p []byte) {
	for len(p) > 0 {
		if d.n == len(d.buf) {
			d.t += uint64(d.n)
			d.compress(false)
			d.n = 0
		}
		k := copy(d.buf[d.n:], p)
		d.n += k
		p = p[k:]
	}
}

// sum writes the digest to out[:d.size].
func (d *blake2b) sum(out []byte) {
	d.t += uint64(d.n)
	clear(d.buf[d.n:])
	d.compress(true)
	for i := range d.size {
		out[i] = byte(d.h[i/8] >> (8 * (i % 8)))
	}
}

func (d *blake2b) compress(final bool) {
	m, v := &d.m, &d.v
	for i := range m {
		m[i] = binary.LittleEndian.Uint64(d.buf[8*i:])
	}
	copy(v[:8], d.h[:])
	copy(v[8:], blake2bIV[:])
	v[12] ^= d.t
	if final {
		v[14] = ^v[14]
	}
	g := func(a, b, c, e int, x, y uint64) {
		v[a] += v[b] + x
		v[e] = bits.RotateLeft64(v[e]^v[a], -32)
		v[c] += v[e]
		v[b] = bits.RotateLeft64(v[b]^v[c], -24)
		v[a] += v[b] + y
		v[e] = bits.RotateLeft64(v[e]^v[a], -16)
		v[c] += v[e]
		v[b] = bits.RotateLeft64(v[b]^v[c], -63)
	}
	for r := range blake2bSigma {
		s := &blake2bSigma[r]
		g(0, 4, 8, 12, m[s[0]], m[s[1]])
		g(1, 5, 9, 13, m[s[2]], m[s[3]])
		g(2, 6, 10, 14, m[s[4]], m[s[5]])
		g(3, 7, 11, 15, m[s[6]], m[s[7]])
		g(0, 5, 10, 15, m[s[8]], m[s[9]])
		g(1, 6, 11, 12, m[s[10]], m[s[11]])
		g(2, 7, 8, 13, m[s[12]], m[s[13]])
		g(3, 4, 9, 14, m[s[14]], m[s[15]])
	}
	for i := range d.h {
		d.h[i] ^= v[i] ^ v[i+8]
	}
}
