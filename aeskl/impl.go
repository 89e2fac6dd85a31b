package aeskl

import (
	"errors"
	"fmt"

	"github.com/go-keylocker/keylocker/internal/fallback"
	"github.com/go-keylocker/keylocker/internal/handle"
)

// This file is the one place that chooses an implementation. The
// platform files (impl_amd64.go, impl_other.go) only construct backends.

// backend is an implementation bound to one key size.
type backend struct {
	impl Implementation
	// encodeKey turns key into a handle in h.
	encodeKey func(key []byte, restrictions uint32, h *[64]byte)
	// encrypt and decrypt process len(src)/16 blocks; false means the
	// handle was rejected (dst may be partly written: the caller zeroes it).
	encrypt, decrypt func(h *[64]byte, dst, src []byte) bool
	// k are the mode kernels (CTR, CBC, XTS, GCM).
	k kernels
	// sealedPath is the aesni-sealed bulk path (sealedAESNI...).
	sealedPath int
}

// Sealed bulk paths (internal/asm's PathAESNI, PathVAES256, PathVAES512).
const (
	sealedAESNI   = 0
	sealedVAES256 = 1
	sealedVAES512 = 2
)

var sealedPathNames = [...]string{"aes-ni", "vaes-ymm", "vaes-zmm"}

// unavailable returns why impl cannot run here for a key of keyLen bytes
// with the given restrictions, or "" if it can.
func unavailable(s *Support, impl Implementation, keyLen int, r Restriction) string {
	switch impl {
	case KeyLockerWide, KeyLocker:
		if !hasAsm {
			return "Key Locker needs amd64 assembly (this build is " + buildDesc() + ")"
		}
		if keyLen == 24 {
			return "Key Locker has no AES-192 instructions"
		}
		if !s.AESKLE {
			return "Key Locker is not usable here: " + s.klReason()
		}
		if impl == KeyLockerWide && !s.WideKL {
			return "the CPU has no Key Locker WIDE instructions (CPUID.19H:EBX[2]=0)"
		}
		if r&NoEncrypt != 0 && !s.RestrictNoEncrypt || r&NoDecrypt != 0 && !s.RestrictNoDecrypt {
			return "the CPU does not support this handle restriction (CPUID.19H:EAX)"
		}
		return ""
	case AESNISealed:
		if !hasAsm {
			return "aesni-sealed needs amd64 assembly (this build is " + buildDesc() + ")"
		}
		if !s.AESNI || !s.PCLMULQDQ {
			return "aesni-sealed needs AES-NI and PCLMULQDQ"
		}
		return ""
	case Generic:
		return ""
	}
	return fmt.Sprintf("unknown implementation %d", int(impl))
}

// chooseBackend picks the implementation for a new Cipher: the forced one
// if cfg names one, else the first of Implementations that can run.
func chooseBackend(keyLen int, cfg *config) (backend, error) {
	s := detect()
	impl := cfg.impl
	if impl != 0 {
		if why := unavailable(s, impl, keyLen, cfg.restrictions); why != "" {
			return backend{}, fmt.Errorf("aeskl: implementation %v cannot run here: %s", impl, why)
		}
	} else {
		impl = s.choose(keyLen)
		if impl == KeyLocker || impl == KeyLockerWide {
			if why := unavailable(s, impl, keyLen, cfg.restrictions); why != "" {
				return backend{}, errors.New("aeskl: " + why)
			}
		}
	}
	switch impl {
	case KeyLockerWide, KeyLocker:
		return klBackend(keyLen, impl == KeyLockerWide), nil
	case AESNISealed:
		path := cfg.sealedPath
		if path < 0 {
			path = s.sealedPath()
		}
		region, err := fallback.WrapKey()
		if err != nil {
			return backend{}, err
		}
		return sealedBackend(region, path), nil
	}
	region, err := fallback.WrapKey()
	if err != nil {
		return backend{}, err
	}
	return genericBackend(region), nil
}

// choose returns the implementation New picks for a key size.
func (s *Support) choose(keyLen int) Implementation {
	for _, i := range Implementations {
		if unavailable(s, i, keyLen, 0) == "" {
			return i
		}
	}
	return Generic
}

// sealedPath returns the fastest sealed bulk path the CPU and OS support.
func (s *Support) sealedPath() int {
	switch {
	case s.VAES && s.AVX512:
		return sealedVAES512
	case s.VAES && s.AVX2:
		return sealedVAES256
	}
	return sealedAESNI
}

// genericBackend is the portable sealed implementation.
func genericBackend(region *[4096]byte) backend {
	var kt int
	enc := func(h *[64]byte) bool { return handle.Check(h[:], kt, true) == nil }
	dec := func(h *[64]byte) bool { return handle.Check(h[:], kt, false) == nil }
	return backend{
		k: kernels{
			ctr: func(h *[64]byte, dst, src []byte, ctr *[16]byte, f int) bool {
				return enc(h) && fallback.GenericCTR(region, h, dst, src, ctr, f)
			},
			cbcEnc: func(h *[64]byte, dst, src []byte, iv *[16]byte, f int) bool {
				return enc(h) && fallback.GenericCBCEncrypt(region, h, dst, src, iv, f)
			},
			cbcDec: func(h *[64]byte, dst, src []byte, iv *[16]byte, f int) bool {
				return dec(h) && fallback.GenericCBCDecrypt(region, h, dst, src, iv, f)
			},
			xts: func(h, ht *[64]byte, dst, src []byte, t *[16]byte, f int) bool {
				return xtsAllowed(h, ht, kt, f) && fallback.GenericXTS(region, h, ht, dst, src, t, f)
			},
			gcmCTR: func(h *[64]byte, dst, src []byte, j0, mask *[16]byte, f int) bool {
				return enc(h) && fallback.GenericGCMCTR(region, h, dst, src, j0, mask, f)
			},
			newGHASH: func(h *[16]byte) ghasher { return genericGHASH{fallback.NewGHASH(h)} },
		},
		impl: Generic,
		encodeKey: func(key []byte, r uint32, h *[64]byte) {
			kt = handle.KeyType(len(key))
			fallback.GenericEncodeKey(region, key, r, h)
		},
		encrypt: func(h *[64]byte, dst, src []byte) bool {
			return handle.Check(h[:], kt, true) == nil && fallback.GenericEncrypt(region, h, dst, src)
		},
		decrypt: func(h *[64]byte, dst, src []byte) bool {
			return handle.Check(h[:], kt, false) == nil && fallback.GenericDecrypt(region, h, dst, src)
		},
	}
}

// xtsAllowed applies the handle rules to an XTS kernel call: the data
// handle in the kernel's direction, the tweak handle (if any) for
// encryption.
func xtsAllowed(h, ht *[64]byte, kt, flags int) bool {
	if handle.Check(h[:], kt, flags&modeDecrypt == 0) != nil {
		return false
	}
	return ht == nil || handle.Check(ht[:], kt, true) == nil
}

type genericGHASH struct{ g *fallback.GHASH }

func (g genericGHASH) update(acc *[16]byte, data []byte) { g.g.Update(acc, data) }
