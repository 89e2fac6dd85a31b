//go:build amd64 && !purego

package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"

	"github.com/go-keylocker/keylocker/internal/asm/ghash"
	"github.com/go-keylocker/keylocker/internal/kernel"

	"golang.org/x/crypto/xts"
	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/asm"
)

// ghashWidestPath is the widest GHASH path (as a sealed path value) this
// CPU runs: zmm with AVX512F/BW/VL and VPCLMULQDQ, ymm with AVX2 and
// VPCLMULQDQ (CPUID.(EAX=7,ECX=0):ECX[10], which x/sys/cpu reports only
// with AVX-512), else xmm.
func ghashWidestPath() int {
	if !cpu.X86.HasPCLMULQDQ || !cpu.X86.HasSSSE3 {
		return PathAESNI
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VPCLMULQDQ {
		return PathVAES512
	}
	if cpu.X86.HasAVX2 {
		if maxLeaf, _, _, _ := asm.CPUID(0, 0); maxLeaf >= 7 {
			if _, _, ecx7, _ := asm.CPUID(7, 0); ecx7>>10&1 != 0 {
				return PathVAES256
			}
		}
	}
	return PathAESNI
}

// Benchmarks of the sealed mode kernels next to crypto/aes (and
// x/crypto/xts) in the same run:
//
//	go test -run '^$' -bench SealedModes ./internal/asm/sealed/
//
// Every sealed call unwraps the handle(s), checks the tag(s) and expands
// the key schedule(s); the baselines keep their expanded keys in memory.

func smBenchPaths(b *testing.B, size int, run func(b *testing.B, path int)) {
	for _, path := range sealedPaths() {
		b.Run(sealedPathNames[path], func(b *testing.B) {
			b.SetBytes(int64(size))
			run(b, path)
		})
	}
}

func BenchmarkSealedModesXTS4K(b *testing.B) {
	const size = 4096
	region, _ := sealedRegion(b, nil)
	src := sealedRand(size)
	dst := make([]byte, size)
	for _, n := range []int{16, 32} {
		_, _, h, ht := smKeys(b, region, n)
		key := sealedRand(2 * n)
		b.Run(fmt.Sprintf("AES-%d/enc", 8*n), func(b *testing.B) {
			smBenchPaths(b, size, func(b *testing.B, path int) {
				var tw [16]byte
				for b.Loop() {
					SealedXTS(region, h, ht, dst, src, &tw, 0, path)
				}
			})
		})
		// The tweak already encrypted: one handle to unwrap.
		b.Run(fmt.Sprintf("AES-%d/enc-plain-tweak", 8*n), func(b *testing.B) {
			smBenchPaths(b, size, func(b *testing.B, path int) {
				var tw [16]byte
				for b.Loop() {
					SealedXTS(region, h, nil, dst, src, &tw, 0, path)
				}
			})
		})
		b.Run(fmt.Sprintf("AES-%d/dec", 8*n), func(b *testing.B) {
			smBenchPaths(b, size, func(b *testing.B, path int) {
				var tw [16]byte
				for b.Loop() {
					SealedXTS(region, h, ht, dst, src, &tw, kernel.ModeDecrypt, path)
				}
			})
		})
		xc, _ := xts.NewCipher(aes.NewCipher, key)
		b.Run(fmt.Sprintf("AES-%d/xcrypto-xts-enc", 8*n), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				xc.Encrypt(dst, src, 7)
			}
		})
		c, _ := aes.NewCipher(key[:n])
		iv := make([]byte, 16)
		b.Run(fmt.Sprintf("AES-%d/cryptoaes-ctr", 8*n), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				cipher.NewCTR(c, iv).XORKeyStream(dst, src)
			}
		})
	}
}

func BenchmarkSealedModesCTR8K(b *testing.B) {
	const size = 8192
	region, _ := sealedRegion(b, nil)
	src := sealedRand(size)
	dst := make([]byte, size)
	for _, n := range []int{16, 32} {
		key := sealedRand(n)
		h := sealedWrap(b, region, key, 0)
		b.Run(fmt.Sprintf("AES-%d/sealed", 8*n), func(b *testing.B) {
			smBenchPaths(b, size, func(b *testing.B, path int) {
				var ctr [16]byte
				for b.Loop() {
					SealedCTR(region, h, dst, src, &ctr, 0, path)
				}
			})
		})
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

func BenchmarkSealedModesCBC8K(b *testing.B) {
	const size = 8192
	region, _ := sealedRegion(b, nil)
	src := sealedRand(size)
	dst := make([]byte, size)
	for _, n := range []int{16, 32} {
		key := sealedRand(n)
		h := sealedWrap(b, region, key, 0)
		b.Run(fmt.Sprintf("AES-%d/sealed-enc", 8*n), func(b *testing.B) {
			smBenchPaths(b, size, func(b *testing.B, path int) {
				var iv [16]byte
				for b.Loop() {
					SealedCBCEncrypt(region, h, dst, src, &iv, 0, path)
				}
			})
		})
		b.Run(fmt.Sprintf("AES-%d/sealed-dec", 8*n), func(b *testing.B) {
			smBenchPaths(b, size, func(b *testing.B, path int) {
				var iv [16]byte
				for b.Loop() {
					SealedCBCDecrypt(region, h, dst, src, &iv, 0, path)
				}
			})
		})
		c, _ := aes.NewCipher(key)
		iv := make([]byte, 16)
		b.Run(fmt.Sprintf("AES-%d/cryptoaes-cbc-enc", 8*n), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				cipher.NewCBCEncrypter(c, iv).CryptBlocks(dst, src)
			}
		})
		b.Run(fmt.Sprintf("AES-%d/cryptoaes-cbc-dec", 8*n), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				cipher.NewCBCDecrypter(c, iv).CryptBlocks(dst, src)
			}
		})
	}
}

// BenchmarkSealedModesGCM: GCMCTR alone, GHASHUpdate alone, GCMCTR
// followed by GHASHUpdate over the ciphertext and the length block (an
// estimate of a two-pass sealed AES-GCM seal without the Go layer), the
// fused kernel (SealedGCM, zmm only) with the length block, and crypto/aes
// GCM Seal.
func BenchmarkSealedModesGCM(b *testing.B) {
	region, _ := sealedRegion(b, nil)
	for _, size := range []int{8192, 256, 64} {
		key := sealedRand(16)
		h := sealedWrap(b, region, key, 0)
		src := sealedRand(size)
		dst := make([]byte, size+16)
		var hk [16]byte
		copy(hk[:], sealedRand(16))
		var tab ghash.GHASHTable
		ghash.GHASHInit(&hk, &tab, ghashWidestPath())
		b.Run(fmt.Sprintf("%d/gcmctr", size), func(b *testing.B) {
			smBenchPaths(b, size, func(b *testing.B, path int) {
				var j0, mask [16]byte
				for b.Loop() {
					SealedGCMCTR(region, h, dst, src, &j0, &mask, 0, path)
				}
			})
		})
		b.Run(fmt.Sprintf("%d/ghash", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			var acc [16]byte
			for b.Loop() {
				ghash.GHASHUpdate(&tab, &acc, src)
			}
		})
		b.Run(fmt.Sprintf("%d/gcmctr+ghash", size), func(b *testing.B) {
			smBenchPaths(b, size, func(b *testing.B, path int) {
				var j0, mask, acc, lens [16]byte
				for b.Loop() {
					SealedGCMCTR(region, h, dst[:size], src, &j0, &mask, 0, path)
					ghash.GHASHUpdate(&tab, &acc, dst[:size])
					ghash.GHASHUpdate(&tab, &acc, lens[:])
				}
			})
		})
		if ghashWidestPath() == PathVAES512 {
			var zt ghash.GHASHTable
			ghash.GHASHInit(&hk, &zt, PathVAES512)
			b.Run(fmt.Sprintf("%d/fused/vaes-zmm", size), func(b *testing.B) {
				b.SetBytes(int64(size))
				var j0, mask, acc, lens [16]byte
				for b.Loop() {
					SealedGCM(region, h, dst[:size], src, &j0, &mask, &zt, &acc, &lens, 0, PathVAES512)
				}
			})
		}
		c, _ := aes.NewCipher(key)
		g, _ := cipher.NewGCM(c)
		nonce := make([]byte, 12)
		b.Run(fmt.Sprintf("%d/cryptoaes-gcm-seal", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				g.Seal(dst[:0], nonce, src, nil)
			}
		})
	}
}

// BenchmarkSealedModesXTSSectors64K is SealedXTSSectors over 64 KiB of
// sectors of each size with the tweaks already encrypted (what aeskl adds
// per group of sectors is one ECB call under the tweak handle):
//
//	go test -run '^$' -bench SealedModesXTSSectors ./internal/asm/sealed/
func BenchmarkSealedModesXTSSectors64K(b *testing.B) {
	const size = 64 << 10
	region, _ := sealedRegion(b, nil)
	src := sealedRand(size)
	dst := make([]byte, size)
	tweaks := sealedRand(16 * (size / 512)) // 16 bytes per sector
	for _, n := range []int{16, 32} {
		_, _, h, _ := smKeys(b, region, n)
		for _, sector := range []int{512, 1024, 2048, 4096} {
			for _, dir := range []struct {
				name  string
				flags int
			}{{"enc", 0}, {"dec", kernel.ModeDecrypt}} {
				b.Run(fmt.Sprintf("AES-%d/%d/%s", 8*n, sector, dir.name), func(b *testing.B) {
					smBenchPaths(b, size, func(b *testing.B, path int) {
						for b.Loop() {
							SealedXTSSectors(region, h, dst, src, &tweaks[0], sector, dir.flags, path)
						}
					})
				})
			}
		}
	}
}
