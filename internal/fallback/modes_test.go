package fallback

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/crypto/xts"

	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
)

func newHandle(t *testing.T, r *[4096]byte, key []byte) *[64]byte {
	var h [64]byte
	GenericEncodeKey(r, key, 0, &h)
	return &h
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestGenericCTR(t *testing.T) {
	r, _ := testRegion(t)
	for _, n := range []int{16, 24, 32} {
		key := randBytes(n)
		h := newHandle(t, r, key)
		blk, _ := aes.NewCipher(key)
		for _, start := range [][]byte{randBytes(16), bytes.Repeat([]byte{0xFF}, 16), append(bytes.Repeat([]byte{0}, 8), bytes.Repeat([]byte{0xFF}, 8)...)} {
			src := randBytes(16 * 37)
			want := make([]byte, len(src))
			cipher.NewCTR(blk, start).XORKeyStream(want, src)
			// In pieces of 0, 1, 5, 9, 22 blocks: the counter chains.
			var ctr [16]byte
			copy(ctr[:], start)
			got := bytes.Clone(src)
			off := 0
			for _, nb := range []int{0, 1, 5, 9, 22} {
				if !GenericCTR(r, h, got[off:off+16*nb], got[off:off+16*nb], &ctr, 0) {
					t.Fatal("GenericCTR refused")
				}
				off += 16 * nb
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("AES-%d CTR from %x differs", 8*n, start)
			}
		}
		// inc32: the low 32 bits wrap without carrying.
		var ctr [16]byte
		copy(ctr[:], randBytes(16))
		binary.BigEndian.PutUint32(ctr[12:], 0xFFFFFFFE)
		c0 := ctr
		src := randBytes(16 * 5)
		got := make([]byte, len(src))
		if !GenericCTR(r, h, got, src, &ctr, ModeInc32) {
			t.Fatal("refused")
		}
		for i := 0; i < 5; i++ {
			cb := c0
			binary.BigEndian.PutUint32(cb[12:], 0xFFFFFFFE+uint32(i))
			var ks [16]byte
			blk.Encrypt(ks[:], cb[:])
			for j := range ks {
				ks[j] ^= src[16*i+j]
			}
			if !bytes.Equal(ks[:], got[16*i:16*i+16]) {
				t.Fatalf("inc32 block %d differs", i)
			}
		}
		if !bytes.Equal(ctr[:12], c0[:12]) || binary.BigEndian.Uint32(ctr[12:]) != 3 {
			t.Fatalf("inc32 counter after 5 blocks: %x", ctr)
		}
	}
}

func TestGenericCBC(t *testing.T) {
	r, _ := testRegion(t)
	for _, n := range []int{16, 24, 32} {
		key := randBytes(n)
		h := newHandle(t, r, key)
		blk, _ := aes.NewCipher(key)
		iv := randBytes(16)
		src := randBytes(16 * 29)
		want := make([]byte, len(src))
		cipher.NewCBCEncrypter(blk, iv).CryptBlocks(want, src)
		var v [16]byte
		copy(v[:], iv)
		got := bytes.Clone(src)
		off := 0
		for _, nb := range []int{0, 3, 1, 25} {
			if !GenericCBCEncrypt(r, h, got[off:off+16*nb], got[off:off+16*nb], &v, 0) {
				t.Fatal("refused")
			}
			off += 16 * nb
		}
		if !bytes.Equal(got, want) || !bytes.Equal(v[:], want[len(want)-16:]) {
			t.Fatalf("AES-%d CBC encrypt differs", 8*n)
		}
		copy(v[:], iv)
		off = 0
		for _, nb := range []int{5, 0, 1, 23} {
			if !GenericCBCDecrypt(r, h, got[off:off+16*nb], got[off:off+16*nb], &v, 0) {
				t.Fatal("refused")
			}
			off += 16 * nb
		}
		if !bytes.Equal(got, src) || !bytes.Equal(v[:], want[len(want)-16:]) {
			t.Fatalf("AES-%d CBC decrypt (in place) differs", 8*n)
		}
		// Separate buffers.
		copy(v[:], iv)
		out := make([]byte, len(want))
		if !GenericCBCDecrypt(r, h, out, want, &v, 0) || !bytes.Equal(out, src) {
			t.Fatalf("AES-%d CBC decrypt differs", 8*n)
		}
	}
}

// XTS against golang.org/x/crypto/xts (sector number little-endian in the
// tweak), with and without a tweak handle, chaining across calls.
func TestGenericXTS(t *testing.T) {
	r, _ := testRegion(t)
	for _, n := range []int{16, 32} {
		k1, k2 := randBytes(n), randBytes(n)
		ref, err := xts.NewCipher(aes.NewCipher, append(bytes.Clone(k1), k2...))
		if err != nil {
			t.Fatal(err)
		}
		h1, h2 := newHandle(t, r, k1), newHandle(t, r, k2)
		for _, sector := range []uint64{0, 1, 0x0123456789abcdef} {
			src := randBytes(16 * 33)
			want := make([]byte, len(src))
			ref.Encrypt(want, src, sector)
			var tw [16]byte
			binary.LittleEndian.PutUint64(tw[:], sector)
			got := bytes.Clone(src)
			if !GenericXTS(r, h1, h2, got[:16*7], got[:16*7], &tw, 0) ||
				!GenericXTS(r, h1, nil, got[16*7:], got[16*7:], &tw, 0) {
				t.Fatal("refused")
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("AES-%d XTS sector %d encrypt differs", 8*n, sector)
			}
			binary.LittleEndian.PutUint64(tw[:], sector)
			clear(tw[8:])
			back := make([]byte, len(src))
			if !GenericXTS(r, h1, h2, back, got, &tw, ModeDecrypt) || !bytes.Equal(back, src) {
				t.Fatalf("AES-%d XTS sector %d decrypt differs", 8*n, sector)
			}
		}
	}
}

// GCM: GenericGCMCTR and GHASH give crypto/cipher's GCM output.
func TestGenericGCM(t *testing.T) {
	r, _ := testRegion(t)
	for _, n := range []int{16, 24, 32} {
		key := randBytes(n)
		h := newHandle(t, r, key)
		blk, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(blk)
		for _, ptLen := range []int{0, 16, 64, 16 * 21} {
			nonce, aad, pt := randBytes(12), randBytes(16*3), randBytes(ptLen)
			sealed := aead.Seal(nil, nonce, pt, aad)
			var hk, j0, mask [16]byte
			blk.Encrypt(hk[:], hk[:])
			copy(j0[:], nonce)
			j0[15] = 1
			j0c := j0
			ct := make([]byte, ptLen)
			if !GenericGCMCTR(r, h, ct, pt, &j0, &mask, ModeInc32) {
				t.Fatal("refused")
			}
			if j0 != j0c {
				t.Fatal("j0 modified")
			}
			if !bytes.Equal(ct, sealed[:ptLen]) {
				t.Fatalf("AES-%d GCM ciphertext differs", 8*n)
			}
			g := NewGHASH(&hk)
			var acc, lens [16]byte
			g.Update(&acc, aad)
			g.Update(&acc, ct)
			binary.BigEndian.PutUint64(lens[0:], uint64(8*len(aad)))
			binary.BigEndian.PutUint64(lens[8:], uint64(8*ptLen))
			g.Update(&acc, lens[:])
			for i := range acc {
				acc[i] ^= mask[i]
			}
			if !bytes.Equal(acc[:], sealed[ptLen:]) {
				t.Fatalf("AES-%d GCM tag %x, want %x", 8*n, acc, sealed[ptLen:])
			}
		}
	}
}

// A bad handle (either one for XTS) fails every kernel with dst and the
// state untouched.
func TestGenericModesTamper(t *testing.T) {
	r, _ := testRegion(t)
	good := newHandle(t, r, randBytes(32))
	bad := *good
	bad[40] ^= 1
	src := randBytes(64)
	sentinel := bytes.Repeat([]byte{0x5A}, 64)
	state := [16]byte{1, 2, 3}
	check := func(name string, f func(dst []byte, st, st2 *[16]byte) bool) {
		t.Helper()
		dst := bytes.Clone(sentinel)
		st, st2 := state, state
		if f(dst, &st, &st2) || !bytes.Equal(dst, sentinel) || st != state || st2 != state {
			t.Errorf("%s: bad handle accepted or output/state touched", name)
		}
	}
	check("CTR", func(d []byte, s, _ *[16]byte) bool { return GenericCTR(r, &bad, d, src, s, 0) })
	check("CBCEnc", func(d []byte, s, _ *[16]byte) bool { return GenericCBCEncrypt(r, &bad, d, src, s, 0) })
	check("CBCDec", func(d []byte, s, _ *[16]byte) bool { return GenericCBCDecrypt(r, &bad, d, src, s, 0) })
	check("XTS data", func(d []byte, s, _ *[16]byte) bool { return GenericXTS(r, &bad, good, d, src, s, 0) })
	check("XTS tweak", func(d []byte, s, _ *[16]byte) bool { return GenericXTS(r, good, &bad, d, src, s, 0) })
	check("GCMCTR", func(d []byte, s, s2 *[16]byte) bool { return GenericGCMCTR(r, &bad, d, src, s, s2, ModeInc32) })
}

func TestGenericModesNoAlloc(t *testing.T) {
	r, _ := testRegion(t)
	h := newHandle(t, r, randBytes(32))
	buf := make([]byte, 256)
	var st, st2 [16]byte
	for name, f := range map[string]func(){
		"CTR":    func() { GenericCTR(r, h, buf, buf, &st, 0) },
		"CBCEnc": func() { GenericCBCEncrypt(r, h, buf, buf, &st, 0) },
		"CBCDec": func() { GenericCBCDecrypt(r, h, buf, buf, &st, 0) },
		"XTS":    func() { GenericXTS(r, h, h, buf, buf, &st, 0) },
		"GCMCTR": func() { GenericGCMCTR(r, h, buf, buf, &st, &st2, ModeInc32) },
	} {
		if n := testing.AllocsPerRun(10, f); n != 0 {
			t.Errorf("%s allocates %v times", name, n)
		}
	}
}

// blockCounts is every block count 0..40 plus a few large ones.
func blockCounts() []int {
	var c []int
	for n := 0; n <= 40; n++ {
		c = append(c, n)
	}
	return append(c, 63, 257)
}

// addCounter returns c + k mod 2^128 (big-endian), or mod 2^32 in the low
// word with inc32.
func addCounter(c [16]byte, k uint64, inc32 bool) [16]byte {
	if inc32 {
		binary.BigEndian.PutUint32(c[12:], binary.BigEndian.Uint32(c[12:])+uint32(k))
		return c
	}
	lo := binary.BigEndian.Uint64(c[8:])
	hi := binary.BigEndian.Uint64(c[0:])
	nlo := lo + k
	if nlo < lo {
		hi++
	}
	binary.BigEndian.PutUint64(c[8:], nlo)
	binary.BigEndian.PutUint64(c[0:], hi)
	return c
}

// refCTR is a hand-written CTR over crypto/aes (inc32 or 128-bit).
func refCTR(blk cipher.Block, dst, src []byte, ctr [16]byte, inc32 bool) {
	var ks [16]byte
	for i := 0; i < len(src); i += 16 {
		blk.Encrypt(ks[:], ctr[:])
		for j := 0; j < 16; j++ {
			dst[i+j] = src[i+j] ^ ks[j]
		}
		ctr = addCounter(ctr, 1, inc32)
	}
}

// Every block count, every key size, in place and not, against crypto/aes
// (cipher.NewCTR for the 128-bit counter, refCTR for inc32), with counters
// that carry across the 64-bit halves and wrap at 2^128 / 2^32 inside a
// four-block batch; *ctr must be the start plus the block count.
func TestGenericCTRAllLengths(t *testing.T) {
	r, _ := testRegion(t)
	starts := func() [][16]byte {
		var s [][16]byte
		var c [16]byte
		copy(c[:], randBytes(16))
		s = append(s, c)
		for _, back := range []uint64{1, 2, 3, 5} {
			var f [16]byte
			binary.BigEndian.PutUint64(f[:8], ^uint64(0))
			binary.BigEndian.PutUint64(f[8:], -back)
			s = append(s, f) // 2^128 - back: wraps to 0
			copy(c[:8], randBytes(8))
			binary.BigEndian.PutUint64(c[8:], -back)
			s = append(s, c) // carry from the low 64 bits into the high
		}
		return s
	}()
	for _, ks := range []int{16, 24, 32} {
		key := randBytes(ks)
		h := newHandle(t, r, key)
		blk, _ := aes.NewCipher(key)
		for si, start := range starts {
			for _, n := range blockCounts() {
				if si > 0 && n > 12 {
					break // the wrap cases need only a few batches
				}
				src := randBytes(16 * n)
				for _, inc32 := range []bool{false, true} {
					want := make([]byte, len(src))
					flags := 0
					if inc32 {
						flags = ModeInc32
						refCTR(blk, want, src, start, true)
					} else {
						cipher.NewCTR(blk, start[:]).XORKeyStream(want, src)
					}
					for _, inPlace := range []bool{false, true} {
						ctr := start
						got := make([]byte, len(src))
						in := src
						if inPlace {
							copy(got, src)
							in = got
						}
						if !GenericCTR(r, h, got, in, &ctr, flags) {
							t.Fatal("GenericCTR refused")
						}
						if !bytes.Equal(got, want) {
							t.Fatalf("AES-%d CTR inc32=%v from %x, %d blocks, in place %v: differs", 8*ks, inc32, start, n, inPlace)
						}
						if ctr != addCounter(start, uint64(n), inc32) {
							t.Fatalf("AES-%d CTR inc32=%v from %x, %d blocks: counter %x", 8*ks, inc32, start, n, ctr)
						}
					}
				}
			}
		}
	}
}

// Every block count: CBC against crypto/cipher, in place and not; *iv is
// the last ciphertext block (unchanged for 0 blocks).
func TestGenericCBCAllLengths(t *testing.T) {
	r, _ := testRegion(t)
	for _, ks := range []int{16, 24, 32} {
		key := randBytes(ks)
		h := newHandle(t, r, key)
		blk, _ := aes.NewCipher(key)
		for _, n := range blockCounts() {
			var iv [16]byte
			copy(iv[:], randBytes(16))
			src := randBytes(16 * n)
			want := make([]byte, len(src))
			cipher.NewCBCEncrypter(blk, iv[:]).CryptBlocks(want, src)
			wantIV := iv
			if n > 0 {
				copy(wantIV[:], want[len(want)-16:])
			}
			for _, inPlace := range []bool{false, true} {
				got := make([]byte, len(src))
				in := src
				if inPlace {
					copy(got, src)
					in = got
				}
				v := iv
				if !GenericCBCEncrypt(r, h, got, in, &v, 0) || !bytes.Equal(got, want) || v != wantIV {
					t.Fatalf("AES-%d CBC encrypt %d blocks in place %v: differs", 8*ks, n, inPlace)
				}
				back := make([]byte, len(src))
				in = got
				if inPlace {
					back = got
				}
				v = iv
				if !GenericCBCDecrypt(r, h, back, in, &v, 0) || !bytes.Equal(back, src) || v != wantIV {
					t.Fatalf("AES-%d CBC decrypt %d blocks in place %v: differs", 8*ks, n, inPlace)
				}
			}
		}
	}
}

// mulX is the reference doubling in value form.
func mulX(t [16]byte) [16]byte {
	kerneltest.XTSDouble(&t)
	return t
}

// Every block count: XTS against x/crypto/xts (whole sectors), encrypt and
// decrypt, in place and not, with the tweak handle and with a
// pre-encrypted tweak (hTweak nil), split across two calls; *tweak is
// E(tweak) * x^n.
func TestGenericXTSAllLengths(t *testing.T) {
	r, _ := testRegion(t)
	for _, ks := range []int{16, 32} {
		k1, k2 := randBytes(ks), randBytes(ks)
		ref, err := xts.NewCipher(aes.NewCipher, append(bytes.Clone(k1), k2...))
		if err != nil {
			t.Fatal(err)
		}
		tb, _ := aes.NewCipher(k2)
		h1, h2 := newHandle(t, r, k1), newHandle(t, r, k2)
		for _, n := range blockCounts() {
			sector := binary.LittleEndian.Uint64(randBytes(8))
			if n%5 == 0 {
				sector = 1<<63 | 1 // the top bit: doubling reduces at once
			}
			src := randBytes(16 * n)
			want := make([]byte, len(src))
			if n > 0 {
				ref.Encrypt(want, src, sector)
			}
			var tw0 [16]byte
			binary.LittleEndian.PutUint64(tw0[:], sector)
			var enc [16]byte
			tb.Encrypt(enc[:], tw0[:])
			wantTw := enc
			for i := 0; i < n; i++ {
				wantTw = mulX(wantTw)
			}
			for _, inPlace := range []bool{false, true} {
				for _, dec := range []bool{false, true} {
					in, exp, flags := src, want, 0
					if dec {
						in, exp, flags = want, src, ModeDecrypt
					}
					got := make([]byte, len(src))
					if inPlace {
						copy(got, in)
						in = got
					}
					tw := tw0
					split := 16 * (n / 3)
					if !GenericXTS(r, h1, h2, got[:split], in[:split], &tw, flags) ||
						!GenericXTS(r, h1, nil, got[split:], in[split:], &tw, flags) {
						t.Fatal("GenericXTS refused")
					}
					if !bytes.Equal(got, exp) || tw != wantTw {
						t.Fatalf("AES-%d XTS %d blocks decrypt %v in place %v: differs", 8*ks, n, dec, inPlace)
					}
				}
			}
		}
	}
}

// Every block count: GenericGCMCTR against a hand-written inc32 CTR and
// E(J0), including a J0 whose low word wraps; J0 unchanged.
func TestGenericGCMCTRAllLengths(t *testing.T) {
	r, _ := testRegion(t)
	for _, ks := range []int{16, 24, 32} {
		key := randBytes(ks)
		h := newHandle(t, r, key)
		blk, _ := aes.NewCipher(key)
		for _, n := range blockCounts() {
			var j0 [16]byte
			copy(j0[:], randBytes(16))
			if n%4 == 1 {
				binary.BigEndian.PutUint32(j0[12:], 0xFFFFFFFF-uint32(n%3))
			}
			src := randBytes(16 * n)
			want := make([]byte, len(src))
			refCTR(blk, want, src, addCounter(j0, 1, true), true)
			var wantMask [16]byte
			blk.Encrypt(wantMask[:], j0[:])
			for _, inPlace := range []bool{false, true} {
				got := make([]byte, len(src))
				in := src
				if inPlace {
					copy(got, src)
					in = got
				}
				jj := j0
				var mask [16]byte
				if !GenericGCMCTR(r, h, got, in, &jj, &mask, ModeInc32) {
					t.Fatal("GenericGCMCTR refused")
				}
				if !bytes.Equal(got, want) || mask != wantMask || jj != j0 {
					t.Fatalf("AES-%d GCMCTR %d blocks in place %v: differs", 8*ks, n, inPlace)
				}
			}
		}
	}
}

// Tamper with every handle byte region (metadata, tag, wrapped key) of
// AES-128 and AES-256 handles: every kernel refuses, dst and state intact.
func TestGenericModesTamperAll(t *testing.T) {
	r, _ := testRegion(t)
	src := randBytes(16 * 9)
	sentinel := bytes.Repeat([]byte{0xA5}, len(src))
	for _, ks := range []int{16, 32} {
		good := newHandle(t, r, randBytes(ks))
		hl := 48
		if ks == 32 {
			hl = 64
		}
		for _, pos := range []int{0, 3, 16, 31, 32, hl - 1} {
			bad := *good
			bad[pos] ^= 0x10
			state := [16]byte{9, 8, 7}
			for name, f := range map[string]func(d []byte, s, s2 *[16]byte) bool{
				"CTR":       func(d []byte, s, _ *[16]byte) bool { return GenericCTR(r, &bad, d, src, s, ModeInc32) },
				"CBCEnc":    func(d []byte, s, _ *[16]byte) bool { return GenericCBCEncrypt(r, &bad, d, src, s, 0) },
				"CBCDec":    func(d []byte, s, _ *[16]byte) bool { return GenericCBCDecrypt(r, &bad, d, src, s, 0) },
				"XTSData":   func(d []byte, s, _ *[16]byte) bool { return GenericXTS(r, &bad, good, d, src, s, ModeDecrypt) },
				"XTSNil":    func(d []byte, s, _ *[16]byte) bool { return GenericXTS(r, &bad, nil, d, src, s, 0) },
				"XTSTweak":  func(d []byte, s, _ *[16]byte) bool { return GenericXTS(r, good, &bad, d, src, s, 0) },
				"GCMCTR":    func(d []byte, s, s2 *[16]byte) bool { return GenericGCMCTR(r, &bad, d, src, s, s2, ModeInc32) },
				"GCMCTR0":   func(d []byte, s, s2 *[16]byte) bool { return GenericGCMCTR(r, &bad, d[:0], src[:0], s, s2, ModeInc32) },
				"CTRInPlc":  func(d []byte, s, _ *[16]byte) bool { return GenericCTR(r, &bad, d, d, s, 0) },
				"CBCDecInP": func(d []byte, s, _ *[16]byte) bool { return GenericCBCDecrypt(r, &bad, d, d, s, 0) },
			} {
				dst := bytes.Clone(sentinel)
				st, st2 := state, state
				if f(dst, &st, &st2) || !bytes.Equal(dst, sentinel) || st != state || st2 != state {
					t.Errorf("AES-%d byte %d %s: bad handle accepted or output/state touched", 8*ks, pos, name)
				}
			}
		}
	}
}

func TestGenericModesPanics(t *testing.T) {
	r, _ := testRegion(t)
	h := newHandle(t, r, randBytes(16))
	var st, st2 [16]byte
	for name, f := range map[string]func(){
		"CTR partial": func() { GenericCTR(r, h, make([]byte, 32), make([]byte, 17), &st, 0) },
		"CBC short":   func() { GenericCBCEncrypt(r, h, make([]byte, 16), make([]byte, 32), &st, 0) },
		"CBCD short":  func() { GenericCBCDecrypt(r, h, make([]byte, 16), make([]byte, 32), &st, 0) },
		"XTS partial": func() { GenericXTS(r, h, nil, make([]byte, 32), make([]byte, 20), &st, 0) },
		"GCM short":   func() { GenericGCMCTR(r, h, make([]byte, 0), make([]byte, 16), &st, &st2, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func benchHandle(b *testing.B, r *[4096]byte, ks int) *[64]byte {
	var h [64]byte
	GenericEncodeKey(r, randBytes(ks), 0, &h)
	return &h
}

func BenchmarkGenericModes(b *testing.B) {
	r, _ := testRegion(b)
	buf := make([]byte, 8192)
	for _, ks := range []int{16, 32} {
		h := benchHandle(b, r, ks)
		var st, st2 [16]byte
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"CTR", func() { GenericCTR(r, h, buf, buf, &st, 0) }},
			{"CBCEncrypt", func() { GenericCBCEncrypt(r, h, buf, buf, &st, 0) }},
			{"CBCDecrypt", func() { GenericCBCDecrypt(r, h, buf, buf, &st, 0) }},
			{"XTS", func() { GenericXTS(r, h, h, buf, buf, &st, 0) }},
			{"GCMCTR", func() { GenericGCMCTR(r, h, buf, buf, &st, &st2, ModeInc32) }},
		} {
			b.Run(fmt.Sprintf("AES-%d/%s/8KiB", 8*ks, c.name), func(b *testing.B) {
				b.SetBytes(int64(len(buf)))
				for b.Loop() {
					c.f()
				}
			})
		}
	}
}
