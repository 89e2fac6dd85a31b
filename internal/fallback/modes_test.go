package fallback

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"testing"

	"golang.org/x/crypto/xts"
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
