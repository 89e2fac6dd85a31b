//go:build amd64 && !purego

package kl

import (
	"bytes"
	"testing"

	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
)

// klEncodeRandom calls EncodeRandom128 or EncodeRandom256.
func klEncodeRandom(bits int, restrictions uint32, entropy *[32]byte, sources int, h *Handle) (uint32, bool) {
	if bits == 128 {
		return EncodeRandom128(restrictions, (*[16]byte)(entropy[:16]), sources, h)
	}
	return EncodeRandom256(restrictions, entropy, sources, h)
}

// TestKLEncodeRandom: EncodeRandom128/256 make handles the AES*KL
// instructions accept (and refuse in the restricted direction), with the
// IWKey policy ENCODEKEY reports, a different key each call; with no
// source allowed they return false and leave h untouched.
func TestKLEncodeRandom(t *testing.T) {
	klRequire(t, false)
	src := kerneltest.HostRandSources()
	if src == 0 {
		t.Skip("this CPU has neither RDSEED nor RDRAND")
	}
	var zero [32]byte
	var key [32]byte
	wantInfo := EncodeKey128((*[16]byte)(key[:16]), 0, new(Handle))
	block := []byte("a fixed block...")
	for _, bits := range []int{128, 256} {
		enc, dec := EncryptKL128, DecryptKL128
		if bits == 256 {
			enc, dec = EncryptKL256, DecryptKL256
		}
		seen := map[string]bool{}
		for i := 0; i < 3; i++ {
			var g struct {
				h     Handle
				guard [32]byte
			}
			h := &g.h
			g.guard = [32]byte(bytes.Repeat([]byte{klSentinel}, 32))
			info, ok := klEncodeRandom(bits, 4, &zero, src, h)
			if !ok || info != wantInfo {
				t.Fatalf("AES-%d: ok %v, info %#x (EncodeKey128 says %#x)", bits, ok, info, wantInfo)
			}
			if g.guard != [32]byte(bytes.Repeat([]byte{klSentinel}, 32)) {
				t.Fatalf("AES-%d: written past the handle: %x", bits, g.guard)
			}
			if bits == 128 && [16]byte(h[48:]) != [16]byte{} {
				t.Fatalf("AES-128: h[48:64] = %x", h[48:])
			}
			ct := make([]byte, 16)
			if !enc(h, ct, block) {
				t.Fatalf("AES-%d: the handle is refused for encryption", bits)
			}
			if dec(h, make([]byte, 16), ct) {
				t.Fatalf("AES-%d: a no-decrypt handle decrypted", bits)
			}
			if seen[string(ct)] {
				t.Fatalf("AES-%d: the same ciphertext twice: the same key", bits)
			}
			seen[string(ct)] = true
		}
		h := Handle{1, 2, 3}
		if _, ok := klEncodeRandom(bits, 0, &zero, 0, &h); ok || h != (Handle{1, 2, 3}) {
			t.Errorf("AES-%d: with no source allowed: ok or h written", bits)
		}
	}
}
