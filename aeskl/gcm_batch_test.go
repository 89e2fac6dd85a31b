package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/go-keylocker/keylocker/internal/gcmbatch"
)

// batchCase makes count messages of the given lengths sealed by
// crypto/aes GCM: the messages for gcmbatch.Open (output buffers filled
// with 0xa5, in place for every third) and the plaintexts.
func batchCase(key []byte, sizes []int) ([]gcmbatch.Msg, [][]byte) {
	ref, _ := aes.NewCipher(key)
	rg, _ := cipher.NewGCM(ref)
	msgs := make([]gcmbatch.Msg, len(sizes))
	pts := make([][]byte, len(sizes))
	for i, n := range sizes {
		m := &msgs[i]
		copy(m.Nonce[:], randBytes(12))
		pts[i] = randBytes(n)
		m.Src = rg.Seal(nil, m.Nonce[:], pts[i], nil)
		if i%3 == 2 {
			m.Dst = m.Src[:n]
		} else {
			m.Dst = bytes.Repeat([]byte{0xa5}, n+7) // room to spare: only n bytes are written
		}
	}
	return msgs, pts
}

// TestGCMOpenMessages checks gcmbatch.Open (aeskl's openMany) on every
// implementation and sealed path against crypto/aes: batches of 1 to 40
// messages of lengths 0 to 3 batches of the fused kernel and 4080 bytes (a
// stream segment), separate and in place; then with one message tampered
// (tag or ciphertext): the count of messages before it, an error, those
// messages' plaintext intact and every output from the tampered one on
// zeroed where it was written.
func TestGCMOpenMessages(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				key := randBytes(keyLen)
				g, err := cipher.NewGCM(mustNew(t, v, key))
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(uint64(keyLen), 7))
				tries := 40
				if emulated(v) {
					tries = 6
				}
				for try := range tries {
					sizes := make([]int, 1+r.IntN(40))
					for i := range sizes {
						sizes[i] = r.IntN(3*512 + 1)
						if r.IntN(3) == 0 {
							sizes[i] = 4080
						}
					}
					msgs, pts := batchCase(key, sizes)
					bad := -1
					if try%2 == 1 {
						bad = r.IntN(len(msgs))
						m := &msgs[bad]
						m.Src[r.IntN(len(m.Src))] ^= 1 << r.IntN(8)
					}
					what := fmt.Sprintf("sizes %v, tampered %d", sizes, bad)
					n, err := gcmbatch.Open(g, msgs)
					if bad < 0 {
						if n != len(msgs) || err != nil {
							t.Fatalf("%s: opened %d, %v", what, n, err)
						}
					} else if n != bad || !errors.Is(err, errOpen) {
						t.Fatalf("%s: opened %d, %v", what, n, err)
					}
					for i, m := range msgs {
						size := len(pts[i])
						switch {
						case bad < 0 || i < bad:
							if !bytes.Equal(m.Dst[:size], pts[i]) {
								t.Fatalf("%s: message %d: wrong plaintext", what, i)
							}
						case i%3 != 2 && !bytes.Equal(m.Dst[:size], make([]byte, size)) && !bytes.Equal(m.Dst[:size], bytes.Repeat([]byte{0xa5}, size)):
							t.Fatalf("%s: message %d after the failure: output neither untouched nor zeroed", what, i)
						case i%3 == 2 && i == bad && !bytes.Equal(m.Dst[:size], make([]byte, size)):
							t.Fatalf("%s: the failed message's output (in place) not zeroed", what)
						}
						if i%3 != 2 && !bytes.Equal(m.Dst[size:], bytes.Repeat([]byte{0xa5}, 7)) {
							t.Fatalf("%s: message %d: wrote past the plaintext", what, i)
						}
					}
				}
			})
		})
	}
}

// TestGCMOpenMessagesMisuse: messages too short for a tag fail as Open
// does; an output shorter than the plaintext or overlapping the input
// other than exactly panics, and so does a GCM with another nonce size;
// another AEAD goes one message at a time.
func TestGCMOpenMessagesMisuse(t *testing.T) {
	key := randBytes(16)
	c, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := cipher.NewGCM(c)
	msgs, _ := batchCase(key, []int{100, 600})
	msgs[1].Src = msgs[1].Src[:15]
	if n, err := gcmbatch.Open(g, msgs); n != 1 || err == nil {
		t.Fatalf("a message shorter than a tag: opened %d, %v", n, err)
	}
	for _, c := range []struct {
		what string
		mod  func(m *gcmbatch.Msg)
	}{
		{"short output", func(m *gcmbatch.Msg) { m.Dst = m.Dst[:10] }},
		{"inexact overlap", func(m *gcmbatch.Msg) { m.Dst = m.Src[1:] }},
	} {
		for i := range 2 {
			msgs, _ := batchCase(key, []int{700, 600})
			c.mod(&msgs[i])
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s in message %d: no panic", c.what, i)
					}
				}()
				gcmbatch.Open(g, msgs)
			}()
		}
	}
	// Another AEAD (crypto/aes's GCM): one Open per message; an aeskl GCM
	// with 16-byte nonces: Open's panic.
	ref, _ := aes.NewCipher(key)
	rg, _ := cipher.NewGCM(ref)
	msgs, pts := batchCase(key, []int{5, 600, 0})
	if n, err := gcmbatch.Open(rg, msgs); n != 3 || err != nil || !bytes.Equal(msgs[1].Dst[:600], pts[1]) {
		t.Fatalf("crypto/aes GCM: opened %d, %v", n, err)
	}
	g16, _ := cipher.NewGCMWithNonceSize(c, 16)
	msgs, _ = batchCase(key, []int{5, 600})
	defer func() {
		if recover() == nil {
			t.Error("a GCM with 16-byte nonces: no panic")
		}
	}()
	gcmbatch.Open(g16, msgs)
}

// TestGCMSealMessages checks gcmbatch.Seal (aeskl's sealMany) on every
// implementation and sealed path against crypto/aes: batches of 1 to 40
// messages of lengths 0 to 3 batches of the fused kernel and 4080 bytes,
// separate (with room to spare, which stays untouched) and in place; then
// the misuse panics: an output too short, an inexact overlap.
func TestGCMSealMessages(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				key := randBytes(keyLen)
				g, err := cipher.NewGCM(mustNew(t, v, key))
				if err != nil {
					t.Fatal(err)
				}
				ref, _ := aes.NewCipher(key)
				rg, _ := cipher.NewGCM(ref)
				r := rand.New(rand.NewPCG(uint64(keyLen), 9))
				tries := 20
				if emulated(v) {
					tries = 3
				}
				for range tries {
					msgs := make([]gcmbatch.Msg, 1+r.IntN(40))
					want := make([][]byte, len(msgs))
					for i := range msgs {
						n := r.IntN(3*512 + 1)
						if r.IntN(3) == 0 {
							n = 4080
						}
						m := &msgs[i]
						copy(m.Nonce[:], randBytes(12))
						pt := randBytes(n)
						want[i] = rg.Seal(nil, m.Nonce[:], pt, nil)
						m.Src = pt
						if i%3 == 2 {
							m.Dst = append(pt, make([]byte, 16)...)[:n+16]
							m.Src = m.Dst[:n]
						} else {
							m.Dst = bytes.Repeat([]byte{0xa5}, n+16+7)
						}
					}
					gcmbatch.Seal(g, msgs)
					for i, m := range msgs {
						n := len(want[i])
						if !bytes.Equal(m.Dst[:n], want[i]) {
							t.Fatalf("message %d of %d (%d bytes): differs from crypto/aes", i, len(msgs), n-16)
						}
						if i%3 != 2 && !bytes.Equal(m.Dst[n:], bytes.Repeat([]byte{0xa5}, 7)) {
							t.Fatalf("message %d: wrote past the ciphertext", i)
						}
					}
				}
				for _, c := range []struct {
					what string
					mod  func(m *gcmbatch.Msg)
				}{
					{"short output", func(m *gcmbatch.Msg) { m.Dst = m.Dst[:len(m.Src)+15] }},
					{"inexact overlap", func(m *gcmbatch.Msg) {
						m.Dst = append(m.Src[:1:1], make([]byte, len(m.Src)+16)...)[1:]
						m.Src = m.Dst[1 : len(m.Src)+1]
					}},
				} {
					for i := range 2 {
						msgs := []gcmbatch.Msg{{Src: randBytes(700)}, {Src: randBytes(600)}}
						for j := range msgs {
							msgs[j].Dst = make([]byte, len(msgs[j].Src)+16)
						}
						c.mod(&msgs[i])
						func() {
							defer func() {
								if recover() == nil {
									t.Errorf("%s in message %d: no panic", c.what, i)
								}
							}()
							gcmbatch.Seal(g, msgs)
						}()
					}
				}
			})
		})
	}
}
