//go:build amd64 && !purego

package sealed

import (
	"fmt"
	"testing"

	"github.com/go-keylocker/keylocker/internal/kernel"
)

// BenchmarkSealedFixed: the fixed cost of a call (the prologue's unwrap,
// tag check and expansion, the epilogue's clearing) with no or one block
// of work, per kernel, key size and path.
func BenchmarkSealedFixed(b *testing.B) {
	region, _ := sealedRegion(b, nil)
	src := sealedRand(16)
	dst := make([]byte, 16)
	for _, n := range sealedKeySizes {
		_, _, h, ht := smKeys(b, region, n)
		for _, path := range sealedPaths() {
			name := func(s string) string { return fmt.Sprintf("AES-%d/%s/%s", 8*n, s, sealedPathNames[path]) }
			b.Run(name("ECB-enc-16"), func(b *testing.B) {
				for b.Loop() {
					SealedEncrypt(region, h, dst, src, path)
				}
			})
			b.Run(name("ECB-dec-16"), func(b *testing.B) {
				for b.Loop() {
					SealedDecrypt(region, h, dst, src, path)
				}
			})
			var ctr [16]byte
			b.Run(name("CTR-0"), func(b *testing.B) {
				for b.Loop() {
					SealedCTR(region, h, dst[:0], src[:0], &ctr, 0, path)
				}
			})
			b.Run(name("CTR-16"), func(b *testing.B) {
				for b.Loop() {
					SealedCTR(region, h, dst, src, &ctr, 0, path)
				}
			})
			var tw [16]byte
			b.Run(name("XTS-enc-16"), func(b *testing.B) {
				for b.Loop() {
					SealedXTS(region, h, ht, dst, src, &tw, 0, path)
				}
			})
			b.Run(name("XTS-dec-16"), func(b *testing.B) {
				for b.Loop() {
					SealedXTS(region, h, ht, dst, src, &tw, kernel.ModeDecrypt, path)
				}
			})
			b.Run(name("XTS-plain-16"), func(b *testing.B) {
				for b.Loop() {
					SealedXTS(region, h, nil, dst, src, &tw, 0, path)
				}
			})
		}
	}
}
