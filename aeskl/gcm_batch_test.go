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
					cts := make([][]byte, len(msgs))
					for i, m := range msgs {
						cts[i] = bytes.Clone(m.Src)
					}
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
						case i%3 == 2 && i > bad && !bytes.Equal(m.Dst[:size], make([]byte, size)) && !bytes.Equal(m.Dst[:size], cts[i][:size]):
							t.Fatalf("%s: message %d after the failure (in place): neither its ciphertext nor zeroed", what, i)
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
// other than exactly panics before any message is opened, on every
// implementation and for another AEAD too, and so does a GCM with another
// nonce size; another AEAD goes one message at a time.
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
	ref, _ := aes.NewCipher(key)
	rg, _ := cipher.NewGCM(ref)
	aeads := map[string]cipher.AEAD{"crypto/aes": rg}
	for _, v := range variants() {
		if c, err := New(key, v.opts...); err == nil {
			aeads[v.name], _ = cipher.NewGCM(c)
		}
	}
	for name, g := range aeads {
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
							t.Errorf("%s: %s in message %d: no panic", name, c.what, i)
						}
						if i == 1 && !bytes.Equal(msgs[0].Dst[:700], bytes.Repeat([]byte{0xa5}, 700)) {
							t.Errorf("%s: %s in message 1: message 0 opened before the panic", name, c.what)
						}
					}()
					gcmbatch.Open(g, msgs)
				}()
			}
		}
	}
	// Another AEAD (crypto/aes's GCM): one Open per message; an aeskl GCM
	// with 16-byte nonces: Open's panic.
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

// TestGCMMessagesRuns: messages of 100 to 300 KiB, some over the kernel
// call's byte bound (chunk) and so opened alone, the others split into
// runs by it, sealed and opened against crypto/aes with 16- and 12-byte
// tags, then opened with each message in turn tampered.
func TestGCMMessagesRuns(t *testing.T) {
	for _, tagSize := range []int{16, 12} {
		t.Run(fmt.Sprint(tagSize), func(t *testing.T) {
			forEach(t, 16, func(t *testing.T, v variant) {
				if emulated(v) {
					t.Skip("megabytes under the emulator take minutes; TestGCMOpenMessages runs Key Locker under it")
				}
				key := randBytes(16)
				g, err := cipher.NewGCMWithTagSize(mustNew(t, v, key), tagSize)
				if err != nil {
					t.Fatal(err)
				}
				ref, _ := aes.NewCipher(key)
				rg, _ := cipher.NewGCMWithTagSize(ref, tagSize)
				sizes := []int{100 << 10, 300 << 10, 120 << 10, 130 << 10, 20 << 10, chunk, chunk + 1, 1}
				pts := make([][]byte, len(sizes))
				msgs := make([]gcmbatch.Msg, len(sizes))
				for i, n := range sizes {
					pts[i] = randBytes(n)
					copy(msgs[i].Nonce[:], randBytes(12))
					msgs[i].Src, msgs[i].Dst = pts[i], make([]byte, n+tagSize)
				}
				gcmbatch.Seal(g, msgs)
				for i, m := range msgs {
					if !bytes.Equal(m.Dst, rg.Seal(nil, m.Nonce[:], pts[i], nil)) {
						t.Fatalf("Seal: message %d (%d bytes) differs from crypto/aes", i, sizes[i])
					}
				}
				for bad := -1; bad < len(msgs); bad++ {
					open := make([]gcmbatch.Msg, len(msgs))
					for i, m := range msgs {
						open[i] = gcmbatch.Msg{Dst: make([]byte, sizes[i]), Src: bytes.Clone(m.Dst), Nonce: m.Nonce}
					}
					if bad >= 0 {
						open[bad].Src[len(open[bad].Src)-1] ^= 0x80
					}
					n, err := gcmbatch.Open(g, open)
					want := len(msgs)
					if bad >= 0 {
						want = bad
					}
					if n != want || (bad >= 0) != (err != nil) {
						t.Fatalf("tampered %d: opened %d, %v", bad, n, err)
					}
					for i := range n {
						if !bytes.Equal(open[i].Dst, pts[i]) {
							t.Fatalf("tampered %d: message %d: wrong plaintext", bad, i)
						}
					}
					for i := n; i < len(open); i++ {
						if !bytes.Equal(open[i].Dst, make([]byte, sizes[i])) {
							t.Fatalf("tampered %d: message %d after the failure: output not zero", bad, i)
						}
					}
				}
			})
		})
	}
}

// TestGCMMessagesRejected: through gcmbatch, a tampered handle gives Open
// an error wrapping ErrInvalidHandle and Seal a panic with it, no
// plaintext or ciphertext left in any output; a closed Cipher panics as
// closed.
func TestGCMMessagesRejected(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		key := randBytes(16)
		c := mustNew(t, v, key)
		g, err := cipher.NewGCM(c)
		if err != nil {
			t.Fatal(err)
		}
		msgs, _ := batchCase(key, []int{600, 4080, 0, 1000})
		sealMsgs := make([]gcmbatch.Msg, 3)
		for i := range sealMsgs {
			sealMsgs[i] = gcmbatch.Msg{Src: randBytes(700), Dst: make([]byte, 716)}
		}
		zero := func(ms []gcmbatch.Msg, out func(m gcmbatch.Msg) int) bool {
			for _, m := range ms {
				if !bytes.Equal(m.Dst[:out(m)], make([]byte, out(m))) && !bytes.Equal(m.Dst[:out(m)], bytes.Repeat([]byte{0xa5}, out(m))) {
					return false
				}
			}
			return true
		}
		flipHandleBit(c, 8*16+5)
		if n, err := gcmbatch.Open(g, msgs); n != 0 || !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("Open with a tampered handle: opened %d, %v", n, err)
		}
		if !zero(msgs, func(m gcmbatch.Msg) int { return len(m.Src) - 16 }) {
			t.Error("Open with a tampered handle: output left")
		}
		expectPanic(t, ErrInvalidHandle, func() { gcmbatch.Seal(g, sealMsgs) })
		if !zero(sealMsgs, func(m gcmbatch.Msg) int { return len(m.Dst) }) {
			t.Error("Seal with a tampered handle: output left")
		}
		flipHandleBit(c, 8*16+5)
		c.Close()
		expectPanic(t, closedMsg, func() { gcmbatch.Open(g, msgs) })
		expectPanic(t, closedMsg, func() { gcmbatch.Seal(g, sealMsgs) })
	})
}
