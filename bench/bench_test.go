package bench

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"os"
	"testing"

	"github.com/go-keylocker/keylocker/aeskl"
)

// impls returns the implementations that can run here, as sub-benchmark
// names with their options.
func impls(b *testing.B, keyLen int) []aeskl.Implementation {
	var out []aeskl.Implementation
	for _, i := range aeskl.Implementations {
		if (i == aeskl.KeyLocker || i == aeskl.KeyLockerWide) && os.Getenv("KLEMU_ACTIVE") != "" {
			continue // would measure the emulator
		}
		if _, err := aeskl.New(make([]byte, keyLen), aeskl.WithImplementation(i)); err != nil {
			continue
		}
		out = append(out, i)
	}
	return out
}

var sizes = []int{16, 32}

func BenchmarkEncryptBlock(b *testing.B) {
	for _, n := range sizes {
		key := make([]byte, n)
		buf := make([]byte, 16)
		b.Run(fmt.Sprintf("AES-%d/crypto-aes", 8*n), func(b *testing.B) {
			c, _ := aes.NewCipher(key)
			b.SetBytes(16)
			for b.Loop() {
				c.Encrypt(buf, buf)
			}
		})
		for _, i := range impls(b, n) {
			b.Run(fmt.Sprintf("AES-%d/%v", 8*n, i), func(b *testing.B) {
				c, _ := aeskl.New(key, aeskl.WithImplementation(i))
				b.SetBytes(16)
				for b.Loop() {
					c.Encrypt(buf, buf)
				}
			})
		}
	}
}

// BenchmarkEncryptBlockThroughput is one-block Encrypt calls that do not
// depend on each other (64 distinct blocks per iteration), where
// BenchmarkEncryptBlock measures the latency of dependent calls.
func BenchmarkEncryptBlockThroughput(b *testing.B) {
	for _, n := range sizes {
		key := make([]byte, n)
		src, dst := make([]byte, 16*64), make([]byte, 16*64)
		run := func(b *testing.B, c cipher.Block) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				for j := 0; j < len(src); j += 16 {
					c.Encrypt(dst[j:], src[j:])
				}
			}
		}
		b.Run(fmt.Sprintf("AES-%d/crypto-aes", 8*n), func(b *testing.B) {
			c, _ := aes.NewCipher(key)
			run(b, c)
		})
		for _, i := range impls(b, n) {
			b.Run(fmt.Sprintf("AES-%d/%v", 8*n, i), func(b *testing.B) {
				c, _ := aeskl.New(key, aeskl.WithImplementation(i))
				run(b, c)
			})
		}
	}
}

// BenchmarkEncryptBlockParallel is one-block Encrypt calls on one Cipher
// shared by GOMAXPROCS goroutines (b.RunParallel): what a server or a
// parallel disk tool does with one key.
func BenchmarkEncryptBlockParallel(b *testing.B) {
	for _, n := range sizes {
		key := make([]byte, n)
		run := func(b *testing.B, c cipher.Block) {
			b.SetBytes(16)
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]byte, 16)
				for pb.Next() {
					c.Encrypt(buf, buf)
				}
			})
		}
		b.Run(fmt.Sprintf("AES-%d/crypto-aes", 8*n), func(b *testing.B) {
			c, _ := aes.NewCipher(key)
			run(b, c)
		})
		for _, i := range impls(b, n) {
			b.Run(fmt.Sprintf("AES-%d/%v", 8*n, i), func(b *testing.B) {
				c, _ := aeskl.New(key, aeskl.WithImplementation(i))
				run(b, c)
			})
		}
	}
}

func BenchmarkDecryptBlock(b *testing.B) {
	for _, n := range sizes {
		key := make([]byte, n)
		buf := make([]byte, 16)
		b.Run(fmt.Sprintf("AES-%d/crypto-aes", 8*n), func(b *testing.B) {
			c, _ := aes.NewCipher(key)
			b.SetBytes(16)
			for b.Loop() {
				c.Decrypt(buf, buf)
			}
		})
		for _, i := range impls(b, n) {
			b.Run(fmt.Sprintf("AES-%d/%v", 8*n, i), func(b *testing.B) {
				c, _ := aeskl.New(key, aeskl.WithImplementation(i))
				b.SetBytes(16)
				for b.Loop() {
					c.Decrypt(buf, buf)
				}
			})
		}
	}
}

// BenchmarkBulk64K compares EncryptBlocks (ECB) on 64 KiB with crypto/aes
// CTR on 64 KiB, crypto/aes's fastest bulk mode.
func BenchmarkBulk64K(b *testing.B) {
	const size = 64 << 10
	for _, n := range sizes {
		key := make([]byte, n)
		buf := make([]byte, size)
		b.Run(fmt.Sprintf("AES-%d/crypto-aes-ctr", 8*n), func(b *testing.B) {
			c, _ := aes.NewCipher(key)
			s := cipher.NewCTR(c, make([]byte, 16))
			b.SetBytes(size)
			for b.Loop() {
				s.XORKeyStream(buf, buf)
			}
		})
		for _, i := range impls(b, n) {
			b.Run(fmt.Sprintf("AES-%d/%v/encrypt", 8*n, i), func(b *testing.B) {
				c, _ := aeskl.New(key, aeskl.WithImplementation(i))
				b.SetBytes(size)
				for b.Loop() {
					if err := c.EncryptBlocks(buf, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("AES-%d/%v/decrypt", 8*n, i), func(b *testing.B) {
				c, _ := aeskl.New(key, aeskl.WithImplementation(i))
				b.SetBytes(size)
				for b.Loop() {
					if err := c.DecryptBlocks(buf, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkNew measures making a handle from a key.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{16, 24, 32} {
		key := make([]byte, n)
		b.Run(fmt.Sprintf("AES-%d/crypto-aes", 8*n), func(b *testing.B) {
			for b.Loop() {
				aes.NewCipher(key)
			}
		})
		for _, i := range impls(b, n) {
			b.Run(fmt.Sprintf("AES-%d/%v", 8*n, i), func(b *testing.B) {
				for b.Loop() {
					c, err := aeskl.New(key, aeskl.WithImplementation(i))
					if err != nil {
						b.Fatal(err)
					}
					c.Close()
				}
			})
		}
	}
}
