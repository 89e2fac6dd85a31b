//go:build amd64 && !purego

package sealed

import (
	"bytes"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
)

// TestSealedEncodeRandom: a handle the reference unwraps, with the key
// type and restrictions asked for, a different key each time, and, with no
// source allowed, false with h untouched.
func TestSealedEncodeRandom(t *testing.T) {
	sealedRequireAESNI(t)
	src := kerneltest.HostRandSources()
	if src == 0 {
		t.Skip("this CPU has neither RDSEED nor RDRAND")
	}
	region, iw := sealedRegion(t, nil)
	var zero [32]byte
	for _, n := range []int{16, 24, 32} {
		seen := map[string]bool{}
		for i := 0; i < 4; i++ {
			var g struct {
				h     Handle
				guard [32]byte
			}
			sentinel := [32]byte(bytes.Repeat([]byte{sealedSentinel}, 32))
			g.guard = sentinel
			h := &g.h
			if !SealedEncodeRandom(region, n, handle.NoDecrypt, &zero, src, h) {
				t.Fatalf("AES-%d: the random source failed", 8*n)
			}
			if g.guard != sentinel {
				t.Fatalf("AES-%d: written past the handle", 8*n)
			}
			key, r, kt, err := handle.Unwrap(iw, h[:handle.SizeForKeyType(handle.KeyType(n))])
			if err != nil || len(key) != n || r != handle.NoDecrypt || kt != handle.KeyType(n) {
				t.Fatalf("AES-%d: unwrap: %d-byte key, restrictions %d, key type %d, %v", 8*n, len(key), r, kt, err)
			}
			if n == 16 && !bytes.Equal(h[48:], make([]byte, 16)) {
				t.Fatalf("AES-128: h[48:64] = %x", h[48:])
			}
			if seen[string(key)] {
				t.Fatalf("AES-%d: the same key twice", 8*n)
			}
			seen[string(key)] = true
		}
		h := Handle{1, 2, 3}
		if SealedEncodeRandom(region, n, 0, &zero, 0, &h) || h != (Handle{1, 2, 3}) {
			t.Errorf("AES-%d: with no source allowed: true or h written", 8*n)
		}
	}
}
