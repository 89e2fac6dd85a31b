package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"slices"
	"testing"

	"github.com/go-keylocker/keylocker/internal/gcmbatch"
	"github.com/go-keylocker/keylocker/internal/guardtest"
	"golang.org/x/crypto/xts"
)

// TestGuardPages: every mode of every implementation reads and writes
// nothing outside its buffers. Each source and destination lies against
// an inaccessible page, after its end and then before its start (a byte
// too many faults), for lengths around the block, the register and the
// batch sizes: CTR, CBC, XTS, GCM with 16- and 12-byte tags (Seal, Open,
// and an Open that fails and wipes), and batches of GCM messages. The
// results are compared with crypto/aes and x/crypto/xts.
func TestGuardPages(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		sizes := []int{0, 1, 12, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1023, 1025, 4095, 4097}
		key := randBytes(16)
		c := mustNew(t, v, key)
		ref, _ := aes.NewCipher(key)
		xkey := randBytes(32)
		x, err := NewXTS(xkey, v.opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		xref, _ := xts.NewCipher(aes.NewCipher, xkey)
		iv := randBytes(16)
		for _, end := range []bool{true, false} {
			for _, n := range sizes {
				name := fmt.Sprintf("%d bytes, guard page %s", n, map[bool]string{true: "after", false: "before"}[end])
				src := guardtest.Buffer(t, n, end)
				want := make([]byte, n)

				xts := func(dir func(dst, src []byte, sector uint64) error) func(dst, src []byte) {
					return func(dst, src []byte) {
						if err := dir(dst, src, 7); err != nil {
							t.Fatal(err)
						}
					}
				}
				// x/crypto/xts takes whole blocks only (no ciphertext
				// stealing): for other lengths XTS checks the guard pages
				// alone (ref nil).
				var xtsEnc, xtsDec func(dst, src []byte, sector uint64)
				if n%16 == 0 {
					xtsEnc, xtsDec = xref.Encrypt, xref.Decrypt
				}
				for _, m := range []struct {
					mode      string
					run       bool
					ours, ref func(dst, src []byte)
				}{
					{"CTR", true, cipher.NewCTR(c, iv).XORKeyStream, cipher.NewCTR(ref, iv).XORKeyStream},
					{"CBC encryption", n%16 == 0, cipher.NewCBCEncrypter(c, iv).CryptBlocks, cipher.NewCBCEncrypter(ref, iv).CryptBlocks},
					{"CBC decryption", n%16 == 0, cipher.NewCBCDecrypter(c, iv).CryptBlocks, cipher.NewCBCDecrypter(ref, iv).CryptBlocks},
					{"XTS encryption", n >= 16, xts(x.Encrypt), sectorRef(xtsEnc)},
					{"XTS decryption", n >= 16, xts(x.Decrypt), sectorRef(xtsDec)},
				} {
					if !m.run {
						continue
					}
					dst := guardtest.Buffer(t, n, end)
					m.ours(dst, src)
					if m.ref == nil {
						continue
					}
					m.ref(want, src)
					if !bytes.Equal(dst, want) {
						t.Errorf("%s, %s: differs from the reference (crypto/aes, x/crypto/xts)", m.mode, name)
					}
				}
				for _, tagSize := range []int{16, 12} {
					guardGCM(t, c, ref, tagSize, src, end, name)
				}
			}
		}
		// Batches of messages, each against a guard page, with messages
		// around the bound of one call (chunk) outside the emulator.
		batch := sizes
		if !emulated(v) {
			batch = append(batch, chunk-1, chunk, chunk+1, 3*chunk+17)
		}
		reversed := slices.Clone(batch)
		slices.Reverse(reversed)
		for _, tagSize := range []int{16, 12} {
			for _, end := range []bool{true, false} {
				guardGCMBatch(t, c, ref, tagSize, batch, end)
				guardGCMBatch(t, c, ref, tagSize, reversed, end)
			}
		}
	})
}

// sectorRef is an x/crypto/xts direction for sector 7, or nil.
func sectorRef(dir func(dst, src []byte, sector uint64)) func(dst, src []byte) {
	if dir == nil {
		return nil
	}
	return func(dst, src []byte) { dir(dst, src, 7) }
}

func guardGCM(t *testing.T, c *Cipher, ref cipher.Block, tagSize int, pt []byte, end bool, name string) {
	t.Helper()
	g, err := cipher.NewGCMWithTagSize(c, tagSize)
	if err != nil {
		t.Fatal(err)
	}
	rg, _ := cipher.NewGCMWithTagSize(ref, tagSize)
	nonce, ad := randBytes(12), randBytes(13)
	n := len(pt)
	want := rg.Seal(nil, nonce, pt, ad)
	ct := guardtest.Buffer(t, n+tagSize, end)
	if got := g.Seal(ct[:0], nonce, pt, ad); !bytes.Equal(got, want) {
		t.Errorf("GCM-%d Seal, %s: differs from crypto/aes", tagSize, name)
	}
	out := guardtest.Buffer(t, n, end)
	if got, err := g.Open(out[:0], nonce, ct, ad); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("GCM-%d Open, %s: %v", tagSize, name, err)
	}
	ct[n] ^= 1
	out = guardtest.Buffer(t, n, end)
	if _, err := g.Open(out[:0], nonce, ct, ad); err == nil {
		t.Errorf("GCM-%d Open of a bad tag, %s: no error", tagSize, name)
	}
	if n > 0 && bytes.Equal(out, pt) {
		t.Errorf("GCM-%d Open of a bad tag, %s: the plaintext is in dst", tagSize, name)
	}
}

func guardGCMBatch(t *testing.T, c *Cipher, ref cipher.Block, tagSize int, sizes []int, end bool) {
	t.Helper()
	g, err := cipher.NewGCMWithTagSize(c, tagSize)
	if err != nil {
		t.Fatal(err)
	}
	rg, _ := cipher.NewGCMWithTagSize(ref, tagSize)
	msgs := make([]gcmbatch.Msg, len(sizes))
	pts := make([][]byte, len(sizes))
	for i, n := range sizes {
		pts[i] = guardtest.Buffer(t, n, end)
		copy(msgs[i].Nonce[:], randBytes(12))
		msgs[i].Src, msgs[i].Dst = pts[i], guardtest.Buffer(t, n+tagSize, end)
	}
	gcmbatch.Seal(g, msgs)
	for i, m := range msgs {
		if !bytes.Equal(m.Dst, rg.Seal(nil, m.Nonce[:], pts[i], nil)) {
			t.Errorf("GCM-%d batch Seal, message %d (%d bytes, guard page after %v): differs from crypto/aes", tagSize, i, sizes[i], end)
		}
	}
	// A failed message: none, the first, one in the middle, the last
	// (the messages after it are wiped where they were written).
	for _, bad := range []int{-1, 0, len(sizes) / 2, len(sizes) - 1} {
		open := make([]gcmbatch.Msg, len(msgs))
		for i, m := range msgs {
			src := guardtest.Buffer(t, len(m.Dst), end)
			copy(src, m.Dst)
			open[i] = gcmbatch.Msg{Dst: guardtest.Buffer(t, sizes[i], end), Src: src, Nonce: m.Nonce}
		}
		if bad >= 0 {
			open[bad].Src[len(open[bad].Src)-1] ^= 0x80
		}
		got, err := gcmbatch.Open(g, open)
		want := len(msgs)
		if bad >= 0 {
			want = bad
		}
		if got != want || (err == nil) != (bad < 0) {
			t.Errorf("GCM-%d batch Open (bad message %d, guard page after %v): %d opened, %v", tagSize, bad, end, got, err)
		}
		for i := range want {
			if !bytes.Equal(open[i].Dst, pts[i]) {
				t.Errorf("GCM-%d batch Open, message %d: wrong plaintext", tagSize, i)
			}
		}
	}
}
