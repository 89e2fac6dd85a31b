package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"
)

// TestGCMEveryLength seals and opens every length from 0 to two batches of
// the fused kernel and 17 bytes (sealed.GCMBatch is 512: whole batches, a
// tail of whole and partial registers and blocks, and the messages too
// short for the fused kernel) on every implementation and sealed path,
// separate and in place, with associated data of several lengths, against
// crypto/aes; a flipped tag bit or ciphertext bit gives an error and a
// cleared output. Under the emulator every 29th length.
func TestGCMEveryLength(t *testing.T) {
	const maxLen = 2*512 + 17
	adLens := []int{0, 1, 13, 16, 17, 48, 100}
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				key := randBytes(keyLen)
				ref, _ := aes.NewCipher(key)
				rg, _ := cipher.NewGCM(ref)
				g, err := cipher.NewGCM(mustNew(t, v, key))
				if err != nil {
					t.Fatal(err)
				}
				all, adAll := randBytes(maxLen), randBytes(100)
				step := 1
				if emulated(v) {
					step = 29
				}
				for n := 0; n <= maxLen; n += step {
					nonce, pt, ad := randBytes(12), all[:n], adAll[:adLens[n%len(adLens)]]
					what := fmt.Sprintf("%d bytes, %d of associated data", n, len(ad))
					want := rg.Seal(nil, nonce, pt, ad)
					if got := g.Seal(nil, nonce, pt, ad); !bytes.Equal(got, want) {
						t.Fatalf("%s: Seal differs", what)
					}
					buf := make([]byte, n+16)
					copy(buf, pt)
					if got := g.Seal(buf[:0], nonce, buf[:n], ad); !bytes.Equal(got, want) {
						t.Fatalf("%s: Seal in place differs", what)
					}
					if got, err := g.Open(nil, nonce, want, ad); err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("%s: Open: %v", what, err)
					}
					copy(buf, want)
					if got, err := g.Open(buf[:0], nonce, buf, ad); err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("%s: Open in place: %v", what, err)
					}
					for _, bit := range []int{8*n + n%128, (n * 5) % (8*n + 1)} {
						bad := bytes.Clone(want)
						bad[bit/8] ^= 1 << (bit % 8)
						out := bytes.Repeat([]byte{0xa5}, n)
						if _, err := g.Open(out[:0], nonce, bad, ad); err == nil {
							t.Fatalf("%s: Open accepted bit %d flipped", what, bit)
						}
						if !bytes.Equal(out, make([]byte, n)) {
							t.Fatalf("%s: Open left output after bit %d flipped", what, bit)
						}
						copy(buf, bad)
						if _, err := g.Open(buf[:0], nonce, buf, ad); err == nil || !bytes.Equal(buf[:n], make([]byte, n)) {
							t.Fatalf("%s: Open in place: bit %d flipped: %v, output cleared %v", what, bit, err, bytes.Equal(buf[:n], make([]byte, n)))
						}
					}
				}
			})
		})
	}
}
