//go:build amd64 && !purego

package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"
)

// Benchmarks of the sealed routines next to crypto/aes in the same run:
//
//	go test -run '^$' -bench Sealed ./internal/asm/sealed/
//
// Every sealed call unwraps the handle, checks its tag and expands the key
// schedule: that is the price of not keeping round keys in memory.

var sealedKeySizes = []int{16, 24, 32}

func BenchmarkSealedBlock(b *testing.B) {
	region, _ := sealedRegion(b, nil)
	for _, n := range sealedKeySizes {
		key := sealedRand(n)
		h := sealedWrap(b, region, key, 0)
		src := sealedRand(16)
		dst := make([]byte, 16)
		b.Run(fmt.Sprintf("AES-%d/sealed-enc", 8*n), func(b *testing.B) {
			b.SetBytes(16)
			for b.Loop() {
				SealedEncrypt(region, h, dst, src, PathAESNI)
			}
		})
		b.Run(fmt.Sprintf("AES-%d/sealed-dec", 8*n), func(b *testing.B) {
			b.SetBytes(16)
			for b.Loop() {
				SealedDecrypt(region, h, dst, src, PathAESNI)
			}
		})
		c, _ := aes.NewCipher(key)
		b.Run(fmt.Sprintf("AES-%d/cryptoaes-enc", 8*n), func(b *testing.B) {
			b.SetBytes(16)
			for b.Loop() {
				c.Encrypt(dst, src)
			}
		})
		b.Run(fmt.Sprintf("AES-%d/cryptoaes-dec", 8*n), func(b *testing.B) {
			b.SetBytes(16)
			for b.Loop() {
				c.Decrypt(dst, src)
			}
		})
	}
}

func BenchmarkSealedECB64K(b *testing.B) {
	const size = 64 << 10
	region, _ := sealedRegion(b, nil)
	src := sealedRand(size)
	dst := make([]byte, size)
	for _, n := range sealedKeySizes {
		key := sealedRand(n)
		h := sealedWrap(b, region, key, 0)
		for _, path := range sealedPaths() {
			b.Run(fmt.Sprintf("AES-%d/%s-enc", 8*n, sealedPathNames[path]), func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					SealedEncrypt(region, h, dst, src, path)
				}
			})
			b.Run(fmt.Sprintf("AES-%d/%s-dec", 8*n, sealedPathNames[path]), func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					SealedDecrypt(region, h, dst, src, path)
				}
			})
		}
		c, _ := aes.NewCipher(key)
		iv := make([]byte, 16)
		b.Run(fmt.Sprintf("AES-%d/cryptoaes-ctr", 8*n), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				cipher.NewCTR(c, iv).XORKeyStream(dst, src)
			}
		})
	}
}

func BenchmarkSealedEncodeKey(b *testing.B) {
	region, _ := sealedRegion(b, nil)
	for _, n := range sealedKeySizes {
		key := sealedRand(n)
		var h Handle
		b.Run(fmt.Sprintf("AES-%d", 8*n), func(b *testing.B) {
			for b.Loop() {
				SealedEncodeKey(region, &key[0], n, 0, &h)
			}
		})
	}
}

// BenchmarkSealedSmall: short messages, where the per-call unwrap, tag check
// and key expansion and the tails of each path dominate.
func BenchmarkSealedSmall(b *testing.B) {
	region, _ := sealedRegion(b, nil)
	key := sealedRand(16)
	h := sealedWrap(b, region, key, 0)
	c, _ := aes.NewCipher(key)
	for _, size := range []int{64, 112, 256, 1024} {
		src := sealedRand(size)
		dst := make([]byte, size)
		for _, path := range sealedPaths() {
			b.Run(fmt.Sprintf("AES-128/%d/%s-enc", size, sealedPathNames[path]), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					SealedEncrypt(region, h, dst, src, path)
				}
			})
		}
		b.Run(fmt.Sprintf("AES-128/%d/cryptoaes-blocks", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				for i := 0; i < size; i += 16 {
					c.Encrypt(dst[i:], src[i:])
				}
			}
		})
	}
}
