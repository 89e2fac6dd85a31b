// Package gcmbatch lets aeskl/stream seal and open many GCM messages of
// an aeskl AEAD at once, which on the sealed zmm path means one kernel
// call (one unwrap of the key) for up to 16 of them, without an API
// exported from aeskl: package aeskl sets Seal and Open when it is
// initialized, and aeskl/stream, which imports aeskl, calls them.
package gcmbatch

import "crypto/cipher"

// A Msg is one message of a batch, without associated data. Opening, Src
// holds the ciphertext and its tag and the plaintext (len(Src) minus the
// tag's size) goes to the start of Dst; sealing, Src holds the plaintext
// and the ciphertext and tag go to the start of Dst. Dst must have room
// for the result. A message's Dst and Src may be the same memory (as for
// Seal and Open); different messages must not overlap one another: a
// batch writes them in another order than one call per message would.
type Msg struct {
	Dst, Src []byte
	Nonce    [12]byte
}

// Open opens msgs in order with aead, which takes 12-byte nonces (an aeskl
// GCM opens them in batches, any other AEAD one message at a time), and
// returns how many opened before the first that did not, and that
// message's error (nil if all opened). The plaintext of every message
// from the failed one on is zeroed where it was written: only
// authenticated plaintext remains. It panics, before anything is
// written, if a Dst has no room for its plaintext or overlaps its Src
// other than exactly, and where the AEAD's Open would (another nonce
// size; a Cipher closed during the call, after which the messages opened
// before keep their plaintext).
var Open func(aead cipher.AEAD, msgs []Msg) (int, error)

// Seal seals msgs with aead, which takes 12-byte nonces (an aeskl GCM
// seals them in batches, any other AEAD one message at a time). It
// panics, before anything is written, if a Dst has no room for its
// ciphertext and tag or overlaps its Src other than exactly, and where the
// AEAD's Seal would (another nonce size; a rejected handle or a closed
// Cipher: the messages not sealed by then are not written).
var Seal func(aead cipher.AEAD, msgs []Msg)
