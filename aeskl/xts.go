package aeskl

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-keylocker/keylocker/internal/alias"
	"github.com/go-keylocker/keylocker/internal/handle"

	"github.com/go-keylocker/keylocker/internal/fallback"
)

// XTS is AES-XTS (IEEE 1619, NIST SP 800-38E) for disk and file encryption
// on two handles: the data key and the tweak key. The tweak key's handle
// carries the NoDecrypt restriction where the implementation supports it
// (XTS only ever encrypts tweaks). Lengths that are not a multiple of 16 use
// IEEE 1619 ciphertext stealing. With Key Locker WIDE, one AESENCWIDE*KL
// (or AESDECWIDE*KL) handles 8 blocks with their tweaks.
//
// An XTS is safe for concurrent use, Close included (as a Cipher).
type XTS struct {
	data, tweak *Cipher
}

// NewXTS creates an XTS from a 32, 48 or 64-byte key: the data key (first
// half) and the tweak key (second half), as golang.org/x/crypto/xts. The
// options apply to the data key (WithImplementation also to the tweak key;
// WithRestrictions(NoEncrypt) makes a decrypt-only XTS). The key is never
// copied: wipe it when done.
func NewXTS(key []byte, opts ...Option) (*XTS, error) {
	switch len(key) {
	case 32, 48, 64:
	default:
		return nil, fmt.Errorf("aeskl: invalid XTS key size %d (want 32, 48 or 64 bytes)", len(key))
	}
	half := len(key) / 2
	return newXTS(half, newConfig(opts), func(tweak bool, cfg *config) (*Cipher, error) {
		if tweak {
			return newCipher(key[half:], cfg)
		}
		return newCipher(key[:half], cfg)
	})
}

// newXTS makes the data Cipher with mk(false, &cfg), then the tweak Cipher
// with mk(true, ...) on the data key's implementation (and sealed path),
// restricted to NoDecrypt where the implementation supports it.
func newXTS(half int, cfg config, mk func(tweak bool, cfg *config) (*Cipher, error)) (*XTS, error) {
	data, err := mk(false, &cfg)
	if err != nil {
		return nil, err
	}
	tc := config{impl: data.b.impl, sealedPath: -1, randSources: cfg.randSources}
	if data.b.impl == AESNISealed {
		tc.sealedPath = data.b.path
	}
	if s := detect(); unavailable(s, data.b.impl, half, NoDecrypt) == "" {
		tc.restrictions = NoDecrypt
	}
	tweak, err := mk(true, &tc)
	if err != nil {
		data.Close()
		return nil, err
	}
	return &XTS{data: data, tweak: tweak}, nil
}

// Implementation reports the implementation both handles run on.
func (x *XTS) Implementation() Implementation { return x.data.Implementation() }

// Close wipes both handles. As for a Cipher, a call that overlaps Close
// finishes normally or panics, and every later call panics.
func (x *XTS) Close() {
	x.data.Close()
	x.tweak.Close()
}

// rejected is Cipher.rejected for both handles.
func (x *XTS) rejected() error {
	x.tweak.check()
	return x.data.rejected()
}

// Encrypt encrypts src (at least 16 bytes) into dst with the tweak made of
// sector in little-endian bytes 0-7 (dm-crypt plain64, x/crypto/xts).
//
// Like every XTS method it returns an error for input it cannot process
// (shorter than 16 bytes; for the Sectors methods, not whole sectors),
// ErrRestricted, with dst zeroed, for a direction the data key's
// restriction forbids, and ErrInvalidHandle, with dst zeroed, for a
// rejected handle; it panics, as
// x/crypto/xts does, when dst is shorter than src or overlaps it inexactly.
func (x *XTS) Encrypt(dst, src []byte, sector uint64) error {
	return x.crypt(dst, src, sectorTweak(sector), false)
}

// Decrypt decrypts src (at least 16 bytes) into dst; see Encrypt.
func (x *XTS) Decrypt(dst, src []byte, sector uint64) error {
	return x.crypt(dst, src, sectorTweak(sector), true)
}

// EncryptTweak encrypts src into dst with a full 16-byte IEEE 1619 tweak.
func (x *XTS) EncryptTweak(dst, src []byte, tweak [16]byte) error {
	return x.crypt(dst, src, tweak, false)
}

// DecryptTweak decrypts src into dst with a full 16-byte IEEE 1619 tweak.
func (x *XTS) DecryptTweak(dst, src []byte, tweak [16]byte) error {
	return x.crypt(dst, src, tweak, true)
}

// EncryptSectors encrypts a run of consecutive sectors of sectorSize bytes
// (a multiple of 16), the first numbered firstSector: len(src) must be a
// whole number of sectors.
func (x *XTS) EncryptSectors(dst, src []byte, firstSector uint64, sectorSize int) error {
	return x.sectors(dst, src, firstSector, 1, sectorSize, false)
}

// DecryptSectors decrypts a run of consecutive sectors; see EncryptSectors.
func (x *XTS) DecryptSectors(dst, src []byte, firstSector uint64, sectorSize int) error {
	return x.sectors(dst, src, firstSector, 1, sectorSize, true)
}

// EncryptSectorsStride is EncryptSectors for sector numbers that advance
// by stride from one sector to the next: sector i of src is encrypted with
// the tweak number firstSector + i*stride (mod 2^64). dm-crypt numbers the
// IVs of larger sectors in 512-byte units unless iv_large_sectors is set:
// 4096-byte sectors then take stride 8.
func (x *XTS) EncryptSectorsStride(dst, src []byte, firstSector, stride uint64, sectorSize int) error {
	return x.sectors(dst, src, firstSector, stride, sectorSize, false)
}

// DecryptSectorsStride decrypts what EncryptSectorsStride encrypts.
func (x *XTS) DecryptSectorsStride(dst, src []byte, firstSector, stride uint64, sectorSize int) error {
	return x.sectors(dst, src, firstSector, stride, sectorSize, true)
}

func sectorTweak(sector uint64) (t [16]byte) {
	binary.LittleEndian.PutUint64(t[:], sector)
	return
}

func checkXTSBuffers(dst, src []byte) {
	if len(dst) < len(src) {
		panic("aeskl: XTS output smaller than input")
	}
	if alias.InexactOverlap(dst[:len(src)], src) {
		panic("aeskl: XTS invalid buffer overlap")
	}
}

func (x *XTS) sectors(dst, src []byte, first, stride uint64, size int, dec bool) error {
	if size < BlockSize || size%BlockSize != 0 {
		return fmt.Errorf("aeskl: XTS sector size %d is not a positive multiple of 16", size)
	}
	if len(src)%size != 0 {
		return fmt.Errorf("aeskl: XTS input of %d bytes is not a whole number of %d-byte sectors", len(src), size)
	}
	checkXTSBuffers(dst, src)
	hd, ht := x.data.hp(), x.tweak.hp()
	if len(src) > 0 && x.data.forbids(dec) {
		clear(dst[:len(src)])
		return ErrRestricted
	}
	b := &x.data.b
	flags := b.flags
	if dec {
		flags |= modeDecrypt
	}
	if size > chunk {
		// A sector larger than a kernel call may take: split inside it.
		for off := 0; off < len(src); off += size {
			t := sectorTweak(first + uint64(off/size)*stride)
			ok := x.blocks(hd, ht, dst[off:off+size], src[off:off+size], &t, dec)
			clear(t[:]) // the encrypted tweak: derived from the tweak key
			if !ok {
				clear(dst[:len(src)])
				return x.rejected()
			}
		}
		return nil
	}
	// Whole sectors per kernel call, at most chunk bytes.
	per := chunk / size * size
	for off := 0; off < len(src); off += per {
		n := min(per, len(src)-off)
		if !b.xtsSectors(hd, ht, dst[off:off+n], src[off:off+n], first+uint64(off/size)*stride, stride, size, flags) {
			clear(dst[:len(src)])
			return x.rejected()
		}
	}
	return nil
}

var errXTSShort = errors.New("aeskl: XTS needs at least 16 bytes")

// blocks runs the XTS kernel over whole blocks with the data handle hd;
// *t is the plain tweak, encrypted first with the tweak handle ht.
func (x *XTS) blocks(hd, ht *handle.Handle, dst, src []byte, t *[16]byte, dec bool) bool {
	b := &x.data.b
	flags := b.flags
	if dec {
		flags |= modeDecrypt
	}
	for first := true; first || len(src) > 0; first = false {
		n := min(len(src), chunk)
		if !b.xts(hd, ht, dst[:n], src[:n], t, flags) {
			return false
		}
		ht = nil
		dst, src = dst[n:], src[n:]
	}
	return true
}

// crypt is XTS with ciphertext stealing (IEEE 1619-2018 5.3.2, 5.4.2).
//
// The encrypted tweaks (t, tm, first, second) are derived from the tweak
// key: they are cleared before it returns.
func (x *XTS) crypt(dst, src []byte, tweak [16]byte, dec bool) error {
	var t, tm, first, second [16]byte
	defer func() { clear(t[:]); clear(tm[:]); clear(first[:]); clear(second[:]) }()
	if len(src) < BlockSize {
		return errXTSShort
	}
	checkXTSBuffers(dst, src)
	hd, ht := x.data.hp(), x.tweak.hp()
	out := dst[:len(src)]
	if x.data.forbids(dec) {
		clear(out)
		return ErrRestricted
	}
	r := len(src) % BlockSize
	full := len(src) - r
	if r != 0 {
		full -= BlockSize // the last full block is stolen from
	}
	t = tweak
	if !x.blocks(hd, ht, dst[:full], src[:full], &t, dec) {
		clear(out)
		return x.rejected()
	}
	if r == 0 {
		return nil
	}
	// t is T_{m-1}, the tweak of the last full block P_{m-1} (or C_{m-1}).
	bk := &x.data.b
	flags := bk.flags
	if dec {
		flags |= modeDecrypt
	}
	// Encryption: CC = E_{T_{m-1}}(P_{m-1}); C_m = CC[:r];
	// C_{m-1} = E_{T_m}(P_m || CC[r:]). Decryption is the same with the two
	// tweaks swapped: PP = D_{T_m}(C_{m-1}); P_m = PP[:r];
	// P_{m-1} = D_{T_{m-1}}(C_m || PP[r:]).
	tm = t
	fallback.MulAlpha(&tm)
	first, second = t, tm
	if dec {
		first, second = tm, t
	}
	var a, b [16]byte
	copy(a[:], src[full:full+BlockSize])
	if !bk.xts(hd, nil, a[:], a[:], &first, flags) {
		clear(out)
		return x.rejected()
	}
	copy(b[:], src[full+BlockSize:]) // read the tail before dst (maybe src) is written
	copy(b[r:], a[r:])
	copy(dst[full+BlockSize:], a[:r])
	if !bk.xts(hd, nil, b[:], b[:], &second, flags) {
		clear(out)
		return x.rejected()
	}
	copy(dst[full:], b[:])
	return nil
}
