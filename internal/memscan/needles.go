// Package memscan is test support for key hygiene: it searches the memory
// of another process for an AES key and every form of its key schedule, so
// that a test can prove that a key is gone from a process's memory (or, as
// a positive control, that it is there).
//
// The design is parent/child: the PARENT test process computes the needles
// (Needles) and scans (Scan) a CHILD process started with RunChild, which
// does the work under test and then waits. The searcher must not live in the
// scanned process: it would find its own needles.
//
// Scan works on Linux only (/proc/PID/maps and /proc/PID/mem, which needs
// ptrace access to the target: a parent may read its child when
// kernel.yama.ptrace_scope <= 1, root always). Elsewhere Scan returns
// ErrUnsupported and RunChild skips the test.
//
// What it finds: byte strings. A key held in a representation that is not
// one of the needle forms (bitsliced round keys, masked or split shares,
// keys XORed with a constant) is not found; a zero result proves only that
// none of the listed forms is present in readable memory of the process.
// Memory the kernel holds for the process (pipe buffers, page cache, swap)
// and CPU registers are not scanned.
package memscan

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Needle is one byte string to search for and what it is.
type Needle struct {
	Bytes []byte
	Name  string
}

// Needles returns the byte strings that reveal key (16, 24 or 32 bytes):
// the key itself, each 16-byte round key of its AES encryption schedule
// (FIPS-197 5.2), each round key of the decryption schedule of the
// equivalent inverse cipher (InvMixColumns applied to round keys 1..Nr-1,
// what AESIMC produces), each in byte order and with every 32-bit word
// byte-reversed (the form of an implementation that stores round keys as
// big-endian uint32 words on a little-endian machine, as Go's generic AES
// does). Duplicates and needles whose bytes are all equal (they would match
// ordinary memory) are dropped. It panics on another key length.
func Needles(key []byte) [][]byte {
	ns := NeedleSet(key)
	out := make([][]byte, len(ns))
	for i, n := range ns {
		out[i] = n.Bytes
	}
	return out
}

// NeedleSet is Needles with a name for each needle; index i of both is the
// same needle. Index 0 is always the raw key.
func NeedleSet(key []byte) []Needle {
	nk := len(key) / 4
	if len(key) != 16 && len(key) != 24 && len(key) != 32 {
		panic("memscan: key must be 16, 24 or 32 bytes")
	}
	nr := nk + 6
	enc := expand(key)
	var out []Needle
	add := func(b []byte, name string) {
		if allEqual(b) {
			return
		}
		for _, n := range out {
			if bytes.Equal(n.Bytes, b) {
				return
			}
		}
		out = append(out, Needle{Bytes: b, Name: name})
	}
	add(bytes.Clone(key), fmt.Sprintf("AES-%d key", 8*len(key)))
	add(wordSwap(key), "key, words byte-reversed")
	for r := 0; r <= nr; r++ {
		rk := enc[16*r : 16*r+16]
		add(bytes.Clone(rk), fmt.Sprintf("encryption round key %d", r))
		add(wordSwap(rk), fmt.Sprintf("encryption round key %d, words byte-reversed", r))
	}
	for r := 1; r < nr; r++ {
		rk := invMixColumns(enc[16*r : 16*r+16])
		add(rk, fmt.Sprintf("decryption round key InvMixColumns(rk %d)", r))
		add(wordSwap(rk), fmt.Sprintf("decryption round key InvMixColumns(rk %d), words byte-reversed", r))
	}
	return out
}

func allEqual(b []byte) bool {
	for _, x := range b {
		if x != b[0] {
			return false
		}
	}
	return true
}

func wordSwap(b []byte) []byte {
	out := make([]byte, len(b))
	for i := 0; i+4 <= len(b); i += 4 {
		binary.BigEndian.PutUint32(out[i:], binary.LittleEndian.Uint32(b[i:]))
	}
	return out
}

// GF(2^8) arithmetic and the S-box, computed here from their definitions
// (this package must not depend on the implementations it checks).

func xtime(a byte) byte {
	return a<<1 ^ byte(int8(a)>>7)&0x1B
}

func gmul(a, b byte) byte {
	var r byte
	for b != 0 {
		if b&1 != 0 {
			r ^= a
		}
		a = xtime(a)
		b >>= 1
	}
	return r
}

var sbox = func() (s [256]byte) {
	for x := 0; x < 256; x++ {
		// inverse by exponentiation: x^254
		inv := byte(1)
		for i := 0; i < 254; i++ {
			inv = gmul(inv, byte(x))
		}
		if x == 0 {
			inv = 0
		}
		// affine transform
		b := inv
		s[x] = b ^ rotl8(b, 1) ^ rotl8(b, 2) ^ rotl8(b, 3) ^ rotl8(b, 4) ^ 0x63
	}
	return
}()

func rotl8(b byte, n uint) byte { return b<<n | b>>(8-n) }

// expand returns the encryption round keys, 16*(Nr+1) bytes in byte order.
func expand(key []byte) []byte {
	nk := len(key) / 4
	nr := nk + 6
	w := make([]byte, 16*(nr+1))
	copy(w, key)
	rcon := byte(1)
	for i := nk; i < 4*(nr+1); i++ {
		var t [4]byte
		copy(t[:], w[4*(i-1):])
		if i%nk == 0 {
			t = [4]byte{sbox[t[1]] ^ rcon, sbox[t[2]], sbox[t[3]], sbox[t[0]]}
			rcon = xtime(rcon)
		} else if nk > 6 && i%nk == 4 {
			t = [4]byte{sbox[t[0]], sbox[t[1]], sbox[t[2]], sbox[t[3]]}
		}
		for j := 0; j < 4; j++ {
			w[4*i+j] = w[4*(i-nk)+j] ^ t[j]
		}
	}
	return w
}

// invMixColumns applies InvMixColumns to a 16-byte round key (4 columns).
func invMixColumns(b []byte) []byte {
	out := make([]byte, 16)
	for c := 0; c < 4; c++ {
		a := b[4*c : 4*c+4]
		for r := 0; r < 4; r++ {
			out[4*c+r] = gmul(a[r], 14) ^ gmul(a[(r+1)%4], 11) ^ gmul(a[(r+2)%4], 13) ^ gmul(a[(r+3)%4], 9)
		}
	}
	return out
}
