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

// BenchmarkPlainDecrypt is the engine of aeskl plain decrypt (Transformer.CryptAt
// from an io.ReaderAt to an io.WriterAt, all cores) over a 64 MiB image
// of 512- and 4096-byte sectors (cryptsetup's plain64 IVs, and
// --iv-large-sectors), with the AES-256-XTS key as an aeskl handle and, in
// the same run, with golang.org/x/crypto/xts over crypto/aes in the same
// engine (x-crypto-xts) and in a plain loop on one goroutine, read, decrypt
// in place, write (x-crypto-xts-loop).
func BenchmarkPlainDecrypt(b *testing.B) {
	const size = 64 << 20
	key := make([]byte, 64)
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	src := bytes.NewReader(make([]byte, size))
	dst := make(memWriterAt, size)
	for _, l := range []disk.Layout{
		{SectorSize: 512},
		{SectorSize: 4096},
		{SectorSize: 4096, IVLargeSectors: true},
	} {
		name := fmt.Sprintf("%d", l.SectorSize)
		if l.IVLargeSectors {
			name += "-large"
		}
		c, err := disk.NewCipher("aes-xts-plain64", key)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/aeskl-"+c.Implementation().String(), func(b *testing.B) {
			t := &disk.Transformer{Cipher: c, Layout: l, Decrypt: true}
			b.SetBytes(size)
			for b.Loop() {
				if err := t.CryptAt(dst, 0, src, 0, 0, size); err != nil {
					b.Fatal(err)
				}
			}
		})
		c.Close()
		b.Run(name+"/x-crypto-xts", func(b *testing.B) {
			t := &disk.Transformer{Cipher: newXXTS(b, key), Layout: l, Decrypt: true}
			b.SetBytes(size)
			for b.Loop() {
				if err := t.CryptAt(dst, 0, src, 0, 0, size); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/x-crypto-xts-loop", func(b *testing.B) {
			x := newXXTS(b, key)
			buf := make([]byte, disk.DefaultChunkSize)
			b.SetBytes(size)
			for b.Loop() {
				for off := int64(0); off < size; off += int64(len(buf)) {
					if _, err := src.ReadAt(buf, off); err != nil {
						b.Fatal(err)
					}
					x.CryptSectors(buf, buf, l.IV(off), l.IVStep(), l.SectorSize, true)
					if _, err := dst.WriteAt(buf, off); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
