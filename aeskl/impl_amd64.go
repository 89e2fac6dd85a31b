//go:build amd64 && !purego

package aeskl

import (
	"github.com/go-keylocker/keylocker/internal/asm"
)

const hasAsm = true

func buildDesc() string { return "amd64" }

// klBackend runs the Key Locker instructions. The CPU enforces the handle's
// restrictions and key type; ZF is checked after every instruction.
func klBackend(keyLen int, wide bool) backend {
	b := backend{impl: KeyLocker}
	b.k = kernels{
		ctr:      asm.KLCTR,
		cbcEnc:   asm.KLCBCEncrypt,
		cbcDec:   asm.KLCBCDecrypt,
		xts:      asm.KLXTS,
		gcmCTR:   asm.KLGCMCTR,
		newGHASH: newAsmGHASH,
	}
	if wide {
		b.impl = KeyLockerWide
		b.k.flags |= modeWide
	}
	if keyLen == 32 {
		b.k.flags |= modeKey256
	}
	if keyLen == 16 {
		b.encodeKey = func(key []byte, r uint32, h *[64]byte) {
			asm.EncodeKey128((*[16]byte)(key), r, h)
		}
		b.encrypt, b.decrypt = asm.EncryptKL128, asm.DecryptKL128
		if wide {
			b.encrypt, b.decrypt = asm.EncryptKLWide128, asm.DecryptKLWide128
		}
		return b
	}
	b.encodeKey = func(key []byte, r uint32, h *[64]byte) {
		asm.EncodeKey256((*[32]byte)(key), r, h)
	}
	b.encrypt, b.decrypt = asm.EncryptKL256, asm.DecryptKL256
	if wide {
		b.encrypt, b.decrypt = asm.EncryptKLWide256, asm.DecryptKLWide256
	}
	return b
}

// sealedBackend runs the sealed AES-NI / VAES assembly on the given bulk
// path. The assembly unwraps the handle in registers and applies every
// handle rule itself (reserved bits, key type, restrictions, tag).
func sealedBackend(region *[4096]byte, path int) backend {
	return backend{
		impl:       AESNISealed,
		sealedPath: path,
		encodeKey: func(key []byte, r uint32, h *[64]byte) {
			asm.SealedEncodeKey(region, &key[0], len(key), r, h)
		},
		encrypt: func(h *[64]byte, dst, src []byte) bool {
			return asm.SealedEncrypt(region, h, dst, src, path)
		},
		decrypt: func(h *[64]byte, dst, src []byte) bool {
			return asm.SealedDecrypt(region, h, dst, src, path)
		},
		k: kernels{
			ctr: func(h *[64]byte, dst, src []byte, ctr *[16]byte, f int) bool {
				return asm.SealedCTR(region, h, dst, src, ctr, f, path)
			},
			cbcEnc: func(h *[64]byte, dst, src []byte, iv *[16]byte, f int) bool {
				return asm.SealedCBCEncrypt(region, h, dst, src, iv, f, path)
			},
			cbcDec: func(h *[64]byte, dst, src []byte, iv *[16]byte, f int) bool {
				return asm.SealedCBCDecrypt(region, h, dst, src, iv, f, path)
			},
			xts: func(h, ht *[64]byte, dst, src []byte, t *[16]byte, f int) bool {
				return asm.SealedXTS(region, h, ht, dst, src, t, f, path)
			},
			gcmCTR: func(h *[64]byte, dst, src []byte, j0, mask *[16]byte, f int) bool {
				return asm.SealedGCMCTR(region, h, dst, src, j0, mask, f, path)
			},
			newGHASH: newAsmGHASH,
		},
	}
}

// asmGHASH is the PCLMULQDQ / VPCLMULQDQ GHASH shared by the amd64
// implementations.
type asmGHASH struct{ t asm.GHASHTable }

func newAsmGHASH(h *[16]byte) ghasher {
	g := new(asmGHASH)
	s := detect()
	asm.GHASHInit(h, &g.t, s.VPCLMULQDQ && (s.AVX512 || s.AVX2))
	return g
}

func (g *asmGHASH) update(acc *[16]byte, data []byte) { asm.GHASHUpdate(&g.t, acc, data) }
