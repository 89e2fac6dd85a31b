package disk

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/alias"
)

// Ciphers lists the dm-crypt cipher specifications a Cipher supports,
// with their key sizes in bytes.
var Ciphers = []struct {
	Spec     string
	KeySizes []int
}{
	{"aes-xts-plain64", []int{32, 48, 64}},
	{"aes-cbc-essiv:sha256", []int{16, 24, 32}},
	{"aes-cbc-plain64", []int{16, 24, 32}},
}

// An UnsupportedCipherError names a cipher specification this package
// does not implement.
type UnsupportedCipherError string

func (e UnsupportedCipherError) Error() string {
	names := make([]string, len(Ciphers))
	for i, c := range Ciphers {
		names[i] = c.Spec
	}
	return fmt.Sprintf("disk: cipher %q is not supported (supported: %s)", string(e), strings.Join(names, ", "))
}

// A SectorCipher encrypts or decrypts runs of whole sectors: sector i of
// src (sectorSize bytes each) into the same place of dst with the IV
// number iv + i*ivStep. Implementations are safe for concurrent use.
type SectorCipher interface {
	CryptSectors(dst, src []byte, iv, ivStep uint64, sectorSize int, decrypt bool) error
}

// A Cipher is a dm-crypt sector cipher whose keys are aeskl handles:
// AES-XTS with the plain64 IV (the 64-bit little-endian IV number as the
// XTS tweak), or AES-CBC with the plain64 or ESSIV (SHA-256) IV. It is
// safe for concurrent use, Close included: as for an aeskl.Cipher, a call
// that overlaps Close finishes normally or panics, and a call that starts
// after it panics (a Transformer returns that panic as an error).
type Cipher struct {
	spec  string
	xts   *aeskl.XTS
	block *aeskl.Cipher // CBC data key
	essiv *aeskl.Cipher // CBC ESSIV key: SHA-256 of the data key; nil for plain64
}

var _ SectorCipher = (*Cipher)(nil)

// NewCipher makes the Cipher of a dm-crypt specification ("aes-xts-plain64",
// "aes-cbc-essiv:sha256" or "aes-cbc-plain64") from its key. The key is
// turned into handles and never copied: wipe it when NewCipher returns.
func NewCipher(spec string, key []byte, opts ...aeskl.Option) (*Cipher, error) {
	sizes, ok := keySizes(spec)
	if !ok {
		return nil, UnsupportedCipherError(spec)
	}
	okSize := false
	for _, s := range sizes {
		okSize = okSize || s == len(key)
	}
	if !okSize {
		return nil, fmt.Errorf("disk: %s takes a key of %s bytes, not %d", spec, joinInts(sizes), len(key))
	}
	if spec == "aes-xts-plain64" {
		x, err := aeskl.NewXTS(key, opts...)
		if err != nil {
			return nil, err
		}
		return &Cipher{spec: spec, xts: x}, nil
	}
	b, err := aeskl.New(key, opts...)
	if err != nil {
		return nil, err
	}
	c := &Cipher{spec: spec, block: b}
	if spec == "aes-cbc-essiv:sha256" {
		var salt [sha256.Size]byte
		h := sha256.New()
		h.Write(key)
		h.Sum(salt[:0])
		// The digest's buffer held the key: overwrite it with a block of
		// zeros (the key is shorter than a block, so it never left it).
		h.Write(make([]byte, h.BlockSize()))
		c.essiv, err = aeskl.New(salt[:], opts...)
		clear(salt[:])
		if err != nil {
			b.Close()
			return nil, err
		}
	}
	return c, nil
}

// NewXTSCipher makes the aes-xts-plain64 Cipher of an XTS; Close closes x.
func NewXTSCipher(x *aeskl.XTS) *Cipher { return &Cipher{spec: "aes-xts-plain64", xts: x} }

func keySizes(spec string) ([]int, bool) {
	for _, c := range Ciphers {
		if c.Spec == spec {
			return c.KeySizes, true
		}
	}
	return nil, false
}

// CheckSpec reports whether spec is supported with a key of keyLen bytes.
func CheckSpec(spec string, keyLen int) error {
	sizes, ok := keySizes(spec)
	if !ok {
		return UnsupportedCipherError(spec)
	}
	for _, s := range sizes {
		if s == keyLen {
			return nil
		}
	}
	return fmt.Errorf("disk: %s takes a key of %s bytes, not %d", spec, joinInts(sizes), keyLen)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Spec returns the dm-crypt cipher specification.
func (c *Cipher) Spec() string { return c.spec }

// XTS returns the XTS of an aes-xts-plain64 Cipher, nil for the others.
func (c *Cipher) XTS() *aeskl.XTS { return c.xts }

// Implementation reports the aeskl implementation the handles run on.
func (c *Cipher) Implementation() aeskl.Implementation {
	if c.xts != nil {
		return c.xts.Implementation()
	}
	return c.block.Implementation()
}

// Close wipes the handles. Any later use panics.
func (c *Cipher) Close() {
	if c.xts != nil {
		c.xts.Close()
	}
	if c.block != nil {
		c.block.Close()
	}
	if c.essiv != nil {
		c.essiv.Close()
	}
}

var errSectors = errors.New("disk: data is not a whole number of sectors")

// CryptSectors encrypts (or, with decrypt, decrypts) the whole sectors of
// src into dst (which may be src itself, but must not overlap it
// otherwise), sector i with the IV number iv + i*ivStep. It returns
// aeskl.ErrInvalidHandle, with dst zeroed, if a handle is rejected
// (aeskl.ErrRestricted, which matches it too, for a direction a handle's
// restriction forbids).
func (c *Cipher) CryptSectors(dst, src []byte, iv, ivStep uint64, sectorSize int, decrypt bool) error {
	if sectorSize < aeskl.BlockSize || sectorSize%aeskl.BlockSize != 0 || len(src)%sectorSize != 0 {
		return errSectors
	}
	if len(dst) < len(src) {
		return errors.New("disk: output smaller than input")
	}
	if alias.InexactOverlap(dst[:len(src)], src) {
		return errOverlap
	}
	if c.xts != nil {
		return c.xtsSectors(dst, src, iv, ivStep, sectorSize, decrypt)
	}
	return c.cbcSectors(dst, src, iv, ivStep, sectorSize, decrypt)
}

func (c *Cipher) xtsSectors(dst, src []byte, iv, step uint64, size int, dec bool) error {
	if dec {
		return c.xts.DecryptSectorsStride(dst, src, iv, step, size)
	}
	return c.xts.EncryptSectorsStride(dst, src, iv, step, size)
}

func (c *Cipher) cbcSectors(dst, src []byte, iv, step uint64, size int, dec bool) (err error) {
	// aeskl's block and CBC methods panic with ErrInvalidHandle (their
	// signatures come from crypto/cipher): return it instead.
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && errors.Is(e, aeskl.ErrInvalidHandle) {
				clear(dst[:len(src)])
				err = e
				return
			}
			panic(r)
		}
	}()
	var v [16]byte
	defer clear(v[:]) // an ESSIV is derived from the ESSIV key
	var m interface {
		CryptBlocks(dst, src []byte)
		SetIV([]byte)
	}
	for off := 0; off < len(src); off += size {
		clear(v[:])
		binary.LittleEndian.PutUint64(v[:], iv)
		if c.essiv != nil {
			c.essiv.Encrypt(v[:], v[:])
		}
		if m == nil {
			var bm interface{ CryptBlocks(dst, src []byte) }
			if dec {
				bm = c.block.NewCBCDecrypter(v[:])
			} else {
				bm = c.block.NewCBCEncrypter(v[:])
			}
			m = bm.(interface {
				CryptBlocks(dst, src []byte)
				SetIV([]byte)
			})
		} else {
			m.SetIV(v[:])
		}
		m.CryptBlocks(dst[off:off+size], src[off:off+size])
		iv += step
	}
	return nil
}
