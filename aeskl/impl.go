package aeskl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/fallback"
	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// This file is the one place that chooses an implementation. The
// platform files (impl_amd64.go, impl_other.go) only construct backends.

// backend is an implementation bound to one key size. Every operation
// dispatches on it with a switch (impl_amd64.go, impl_other.go), not through
// function values, so that the buffers and counters handed to the
// assembly stay on the caller's stack.
type backend struct {
	impl   Implementation
	flags  int              // mode kernel flags: modeKey256 | modeWide (Key Locker)
	region *fallback.Region // the software wrapping key (aesni-sealed, generic)
	path   int              // the aesni-sealed bulk path
}

// Sealed bulk paths (internal/kernel).
const (
	sealedAESNI   = kernel.PathAESNI
	sealedVAES256 = kernel.PathVAES256
	sealedVAES512 = kernel.PathVAES512
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
		if !s.AESNI || !s.PCLMULQDQ || !s.SSSE3 || !s.SSE41 {
			return "aesni-sealed needs AES-NI, PCLMULQDQ, SSSE3 and SSE4.1"
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
	b := backend{impl: impl}
	switch impl {
	case KeyLockerWide, KeyLocker:
		if keyLen == 32 {
			b.flags |= modeKey256
		}
		if impl == KeyLockerWide {
			b.flags |= modeWide
		}
		return b, nil
	case AESNISealed:
		b.path = cfg.sealedPath
		if b.path < 0 {
			b.path = s.sealedPath()
		}
	}
	var err error
	if b.region, err = fallback.WrapKey(); err != nil {
		return backend{}, err
	}
	return b, nil
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
// The VAES paths compute XTS tweaks with VPCLMULQDQ; the zmm path also
// uses EVEX xmm instructions (AVX-512VL, part of s.AVX512).
func (s *Support) sealedPath() int {
	switch {
	case s.VAES && s.VPCLMULQDQ && s.AVX512:
		return sealedVAES512
	case s.VAES && s.VPCLMULQDQ && s.AVX2:
		return sealedVAES256
	}
	return sealedAESNI
}

// The generic implementation (internal/fallback) applies the handle's
// metadata rules, unwraps and checks the tag itself, as the CPU does for
// Key Locker and the assembly for aesni-sealed.

// genericEncodeRandom: a key from crypto/rand in a fallback.Scratch (see
// NewRandom).
func genericEncodeRandom(region *fallback.Region, keyLen int, r uint32, ent *[32]byte, h *handle.Handle) error {
	err := fallback.GenericEncodeRandom(region, keyLen, r, ent, h)
	if errors.Is(err, fallback.ErrRandom) {
		return ErrRandomSource
	}
	return err
}

// The generic implementation reads handles in Go: it works on copies that
// genericCopy makes with atomic loads (a Cipher's words may be being wiped
// by Close) and that are cleared when it returns.

func (b *backend) genericEncrypt(h *handle.Handle, dst, src []byte) bool {
	var c handle.Handle
	defer clear(c[:])
	return fallback.GenericEncrypt(b.region, genericCopy(&c, h), dst, src)
}

func (b *backend) genericDecrypt(h *handle.Handle, dst, src []byte) bool {
	var c handle.Handle
	defer clear(c[:])
	return fallback.GenericDecrypt(b.region, genericCopy(&c, h), dst, src)
}

func (b *backend) genericCTR(h *handle.Handle, dst, src []byte, ctr *[16]byte, f int) bool {
	var c handle.Handle
	defer clear(c[:])
	return fallback.GenericCTR(b.region, genericCopy(&c, h), dst, src, ctr, f)
}

func (b *backend) genericCBCEncrypt(h *handle.Handle, dst, src []byte, iv *[16]byte, f int) bool {
	var c handle.Handle
	defer clear(c[:])
	return fallback.GenericCBCEncrypt(b.region, genericCopy(&c, h), dst, src, iv, f)
}

func (b *backend) genericCBCDecrypt(h *handle.Handle, dst, src []byte, iv *[16]byte, f int) bool {
	var c handle.Handle
	defer clear(c[:])
	return fallback.GenericCBCDecrypt(b.region, genericCopy(&c, h), dst, src, iv, f)
}

func (b *backend) genericXTS(h, ht *handle.Handle, dst, src []byte, t *[16]byte, f int) bool {
	var c, ct handle.Handle
	defer clear(c[:])
	defer clear(ct[:])
	return fallback.GenericXTS(b.region, genericCopy(&c, h), genericCopy(&ct, ht), dst, src, t, f)
}

func (b *backend) genericXTSSectors(h, ht *handle.Handle, dst, src []byte, first, stride uint64, size, f int) bool {
	var c, ct handle.Handle
	defer clear(c[:])
	defer clear(ct[:])
	return fallback.GenericXTSSectors(b.region, genericCopy(&c, h), genericCopy(&ct, ht), dst, src, first, stride, size, f)
}

func (b *backend) genericGCMCTR(h *handle.Handle, dst, src []byte, j0, mask *[16]byte, f int) bool {
	var c handle.Handle
	defer clear(c[:])
	return fallback.GenericGCMCTR(b.region, genericCopy(&c, h), dst, src, j0, mask, f)
}

// genericCopy copies *h into *c and returns c (nil for a nil h): with
// atomic loads where h is 8-byte aligned, as a Cipher's words are.
func genericCopy(c, h *handle.Handle) *handle.Handle {
	if h == nil {
		return nil
	}
	p := unsafe.Pointer(h)
	if uintptr(p)%8 != 0 {
		*c = *h
		return c
	}
	w := (*[handle.Size256 / 8]uint64)(p)
	for i := range w {
		binary.NativeEndian.PutUint64(c[8*i:], atomic.LoadUint64(&w[i]))
	}
	return c
}
