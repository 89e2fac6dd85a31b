package disk_test

import (
	"bytes"
	"crypto/aes"
	"fmt"
	"testing"

	"github.com/go-keylocker/keylocker/aeskl/disk"
	"golang.org/x/crypto/xts"
)

// memWriterAt is an in-memory io.WriterAt.
type memWriterAt []byte

func (m memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m)) {
		return 0, fmt.Errorf("write of %d bytes at %d beyond %d", len(p), off, len(m))
	}
	return copy(m[off:], p), nil
}

// xxts is golang.org/x/crypto/xts with crypto/aes as a disk.SectorCipher:
// the reference, and the baseline of the benchmarks.
type xxts struct{ c *xts.Cipher }

func newXXTS(tb testing.TB, key []byte) xxts {
	c, err := xts.NewCipher(aes.NewCipher, key)
	if err != nil {
		tb.Fatal(err)
	}
	return xxts{c}
}

func (x xxts) CryptSectors(dst, src []byte, iv, step uint64, size int, dec bool) error {
	for off := 0; off < len(src); off += size {
		if dec {
			x.c.Decrypt(dst[off:off+size], src[off:off+size], iv)
		} else {
			x.c.Encrypt(dst[off:off+size], src[off:off+size], iv)
		}
		iv += step
	}
	return nil
}

// BenchmarkPlainDecrypt is the engine of aeskl plain decrypt decrypting a
// 64 MiB image of AES-256-XTS sectors of 512 and 4096 bytes (dm-crypt's
// plain64 IVs in 512-byte units, and with --iv-large-sectors), on all
// cores, with the key as aeskl handles and, in the same run, with
// golang.org/x/crypto/xts over crypto/aes in the same engine
// (x-crypto-xts). "io" is Transformer.CryptAt as the command runs it, from
// an io.ReaderAt to an io.WriterAt (here in memory: two copies of every
// byte, as pread and pwrite make); "memory" is Transformer.Crypt from one
// buffer to another, without the copies.
func BenchmarkPlainDecrypt(b *testing.B) {
	const size = 64 << 20
	key := make([]byte, 64)
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	img := make([]byte, size)
	src := bytes.NewReader(img)
	dst := make(memWriterAt, size)
	for _, l := range []disk.Layout{
		{SectorSize: 512},
		{SectorSize: 4096},
		{SectorSize: 4096, IVLargeSectors: true},
	} {
		name := fmt.Sprint(l.SectorSize)
		if l.IVLargeSectors {
			name += "-large"
		}
		c, err := disk.NewCipher("aes-xts-plain64", key)
		if err != nil {
			b.Fatal(err)
		}
		ciphers := []struct {
			name string
			c    disk.SectorCipher
		}{{"aeskl-" + c.Implementation().String(), c}, {"x-crypto-xts", newXXTS(b, key)}}
		for _, mode := range []string{"io", "memory"} {
			for _, ci := range ciphers {
				b.Run(name+"/"+mode+"/"+ci.name, func(b *testing.B) {
					t := &disk.Transformer{Cipher: ci.c, Layout: l, Decrypt: true}
					b.SetBytes(size)
					for b.Loop() {
						var err error
						if mode == "io" {
							_, err = t.CryptAt(dst, 0, src, 0, 0, size)
						} else {
							err = t.Crypt(dst, img, 0)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
		c.Close()
	}
}
