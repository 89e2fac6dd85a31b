//go:build amd64 && !purego

package aeskl

import (
	"github.com/go-keylocker/keylocker/internal/asm"
	"github.com/go-keylocker/keylocker/internal/handle"
)

const hasAsm = true

func buildDesc() string { return "amd64" }

// klBackend runs the Key Locker instructions. The CPU enforces the handle's
// restrictions and key type; ZF is checked after every instruction.
func klBackend(keyLen int, wide bool) backend {
	b := backend{impl: KeyLocker}
	if wide {
		b.impl = KeyLockerWide
	}
	if keyLen == 16 {
		b.encodeKey = func(key []byte, r uint32, h *[64]byte) (int, error) {
			asm.EncodeKey128((*[16]byte)(key), r, h)
			return handle.KeyTypeAES128, nil
		}
		b.encrypt, b.decrypt = asm.EncryptKL128, asm.DecryptKL128
		if wide {
			b.encrypt, b.decrypt = asm.EncryptKLWide128, asm.DecryptKLWide128
		}
		return b
	}
	b.encodeKey = func(key []byte, r uint32, h *[64]byte) (int, error) {
		asm.EncodeKey256((*[32]byte)(key), r, h)
		return handle.KeyTypeAES256, nil
	}
	b.encrypt, b.decrypt = asm.EncryptKL256, asm.DecryptKL256
	if wide {
		b.encrypt, b.decrypt = asm.EncryptKLWide256, asm.DecryptKLWide256
	}
	return b
}

// sealedBackend runs the sealed AES-NI / VAES assembly on the given bulk
// path. The handle's restrictions and key type are checked here, before the
// assembly unwraps it; the tag check happens in the assembly.
func sealedBackend(region *[4096]byte, path int) backend {
	var kt int
	return backend{
		impl: AESNISealed,
		encodeKey: func(key []byte, r uint32, h *[64]byte) (int, error) {
			kt = handle.KeyType(len(key))
			asm.SealedEncodeKey(region, &key[0], len(key), r, h)
			return kt, nil
		},
		encrypt: func(h *[64]byte, dst, src []byte) bool {
			return handle.Check(h[:], kt, true) == nil && asm.SealedEncrypt(region, h, dst, src, path)
		},
		decrypt: func(h *[64]byte, dst, src []byte) bool {
			return handle.Check(h[:], kt, false) == nil && asm.SealedDecrypt(region, h, dst, src, path)
		},
	}
}
