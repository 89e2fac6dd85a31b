package aeskl

import (
	"crypto/cipher"
	"fmt"

	"github.com/go-keylocker/keylocker/internal/alias"
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
	checkMessages(msgs, aead.Overhead(), false)
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
	checkMessages(msgs, aead.Overhead(), true)
	if g, ok := aead.(*gcm); ok && g.nonceSize == gcmStandardNonceSize {
		g.sealMany(msgs)
		return
	}
	for i := range msgs {
		m := &msgs[i]
		aead.Seal(m.Dst[:0], m.Nonce[:], m.Src, nil)
	}
}

// checkMessages panics, before anything is written, if a message's Dst
// has no room for its result (sealing: len(Src) + overhead bytes;
// opening: len(Src) - overhead, for a Src that holds a tag) or overlaps
// its Src other than exactly (Seal's and Open's rule, and their panic).
// The same misuse then panics the same way on every implementation.
func checkMessages(msgs []gcmbatch.Msg, overhead int, seal bool) {
	for i := range msgs {
		m := &msgs[i]
		out := len(m.Src) + overhead
		if !seal {
			if len(m.Src) < overhead {
				continue // Open's authentication error, in its turn
			}
			out = len(m.Src) - overhead
		}
		if len(m.Dst) < out {
			panic("aeskl: gcmbatch: a message's Dst has no room for its result")
		}
		if alias.InexactOverlap(m.Dst[:out], m.Src) {
			panic("crypto/cipher: invalid buffer overlap of output and input")
		}
	}
}

// openMany opens msgs (no associated data, checked by checkMessages) in
// order, as gcmbatch.Open says: where the backend has the kernel
// (gcmBatches), runs of batchable messages through gcmBatch (one unwrap
// per run), any other message through Open.
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
		if _, err := g.Open(m.Dst[:0], m.Nonce[:], m.Src, nil); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// sealMany seals msgs (no associated data, checked by checkMessages), as
// gcmbatch.Seal says: runs of batchable messages through gcmBatch, any
// other message through Seal. A rejected handle panics as Seal does; the
// messages not sealed by then are not written.
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
		g.Seal(m.Dst[:0], m.Nonce[:], m.Src, nil)
		done++
	}
}

// batchable reports whether m can join a run of gcmBatch: its data (the
// plaintext when sealing, the ciphertext without its tag when opening)
// is at most chunk bytes and, when opening, there is a tag.
func (g *gcm) batchable(m *gcmbatch.Msg, seal bool) bool {
	if seal {
		return len(m.Src) <= chunk
	}
	return len(m.Src) >= g.tagSize && len(m.Src)-g.tagSize <= chunk
}
