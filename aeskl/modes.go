package aeskl

import (
	"crypto/cipher"
	"encoding/binary"

	"github.com/go-keylocker/keylocker/internal/alias"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// Mode kernel flags (internal/kernel).
const (
	modeKey256  = kernel.ModeKey256
	modeWide    = kernel.ModeWide
	modeInc32   = kernel.ModeInc32
	modeDecrypt = kernel.ModeDecrypt
)

// chunk bounds the data one kernel call processes, so that a caller's huge
// buffer does not hold the CPU (and, for the sealed path, the unwrapped key
// in registers) in one call for too long.
const chunk = 256 << 10

// --- CTR ---

// NewCTR returns a CTR-mode stream (full 128-bit big-endian counter, as
// crypto/cipher.NewCTR); cipher.NewCTR on an aeskl Cipher calls it. The
// keystream is made by the implementation's CTR kernel: with Key Locker
// WIDE, one AESENCWIDE*KL per 8 blocks. XORKeyStream zeroes dst and panics
// with ErrRestricted for a NoEncrypt handle, with ErrInvalidHandle if the
// handle is rejected.
func (c *Cipher) NewCTR(iv []byte) cipher.Stream {
	c.check()
	if len(iv) != BlockSize {
		panic("cipher.NewCTR: IV length must equal block size")
	}
	s := &ctrStream{c: c, used: BlockSize}
	copy(s.ctr[:], iv)
	return s
}

type ctrStream struct {
	c    *Cipher
	ctr  [16]byte // the next counter block
	ks   [16]byte // keystream of the last partial block
	used int      // bytes of ks already used
}

func (s *ctrStream) XORKeyStream(dst, src []byte) {
	if len(dst) < len(src) {
		panic("crypto/cipher: output smaller than input")
	}
	if alias.InexactOverlap(dst[:len(src)], src) {
		panic("crypto/cipher: invalid buffer overlap")
	}
	h := s.c.hp()
	out := dst[:len(src)]
	if len(src) > 0 && s.c.forbids(false) {
		// No keystream was ever made: CTR runs the cipher forward.
		clear(out)
		panic(ErrRestricted)
	}
	for s.used < BlockSize && len(src) > 0 {
		dst[0] = src[0] ^ s.ks[s.used]
		s.used++
		dst, src = dst[1:], src[1:]
	}
	b := &s.c.b
	for len(src) >= BlockSize {
		n := min(len(src)&^(BlockSize-1), chunk)
		if !b.ctr(h, dst[:n], src[:n], &s.ctr, b.flags) {
			clear(out)
			panic(s.c.rejected())
		}
		dst, src = dst[n:], src[n:]
	}
	if len(src) > 0 {
		clear(s.ks[:])
		if !b.ctr(h, s.ks[:], s.ks[:], &s.ctr, b.flags) {
			clear(out)
			panic(s.c.rejected())
		}
		for i := range src {
			dst[i] = src[i] ^ s.ks[i]
		}
		s.used = len(src)
	}
}

// --- CBC ---

// NewCBCEncrypter returns a CBC encrypter; cipher.NewCBCEncrypter on an
// aeskl Cipher calls it. CBC encryption is sequential by nature: one
// single-block instruction per block. CryptBlocks zeroes dst and panics with
// ErrRestricted for a NoEncrypt handle, with ErrInvalidHandle if the handle
// is rejected.
func (c *Cipher) NewCBCEncrypter(iv []byte) cipher.BlockMode {
	c.check()
	if len(iv) != BlockSize {
		panic("cipher.NewCBCEncrypter: IV length must equal block size")
	}
	m := &cbc{c: c}
	copy(m.iv[:], iv)
	return m
}

// NewCBCDecrypter returns a CBC decrypter; cipher.NewCBCDecrypter on an
// aeskl Cipher calls it. Decryption is parallel: with Key Locker WIDE, one
// AESDECWIDE*KL per 8 blocks. CryptBlocks zeroes dst and panics with
// ErrRestricted for a NoDecrypt handle, with ErrInvalidHandle if the handle
// is rejected.
func (c *Cipher) NewCBCDecrypter(iv []byte) cipher.BlockMode {
	c.check()
	if len(iv) != BlockSize {
		panic("cipher.NewCBCDecrypter: IV length must equal block size")
	}
	m := &cbc{c: c, dec: true}
	copy(m.iv[:], iv)
	return m
}

type cbc struct {
	c   *Cipher
	iv  [16]byte
	dec bool
}

func (m *cbc) BlockSize() int { return BlockSize }

// SetIV sets the IV for the next CryptBlocks, as crypto/cipher's CBC does.
func (m *cbc) SetIV(iv []byte) {
	if len(iv) != BlockSize {
		panic("cipher: incorrect length IV")
	}
	copy(m.iv[:], iv)
}

func (m *cbc) CryptBlocks(dst, src []byte) {
	if len(src)%BlockSize != 0 {
		panic("crypto/cipher: input not full blocks")
	}
	if len(dst) < len(src) {
		panic("crypto/cipher: output smaller than input")
	}
	if alias.InexactOverlap(dst[:len(src)], src) {
		panic("crypto/cipher: invalid buffer overlap")
	}
	h := m.c.hp()
	out := dst[:len(src)]
	if len(src) > 0 && m.c.forbids(m.dec) {
		clear(out)
		panic(ErrRestricted)
	}
	b := &m.c.b
	for len(src) > 0 {
		n := min(len(src), chunk)
		var ok bool
		if m.dec {
			ok = b.cbcDecrypt(h, dst[:n], src[:n], &m.iv, b.flags)
		} else {
			ok = b.cbcEncrypt(h, dst[:n], src[:n], &m.iv, b.flags)
		}
		if !ok {
			clear(out)
			panic(m.c.rejected())
		}
		dst, src = dst[n:], src[n:]
	}
}

// inc32 adds n to the low 32 bits of a big-endian counter block (mod 2^32).
func inc32(b *[16]byte, n uint32) {
	binary.BigEndian.PutUint32(b[12:], binary.BigEndian.Uint32(b[12:])+n)
}
