package aeskl

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-keylocker/keylocker/internal/alias"
	"github.com/go-keylocker/keylocker/internal/handle"
)

const (
	gcmStandardNonceSize = 12
	gcmTagSize           = 16
	gcmMinimumTagSize    = 12
)

var errOpen = errors.New("cipher: message authentication failed")

// NewGCM returns AES-GCM on the handle with the given nonce and tag sizes;
// cipher.NewGCM, NewGCMWithNonceSize and NewGCMWithTagSize on an aeskl
// Cipher call it. The keystream comes from the implementation's CTR kernel
// (Key Locker WIDE: one AESENCWIDE*KL per 8 blocks) and GHASH runs in
// constant time (PCLMULQDQ / VPCLMULQDQ on amd64, carry-less multiplication
// in Go elsewhere). The GHASH key H = E_K(0) is kept in ordinary memory: it
// reveals nothing about the AES key. A NoEncrypt handle cannot make a GCM
// (an error wrapping ErrRestricted). If the handle is rejected, Seal zeroes
// its output and panics with ErrInvalidHandle, and Open returns an error
// wrapping ErrInvalidHandle.
func (c *Cipher) NewGCM(nonceSize, tagSize int) (cipher.AEAD, error) {
	hd := c.hp()
	if tagSize < gcmMinimumTagSize || tagSize > gcmTagSize {
		return nil, errors.New("cipher: incorrect tag size given to GCM")
	}
	if nonceSize <= 0 {
		return nil, errors.New("cipher: the nonce can't have zero length")
	}
	if c.forbids(false) {
		// GCM runs the cipher forward only, even to open.
		return nil, fmt.Errorf("aeskl: NewGCM: %w", ErrRestricted)
	}
	var h [16]byte
	if !c.b.encrypt(hd, h[:], h[:]) {
		return nil, fmt.Errorf("aeskl: NewGCM: %w", c.rejected())
	}
	g := &gcm{c: c, nonceSize: nonceSize, tagSize: tagSize, gh: c.b.newGHASH(&h)}
	clear(h[:])
	return g, nil
}

type gcm struct {
	c                  *Cipher
	nonceSize, tagSize int
	gh                 *ghash
}

func (g *gcm) NonceSize() int { return g.nonceSize }
func (g *gcm) Overhead() int  { return g.tagSize }

// j0 derives the pre-counter block from the nonce (SP 800-38D 7.1).
func (g *gcm) j0(nonce []byte) (j [16]byte) {
	if len(nonce) == gcmStandardNonceSize {
		copy(j[:], nonce)
		j[15] = 1
		return
	}
	g.hashPadded(&j, nonce)
	var l [16]byte
	binary.BigEndian.PutUint64(l[8:], uint64(len(nonce))*8)
	g.gh.update(&j, l[:])
	return
}

// hashPadded absorbs b, zero-padded to whole blocks.
func (g *gcm) hashPadded(acc *[16]byte, b []byte) {
	n := len(b) &^ 15
	if n > 0 {
		g.gh.update(acc, b[:n])
	}
	if n < len(b) {
		var last [16]byte
		copy(last[:], b[n:])
		g.gh.update(acc, last[:])
	}
}

// auth returns GHASH(ad, ct) with the length block (the tag before the
// E(J0) mask). Short messages are gathered into one buffer so that GHASH
// runs once: its fixed cost per call dominates small seals.
func (g *gcm) auth(ad, ct []byte) (acc [16]byte) {
	var l [16]byte
	binary.BigEndian.PutUint64(l[:], uint64(len(ad))*8)
	binary.BigEndian.PutUint64(l[8:], uint64(len(ct))*8)
	adPad, ctPad := (len(ad)+15)&^15, (len(ct)+15)&^15
	if n := adPad + ctPad + 16; n <= gcmGatherSize {
		var buf [gcmGatherSize]byte
		copy(buf[:], ad)
		copy(buf[adPad:], ct)
		copy(buf[adPad+ctPad:], l[:])
		g.gh.update(&acc, buf[:n])
		return acc
	}
	g.hashPadded(&acc, ad)
	g.hashPadded(&acc, ct)
	g.gh.update(&acc, l[:])
	return acc
}

// gcmGatherSize bounds the messages auth hashes in one GHASH call.
const gcmGatherSize = 512

// crypt runs the GCM keystream from j0 over src into dst and returns
// E(j0) in tagMask; false if the handle was rejected.
func (g *gcm) crypt(h *handle.Handle, dst, src []byte, j0, tagMask *[16]byte) bool {
	b := &g.c.b
	// The first call also produces the tag mask; later calls start from
	// the counter after the blocks done so far.
	first := min(len(src)&^15, chunk)
	if !b.gcmCTR(h, dst[:first], src[:first], j0, tagMask, b.flags) {
		return false
	}
	if first == len(src) {
		return true
	}
	ctr := *j0
	inc32(&ctr, 1+uint32(first/16))
	return g.ctrFrom(h, dst[first:], src[first:], &ctr)
}

// ctrFrom XORs src with the keystream E(*ctr), E(inc32(*ctr)), ... into
// dst, a partial last block included; false if the handle was rejected.
func (g *gcm) ctrFrom(h *handle.Handle, dst, src []byte, ctr *[16]byte) bool {
	b := &g.c.b
	n := len(src) &^ 15
	for done := 0; done < n; {
		m := min(n-done, chunk)
		if !b.ctr(h, dst[done:done+m], src[done:done+m], ctr, b.flags|modeInc32) {
			return false
		}
		done += m
	}
	if n < len(src) {
		var ks [16]byte
		if !b.ctr(h, ks[:], ks[:], ctr, b.flags|modeInc32) {
			return false
		}
		subtle.XORBytes(dst[n:len(src)], src[n:], ks[:])
	}
	return true
}

// fused encrypts (or decrypts) in into out where the backend has a fused
// kernel for the message (gcmFuses): the keystream and GHASH of all of in,
// and the length block, run in one pass, one kernel call (one unwrap) per
// chunk. It returns the tag over the associated data and the ciphertext
// (out, or in when decrypting: hashed before out overwrites it, so the two
// may be the same memory) and E(J0) in mask; false if the handle was
// rejected.
func (g *gcm) fused(h *handle.Handle, out, in, ad []byte, j0, mask *[16]byte, decrypt bool) (tag [16]byte, ok bool) {
	b := &g.c.b
	f := b.flags
	if decrypt {
		f |= modeDecrypt
	}
	g.hashPadded(&tag, ad)
	var l [16]byte
	binary.BigEndian.PutUint64(l[:], uint64(len(ad))*8)
	binary.BigEndian.PutUint64(l[8:], uint64(len(in))*8)
	ok = b.gcmFused(h, out[:len(in)], in, j0, mask, g.gh, &tag, &l, f)
	return tag, ok
}

func (g *gcm) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	if len(nonce) != g.nonceSize {
		panic("crypto/cipher: incorrect nonce length given to GCM")
	}
	if uint64(len(plaintext)) > uint64((1<<32)-2)*BlockSize {
		panic("crypto/cipher: message too large for GCM")
	}
	h := g.c.hp()
	ret, out := sliceForAppend(dst, len(plaintext)+g.tagSize)
	if alias.InexactOverlap(out, plaintext) {
		panic("crypto/cipher: invalid buffer overlap of output and input")
	}
	if alias.AnyOverlap(out, additionalData) {
		panic("crypto/cipher: invalid buffer overlap of output and additional data")
	}
	j0 := g.j0(nonce)
	var tagMask, tag [16]byte
	ok := true
	if g.c.b.gcmFuses(g.gh, len(plaintext)) {
		tag, ok = g.fused(h, out, plaintext, additionalData, &j0, &tagMask, false)
	} else if ok = g.crypt(h, out, plaintext, &j0, &tagMask); ok {
		tag = g.auth(additionalData, out[:len(plaintext)])
	}
	subtle.XORBytes(tag[:], tag[:], tagMask[:])
	clear(tagMask[:]) // E_K(J0): derived from the key, not left behind
	if !ok {
		clear(out)
		panic(g.c.rejected())
	}
	copy(out[len(plaintext):], tag[:g.tagSize])
	return ret
}

func (g *gcm) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != g.nonceSize {
		panic("crypto/cipher: incorrect nonce length given to GCM")
	}
	if len(ciphertext) < g.tagSize {
		return nil, errOpen
	}
	if uint64(len(ciphertext)) > uint64((1<<32)-2)*BlockSize+uint64(g.tagSize) {
		return nil, errOpen
	}
	h := g.c.hp()
	ret, out := sliceForAppend(dst, len(ciphertext)-g.tagSize)
	// The whole input, tag included, as crypto/cipher: an output over the
	// tag would overwrite it before it is compared.
	if alias.InexactOverlap(out, ciphertext) {
		panic("crypto/cipher: invalid buffer overlap of output and input")
	}
	tag := ciphertext[len(ciphertext)-g.tagSize:]
	ciphertext = ciphertext[:len(ciphertext)-g.tagSize]
	if alias.AnyOverlap(out, additionalData) {
		panic("crypto/cipher: invalid buffer overlap of output and additional data")
	}
	j0 := g.j0(nonce)
	// GHASH runs over the ciphertext before it is decrypted (the two may
	// share memory); the decryption also yields the tag mask E(J0). On a
	// tag mismatch the output is cleared: no unauthenticated plaintext.
	var tagMask, want [16]byte
	ok := true
	if g.c.b.gcmFuses(g.gh, len(ciphertext)) {
		want, ok = g.fused(h, out, ciphertext, additionalData, &j0, &tagMask, true)
	} else {
		want = g.auth(additionalData, ciphertext)
		ok = g.crypt(h, out, ciphertext, &j0, &tagMask)
	}
	subtle.XORBytes(want[:], want[:], tagMask[:])
	clear(tagMask[:])
	if !ok {
		clear(out)
		return nil, fmt.Errorf("aeskl: GCM Open: %w", g.c.rejected())
	}
	if subtle.ConstantTimeCompare(want[:g.tagSize], tag) != 1 {
		clear(out)
		return nil, errOpen
	}
	return ret, nil
}

// sliceForAppend extends in by n bytes (as crypto/internal/fips140/alias).
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}
