// Package handle is the reference implementation of the Key Locker handle
// format and wrap (Intel Key Locker Specification 343965-001, handle format
// 1.4, appendix A.5). It is shared by the emulator (klemu), by the portable
// generic implementation and by every test that needs a reference wrap, so
// that there is one handle format and one set of semantics in the project.
//
// A handle is 16 bytes of metadata (the AAD), a 16-byte integrity tag and
// the wrapped key: 48 bytes for AES-128, 64 bytes for AES-256. The wrap is
// AES-GCM-SIV-like: S = POLYVAL(IK, metadata || key blocks || length block)
// with bit 127 cleared, tag = AES-256_EK(S), and the key is encrypted in
// counter mode from the tag with bit 127 set.
//
// AES-192 has no Key Locker form. The software implementations wrap it with
// the same algorithm under key type 2 (a value the hardware never produces):
// 24 key bytes padded with 8 zero bytes to two blocks, a 64-byte handle.
//
// This package works on Go slices: whatever it touches may be copied by the
// Go runtime. It is for tests, the emulator and the portable fallback; the
// sealed amd64 path does the same computation in registers.
package handle

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// Restriction bits in metadata bits 2:0 (CPUID.19H:EAX lists which the CPU supports).
const (
	CPL0Only  = 1 << 0 // the handle is usable only at CPL0
	NoEncrypt = 1 << 1 // AES*ENC*KL refuses the handle
	NoDecrypt = 1 << 2 // AES*DEC*KL refuses the handle

	RestrictionMask = CPL0Only | NoEncrypt | NoDecrypt
)

// Key types in metadata bits 27:24.
const (
	KeyTypeShift  = 24
	KeyTypeAES128 = 0
	KeyTypeAES256 = 1
	// KeyTypeAES192 is this project's software-only extension: no Key
	// Locker instruction accepts it.
	KeyTypeAES192 = 2
)

// ReservedMask covers the metadata bits (of the low 32) that must be zero.
// Bits 127:32 must be zero as well.
const ReservedMask = 0xFFFFFFFF &^ (RestrictionMask | 0xF<<KeyTypeShift)

// Sizes of the parts of a handle.
const (
	MetaSize = 16
	TagSize  = 16
	Size128  = 48
	Size256  = 64
	Size192  = 64
)

// IWKey is a Key Locker internal wrapping key: a 128-bit integrity key (the
// POLYVAL key) and a 256-bit encryption key (an AES-256 key).
type IWKey struct {
	IK [16]byte
	EK [32]byte
}

// Errors returned by Unwrap and Wrap.
var (
	ErrKeySize  = errors.New("handle: key must be 16, 24 or 32 bytes")
	ErrReserved = errors.New("handle: reserved metadata bit set")
	ErrKeyType  = errors.New("handle: key type does not match")
	ErrAuth     = errors.New("handle: integrity check failed")
	ErrLength   = errors.New("handle: wrong handle length")
)

// KeyType returns the key type for a key length in bytes, or -1.
func KeyType(keyLen int) int {
	switch keyLen {
	case 16:
		return KeyTypeAES128
	case 24:
		return KeyTypeAES192
	case 32:
		return KeyTypeAES256
	}
	return -1
}

// SizeForKeyType returns the handle length for a key type, or 0.
func SizeForKeyType(kt int) int {
	switch kt {
	case KeyTypeAES128:
		return Size128
	case KeyTypeAES192:
		return Size192
	case KeyTypeAES256:
		return Size256
	}
	return 0
}

func keyBits(kt int) uint64 {
	switch kt {
	case KeyTypeAES128:
		return 128
	case KeyTypeAES192:
		return 192
	}
	return 256
}

// Meta builds the metadata word for restrictions and a key type.
func Meta(restrictions uint32, kt int) uint32 {
	return restrictions&RestrictionMask | uint32(kt)<<KeyTypeShift
}

// ParseMeta returns the restriction bits and key type of a handle's
// metadata, or ErrReserved if a reserved bit is set (bits 127:28, 23:3, or
// an unknown key type).
func ParseMeta(h []byte) (restrictions uint32, kt int, err error) {
	if len(h) < MetaSize {
		return 0, 0, ErrLength
	}
	lo := binary.LittleEndian.Uint64(h[0:])
	hi := binary.LittleEndian.Uint64(h[8:])
	if hi != 0 || lo>>32 != 0 || uint32(lo)&ReservedMask != 0 {
		return 0, 0, ErrReserved
	}
	kt = int(lo >> KeyTypeShift & 0xF)
	if SizeForKeyType(kt) == 0 {
		return 0, 0, ErrReserved
	}
	return uint32(lo) & RestrictionMask, kt, nil
}

// Wrap wraps key (16, 24 or 32 bytes) under iw with the given restriction
// bits, as ENCODEKEY128/256 do, and returns the handle.
func Wrap(iw *IWKey, restrictions uint32, key []byte) ([]byte, error) {
	kt := KeyType(len(key))
	if kt < 0 {
		return nil, ErrKeySize
	}
	h := make([]byte, SizeForKeyType(kt))
	binary.LittleEndian.PutUint32(h, Meta(restrictions, kt))
	kb := h[32:] // the key blocks, padded with zeros, encrypted in place
	copy(kb, key)
	c, _ := aes.NewCipher(iw.EK[:])
	s := polyvalBlocks(&iw.IK, h[:16], kb, kt)
	s[15] &= 0x7F
	c.Encrypt(h[16:32], s[:])
	ctrXOR(c, h[16:32], kb)
	return h, nil
}

// Unwrap checks and unwraps a handle. It returns the key, the restriction
// bits and the key type. It does not apply restrictions: the caller knows
// whether it encrypts or decrypts (see Check).
func Unwrap(iw *IWKey, h []byte) (key []byte, restrictions uint32, kt int, err error) {
	restrictions, kt, err = ParseMeta(h)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(h) != SizeForKeyType(kt) {
		return nil, 0, 0, ErrLength
	}
	c, _ := aes.NewCipher(iw.EK[:])
	kb := make([]byte, len(h)-32)
	copy(kb, h[32:])
	ctrXOR(c, h[16:32], kb)
	s := polyvalBlocks(&iw.IK, h[:16], kb, kt)
	s[15] &= 0x7F
	var tag [16]byte
	c.Encrypt(tag[:], s[:])
	klen := int(keyBits(kt) / 8)
	pad := byte(0)
	for _, b := range kb[klen:] {
		pad |= b
	}
	if subtle.ConstantTimeCompare(tag[:], h[16:32]) != 1 || pad != 0 {
		clear(kb)
		return nil, 0, 0, ErrAuth
	}
	return kb[:klen], restrictions, kt, nil
}

// Check applies the rules a Key Locker AES instruction applies to a handle
// before using it: reserved bits, CPL0-only at CPL3 (user space always
// refuses it), the direction restrictions and the key type the instruction
// expects. It does not verify the tag.
func Check(h []byte, wantKT int, encrypt bool) error {
	r, kt, err := ParseMeta(h)
	if err != nil {
		return err
	}
	if kt != wantKT {
		return ErrKeyType
	}
	if len(h) < SizeForKeyType(kt) {
		return ErrLength
	}
	if r&CPL0Only != 0 || encrypt && r&NoEncrypt != 0 || !encrypt && r&NoDecrypt != 0 {
		return ErrRestricted
	}
	return nil
}

// ErrRestricted reports a handle whose restrictions forbid the operation.
var ErrRestricted = errors.New("handle: restricted")

// ctrXOR XORs kb with AES-256_EK(counter_j), counter_0 = tag with bit 127
// set and the low 32 bits incremented (little-endian) by j.
func ctrXOR(c interface{ Encrypt(dst, src []byte) }, tag, kb []byte) {
	var ctr, ks [16]byte
	copy(ctr[:], tag)
	ctr[15] |= 0x80
	base := binary.LittleEndian.Uint32(ctr[:4])
	for j := 0; j*16 < len(kb); j++ {
		binary.LittleEndian.PutUint32(ctr[:4], base+uint32(j))
		c.Encrypt(ks[:], ctr[:])
		subtle.XORBytes(kb[16*j:16*j+16], kb[16*j:16*j+16], ks[:])
	}
	clear(ks[:])
}

func polyvalBlocks(ik *[16]byte, meta, kb []byte, kt int) [16]byte {
	var p Polyval
	p.Init(ik)
	p.Update(meta)
	p.Update(kb)
	var l [16]byte
	binary.LittleEndian.PutUint64(l[0:], 128)
	binary.LittleEndian.PutUint64(l[8:], keyBits(kt))
	p.Update(l[:])
	return p.Sum()
}

// Handle is where a handle is kept: 64 bytes, of which an AES-128 handle
// uses the first 48 (the rest is zero). Every layer passes handles as
// *Handle; the assembly sees the same 64 bytes as *[64]byte.
type Handle [Size256]byte

// Check applies Check's rules to h for an operation in the given direction
// with the key type h's own metadata names (the software implementations'
// rule: the tag covers the metadata, so the key type needs no second
// source). It does not verify the tag.
func (h *Handle) Check(encrypt bool) error {
	_, kt, err := ParseMeta(h[:])
	if err != nil {
		return err
	}
	return Check(h[:], kt, encrypt)
}
