package bench

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"

	"github.com/go-keylocker/keylocker/aeskl"
	"golang.org/x/crypto/xts"
)

// blockFor returns the Block to benchmark: crypto/aes or aeskl on impl.
func blockFor(b *testing.B, key []byte, impl aeskl.Implementation) cipher.Block {
	if impl == 0 {
		c, _ := aes.NewCipher(key)
		return c
	}
	c, err := aeskl.New(key, aeskl.WithImplementation(impl))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func name(impl aeskl.Implementation) string {
	if impl == 0 {
		return "crypto-aes"
	}
	return impl.String()
}

func withStd(b *testing.B, keyLen int) []aeskl.Implementation {
	return append([]aeskl.Implementation{0}, impls(b, keyLen)...)
}

func BenchmarkCTR(b *testing.B) {
	for _, size := range []int{4 << 10, 8 << 10} {
		for _, n := range sizes {
			buf, iv := make([]byte, size), make([]byte, 16)
			for _, i := range withStd(b, n) {
				b.Run(fmt.Sprintf("%dK/AES-%d/%s", size>>10, 8*n, name(i)), func(b *testing.B) {
					s := cipher.NewCTR(blockFor(b, make([]byte, n), i), iv)
					b.SetBytes(int64(size))
					for b.Loop() {
						s.XORKeyStream(buf, buf)
					}
				})
			}
		}
	}
}

func BenchmarkCBC(b *testing.B) {
	const size = 8 << 10
	for _, n := range sizes {
		buf, iv := make([]byte, size), make([]byte, 16)
		for _, i := range withStd(b, n) {
			for _, dir := range []string{"encrypt", "decrypt"} {
				b.Run(fmt.Sprintf("8K/AES-%d/%s/%s", 8*n, name(i), dir), func(b *testing.B) {
					blk := blockFor(b, make([]byte, n), i)
					m := cipher.NewCBCEncrypter(blk, iv)
					if dir == "decrypt" {
						m = cipher.NewCBCDecrypter(blk, iv)
					}
					b.SetBytes(size)
					for b.Loop() {
						m.CryptBlocks(buf, buf)
					}
				})
			}
		}
	}
}

func BenchmarkGCM(b *testing.B) {
	for _, size := range []int{64, 8 << 10} {
		for _, n := range sizes {
			pt, nonce := make([]byte, size), make([]byte, 12)
			ad := make([]byte, 13)
			for _, i := range withStd(b, n) {
				b.Run(fmt.Sprintf("%d/AES-%d/%s/seal", size, 8*n, name(i)), func(b *testing.B) {
					g, _ := cipher.NewGCM(blockFor(b, make([]byte, n), i))
					out := make([]byte, 0, size+16)
					b.SetBytes(int64(size))
					for b.Loop() {
						out = g.Seal(out[:0], nonce, pt, ad)
					}
				})
				b.Run(fmt.Sprintf("%d/AES-%d/%s/open", size, 8*n, name(i)), func(b *testing.B) {
					g, _ := cipher.NewGCM(blockFor(b, make([]byte, n), i))
					ct := g.Seal(nil, nonce, pt, ad)
					out := make([]byte, 0, size)
					b.SetBytes(int64(size))
					for b.Loop() {
						var err error
						if out, err = g.Open(out[:0], nonce, ct, ad); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkXTS4K is one 4 KiB sector: x/crypto/xts over crypto/aes (one
// Block call per 16 bytes) and over aeskl.NewCipher, and aeskl.NewXTS.
func BenchmarkXTS4K(b *testing.B) {
	const size = 4 << 10
	for _, n := range sizes {
		buf := make([]byte, size)
		key := make([]byte, 2*n)
		key[n] = 1
		b.Run(fmt.Sprintf("AES-%d/x-crypto-xts+crypto-aes", 8*n), func(b *testing.B) {
			x, _ := xts.NewCipher(aes.NewCipher, key)
			b.SetBytes(size)
			for b.Loop() {
				x.Encrypt(buf, buf, 42)
			}
		})
		for _, i := range impls(b, n) {
			b.Run(fmt.Sprintf("AES-%d/%v/encrypt", 8*n, i), func(b *testing.B) {
				x, err := aeskl.NewXTS(key, aeskl.WithImplementation(i))
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(size)
				for b.Loop() {
					if err := x.Encrypt(buf, buf, 42); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("AES-%d/%v/decrypt", 8*n, i), func(b *testing.B) {
				x, err := aeskl.NewXTS(key, aeskl.WithImplementation(i))
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(size)
				for b.Loop() {
					if err := x.Decrypt(buf, buf, 42); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkXTSSectors is 64 KiB of consecutive sectors in one
// EncryptSectors call (what a disk tool does), 512- and 4096-byte sectors,
// against x/crypto/xts over crypto/aes sector by sector.
func BenchmarkXTSSectors(b *testing.B) {
	const size = 64 << 10
	for _, n := range sizes {
		buf := make([]byte, size)
		key := make([]byte, 2*n)
		key[n] = 1
		for _, sector := range []int{512, 4096} {
			b.Run(fmt.Sprintf("64K/%d/AES-%d/x-crypto-xts+crypto-aes", sector, 8*n), func(b *testing.B) {
				x, _ := xts.NewCipher(aes.NewCipher, key)
				b.SetBytes(size)
				for b.Loop() {
					for off := 0; off < size; off += sector {
						x.Encrypt(buf[off:off+sector], buf[off:off+sector], uint64(off/sector))
					}
				}
			})
			for _, i := range impls(b, n) {
				b.Run(fmt.Sprintf("64K/%d/AES-%d/%v", sector, 8*n, i), func(b *testing.B) {
					x, err := aeskl.NewXTS(key, aeskl.WithImplementation(i))
					if err != nil {
						b.Fatal(err)
					}
					b.SetBytes(size)
					for b.Loop() {
						if err := x.EncryptSectors(buf, buf, 0, sector); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
