package aeskl

import (
	"crypto/cipher"
	"fmt"

	"github.com/go-keylocker/keylocker/internal/gcmbatch"
)

// Many messages at once for aeskl/stream (internal/gcmbatch): on the
// sealed zmm path up to sealed.GCMMessagesMax of them per kernel call,
// one unwrap of the key for all (gcmBatch, impl_amd64.go); elsewhere one
// Seal or Open per message.

func init() {
	gcmbatch.Open = openMessages
	gcmbatch.Seal = sealMessages
}

// openMessages is gcmbatch.Open: an aeskl GCM with 12-byte nonces opens
// the messages with openMany, any other AEAD one Open at a time.
func openMessages(aead cipher.AEAD, msgs []gcmbatch.Msg) (int, error) {
	if g, ok := aead.(*gcm); ok && g.nonceSize == gcmStandardNonceSize {
		return g.openMany(msgs)
	}
	for i := range msgs {
		m := &msgs[i]
		if _, err := aead.Open(m.Dst[:0], m.Nonce[:], m.Src, nil); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// sealMessages is gcmbatch.Seal: an aeskl GCM with 12-byte nonces seals
// the messages with sealMany, any other AEAD one Seal at a time.
func sealMessages(aead cipher.AEAD, msgs []gcmbatch.Msg) {
	if g, ok := aead.(*gcm); ok && g.nonceSize == gcmStandardNonceSize {
		g.sealMany(msgs)
		return
	}
	for i := range msgs {
		m := &msgs[i]
		if len(m.Dst) < len(m.Src)+aead.Overhead() {
			panic("aeskl: GCM sealMany: output shorter than the ciphertext")
		}
		aead.Seal(m.Dst[:0], m.Nonce[:], m.Src, nil)
	}
}

// openMany opens msgs (no associated data) in order, as gcmbatch.Open
// says: where the backend has the kernel (gcmBatches), runs of batchable
// messages through gcmBatch (one unwrap per run), any other message
// through Open.
func (g *gcm) openMany(msgs []gcmbatch.Msg) (int, error) {
	done := 0
	for done < len(msgs) {
		m := &msgs[done]
		if g.c.b.gcmBatches(g.gh) && g.batchable(m, false) {
			k, failed, ok := g.gcmBatch(msgs[done:], false)
			if !ok {
				return done, fmt.Errorf("aeskl: GCM Open: %w", g.c.rejected())
			}
			if failed < k {
				return done + failed, errOpen
			}
			done += k
			continue
		}
		if len(m.Src) >= g.tagSize && len(m.Dst) < len(m.Src)-g.tagSize {
			panic("aeskl: GCM openMany: output shorter than the plaintext")
		}
		if _, err := g.Open(m.Dst[:0], m.Nonce[:], m.Src, nil); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// sealMany seals msgs (no associated data), as gcmbatch.Seal says: runs
// of batchable messages through gcmBatch, any other message through Seal.
// A rejected handle panics as Seal does; the messages not sealed by then
// are not written.
func (g *gcm) sealMany(msgs []gcmbatch.Msg) {
	done := 0
	for done < len(msgs) {
		m := &msgs[done]
		if g.c.b.gcmBatches(g.gh) && g.batchable(m, true) {
			k, _, ok := g.gcmBatch(msgs[done:], true)
			if !ok {
				panic(g.c.rejected())
			}
			done += k
			continue
		}
		if len(m.Dst) < len(m.Src)+g.tagSize {
			panic("aeskl: GCM sealMany: output shorter than the ciphertext")
		}
		g.Seal(m.Dst[:0], m.Nonce[:], m.Src, nil)
		done++
	}
}

// batchable reports whether m can join a run of gcmBatch: its data (the
// plaintext when sealing, the ciphertext without its tag when opening)
// is at most chunk bytes and, when opening, there is a tag. It panics if
// the output has no room (for the ciphertext and tag when sealing, the
// plaintext when opening) or overlaps the input other than exactly (as
// Seal and Open do).
func (g *gcm) batchable(m *gcmbatch.Msg, seal bool) bool {
	n, out := len(m.Src), len(m.Src)+g.tagSize
	if !seal {
		if len(m.Src) < g.tagSize {
			return false
		}
		n = len(m.Src) - g.tagSize
		out = n
	}
	if len(m.Dst) < out {
		panic("aeskl: GCM: a message's output is shorter than its result")
	}
	if inexactOverlap(m.Dst[:out], m.Src) {
		panic("crypto/cipher: invalid buffer overlap of output and input")
	}
	return n <= chunk
}
