package disk_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/aeskl/disk"
)

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestLayoutIV(t *testing.T) {
	for _, c := range []struct {
		l        disk.Layout
		pos      int64
		iv, step uint64
	}{
		{disk.Layout{SectorSize: 512}, 0, 0, 1},
		{disk.Layout{SectorSize: 512}, 512 * 7, 7, 1},
		{disk.Layout{SectorSize: 512, IVOffset: 100}, 512 * 7, 107, 1},
		{disk.Layout{SectorSize: 512, IVLargeSectors: true}, 512 * 7, 7, 1},
		{disk.Layout{SectorSize: 4096}, 4096 * 3, 24, 8},
		{disk.Layout{SectorSize: 4096, IVOffset: 40}, 4096 * 3, 64, 8},
		{disk.Layout{SectorSize: 4096, IVLargeSectors: true}, 4096 * 3, 3, 1},
		{disk.Layout{SectorSize: 4096, IVOffset: 16, IVLargeSectors: true}, 4096 * 3, 5, 1},
		{disk.Layout{SectorSize: 2048, IVLargeSectors: true}, 2048 * 9, 9, 1},
		{disk.Layout{SectorSize: 2048, IVOffset: 12, IVLargeSectors: true}, 2048 * 9, 12, 1},
		// The IV wraps modulo 2^64.
		{disk.Layout{SectorSize: 512, IVOffset: 1<<64 - 1}, 1024, 1, 1},
		{disk.Layout{SectorSize: 4096, IVOffset: 1<<64 - 8}, 4096 * 2, 8, 8},
	} {
		if err := c.l.Validate(); err != nil {
			t.Errorf("%+v: %v", c.l, err)
		}
		if got := c.l.IV(c.pos); got != c.iv {
			t.Errorf("%+v IV(%d) = %d, want %d", c.l, c.pos, got, c.iv)
		}
		if got := c.l.IVStep(); got != c.step {
			t.Errorf("%+v IVStep = %d, want %d", c.l, got, c.step)
		}
	}
	for _, s := range []int{0, 256, 768, 8192, -512} {
		if err := (disk.Layout{SectorSize: s}).Validate(); err == nil {
			t.Errorf("sector size %d accepted", s)
		}
	}
	// dm-crypt refuses an IV offset (iv_offset) that is not a whole number
	// of sectors in 512-byte units, with or without iv_large_sectors
	// ("Invalid iv_offset sector").
	for _, l := range []disk.Layout{
		{SectorSize: 4096, IVOffset: 1},
		{SectorSize: 4096, IVOffset: 5},
		{SectorSize: 4096, IVOffset: 7, IVLargeSectors: true},
		{SectorSize: 1024, IVOffset: 3},
		{SectorSize: 2048, IVOffset: 1<<64 - 1},
	} {
		if err := l.Validate(); !errors.Is(err, disk.ErrIVOffset) {
			t.Errorf("%+v: Validate: %v, want ErrIVOffset", l, err)
		}
		tr := &disk.Transformer{Cipher: refFunc(func([]byte, []byte, uint64, uint64, int, bool) error { return nil }), Layout: l}
		if err := tr.Crypt(make([]byte, l.SectorSize), make([]byte, l.SectorSize), 0); !errors.Is(err, disk.ErrIVOffset) {
			t.Errorf("%+v: Crypt: %v, want ErrIVOffset", l, err)
		}
	}
	if _, _, err := (disk.Plain{SectorSize: 4096, Skip: 1}).Extent(1 << 20); !errors.Is(err, disk.ErrIVOffset) {
		t.Errorf("Extent with --skip 1 and 4096-byte sectors: %v", err)
	}
}

func TestPlainExtent(t *testing.T) {
	for _, c := range []struct {
		p             disk.Plain
		dev           int64
		start, length int64
		err           string
	}{
		{disk.Plain{}, 1 << 20, 0, 1 << 20, ""},
		{disk.Plain{Offset: 8}, 1 << 20, 4096, 1<<20 - 4096, ""},
		{disk.Plain{Offset: 8, Size: 16}, 1 << 20, 4096, 8192, ""},
		{disk.Plain{SectorSize: 4096, Offset: 8}, 1 << 20, 4096, 1<<20 - 4096, ""},
		{disk.Plain{Offset: 2048}, 1 << 20, 1 << 20, 0, ""},
		{disk.Plain{Offset: 2049}, 1 << 20, 0, 0, "beyond the end"},
		{disk.Plain{Offset: 8, Size: 2041}, 1 << 20, 0, 0, "ends beyond"},
		{disk.Plain{SectorSize: 4096, Offset: 1}, 1 << 20, 0, 0, "not a whole number of 4096-byte sectors"},
		{disk.Plain{SectorSize: 4096, Size: 9}, 1 << 20, 0, 0, "not a whole number"},
		{disk.Plain{}, 1000, 0, 0, "not a whole number of 512-byte"},
		{disk.Plain{SectorSize: 1000}, 1 << 20, 0, 0, "sector size 1000"},
		{disk.Plain{Offset: 1 << 60}, 1 << 20, 0, 0, "out of range"},
	} {
		start, length, err := c.p.Extent(c.dev)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v on %d bytes: error %v, want one saying %q", c.p, c.dev, err, c.err)
			}
			continue
		}
		if err != nil || start != c.start || length != c.length {
			t.Errorf("%+v on %d bytes: %d, %d, %v; want %d, %d", c.p, c.dev, start, length, err, c.start, c.length)
		}
	}
}

// refCBC is dm-crypt's aes-cbc-plain64 / aes-cbc-essiv:sha256 on
// crypto/aes, one sector.
func refCBC(key []byte, essiv bool, dst, src []byte, iv uint64, dec bool) {
	b, _ := aes.NewCipher(key)
	var v [16]byte
	binary.LittleEndian.PutUint64(v[:], iv)
	if essiv {
		salt := sha256.Sum256(key)
		e, _ := aes.NewCipher(salt[:])
		e.Encrypt(v[:], v[:])
	}
	if dec {
		cipher.NewCBCDecrypter(b, v[:]).CryptBlocks(dst, src)
	} else {
		cipher.NewCBCEncrypter(b, v[:]).CryptBlocks(dst, src)
	}
}

// reference returns the sector cipher's reference implementation.
func reference(t *testing.T, spec string, key []byte) disk.SectorCipher {
	if spec == "aes-xts-plain64" {
		return newXXTS(t, key)
	}
	return refFunc(func(dst, src []byte, iv, step uint64, size int, dec bool) error {
		for off := 0; off < len(src); off += size {
			refCBC(key, spec == "aes-cbc-essiv:sha256", dst[off:off+size], src[off:off+size], iv, dec)
			iv += step
		}
		return nil
	})
}

type refFunc func(dst, src []byte, iv, step uint64, size int, dec bool) error

func (f refFunc) CryptSectors(dst, src []byte, iv, step uint64, size int, dec bool) error {
	return f(dst, src, iv, step, size, dec)
}

func TestCipherAgainstReference(t *testing.T) {
	for _, spec := range disk.Ciphers {
		for _, keyLen := range spec.KeySizes {
			key := randBytes(uint64(keyLen), keyLen)
			c, err := disk.NewCipher(spec.Spec, key)
			if err != nil {
				t.Fatal(err)
			}
			ref := reference(t, spec.Spec, key)
			for _, size := range []int{512, 4096} {
				for _, step := range []uint64{1, uint64(size / 512)} {
					src := randBytes(uint64(size)+step, 5*size)
					want := make([]byte, len(src))
					ref.CryptSectors(want, src, 1<<40-2, step, size, false)
					got := make([]byte, len(src))
					if err := c.CryptSectors(got, src, 1<<40-2, step, size, false); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Errorf("%s, %d-byte key, %d-byte sectors, IV step %d: encryption differs from the reference", spec.Spec, keyLen, size, step)
					}
					// Decryption, in place.
					if err := c.CryptSectors(got, got, 1<<40-2, step, size, true); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, src) {
						t.Errorf("%s, %d-byte key, %d-byte sectors, IV step %d: decryption does not invert encryption", spec.Spec, keyLen, size, step)
					}
				}
			}
			if err := c.CryptSectors(make([]byte, 700), make([]byte, 700), 0, 1, 512, false); err == nil {
				t.Errorf("%s: a partial sector accepted", spec.Spec)
			}
			c.Close()
		}
	}
}

func TestNewCipherErrors(t *testing.T) {
	_, err := disk.NewCipher("serpent-xts-plain64", make([]byte, 64))
	var u disk.UnsupportedCipherError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "supported: aes-xts-plain64, aes-cbc-essiv:sha256") {
		t.Errorf("unsupported cipher: %v", err)
	}
	if _, err := disk.NewCipher("aes-xts-plain64", make([]byte, 16)); err == nil || !strings.Contains(err.Error(), "32, 48 or 64 bytes, not 16") {
		t.Errorf("XTS with a 16-byte key: %v", err)
	}
	if err := disk.CheckSpec("aes-cbc-essiv:sha256", 64); err == nil {
		t.Error("CBC with a 64-byte key accepted")
	}
	if err := disk.CheckSpec("aes-cbc-essiv:sha256", 32); err != nil {
		t.Error(err)
	}
}

// refTransform is the expected result of a Transformer.
func refTransform(t *testing.T, ref disk.SectorCipher, l disk.Layout, data []byte, pos int64, dec bool) []byte {
	out := make([]byte, len(data))
	for off := 0; off < len(data); off += l.SectorSize {
		p := pos + int64(off)
		ref.CryptSectors(out[off:off+l.SectorSize], data[off:off+l.SectorSize], l.IV(p), l.IVStep(), l.SectorSize, dec)
	}
	return out
}

func TestStream(t *testing.T) {
	key := randBytes(1, 64)
	c, err := disk.NewCipher("aes-xts-plain64", key)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ref := newXXTS(t, key)
	for _, l := range []disk.Layout{
		{SectorSize: 512, IVOffset: 3},
		{SectorSize: 4096, IVOffset: 8},
		{SectorSize: 4096, IVOffset: 8, IVLargeSectors: true},
	} {
		ss := l.SectorSize
		for _, sectors := range []int{0, 1, 2, 7, 33} {
			for _, cfg := range []struct{ workers, chunk int }{{1, 0}, {3, 2 * ss}, {4, ss}, {0, 5 * ss}} {
				for _, dec := range []bool{false, true} {
					data := randBytes(uint64(sectors*ss), sectors*ss)
					pos := int64(5 * ss)
					want := refTransform(t, ref, l, data, pos, dec)
					var progress int
					tr := &disk.Transformer{Cipher: c, Layout: l, Decrypt: dec, Workers: cfg.workers, ChunkSize: cfg.chunk,
						Progress: func(n int) { progress += n }}
					name := fmt.Sprintf("%+v %d sectors %+v decrypt=%v", l, sectors, cfg, dec)
					// Known length.
					var out bytes.Buffer
					n, err := tr.Stream(&out, bytes.NewReader(data), pos, int64(len(data)))
					if err != nil || n != int64(len(data)) || !bytes.Equal(out.Bytes(), want) {
						t.Errorf("%s: Stream with length: %d, %v, output equal: %v", name, n, err, bytes.Equal(out.Bytes(), want))
					}
					if progress != len(data) {
						t.Errorf("%s: progress reported %d bytes, want %d", name, progress, len(data))
					}
					// Up to the end of the input (iotest-like one-byte reads
					// on some runs).
					out.Reset()
					var r io.Reader = bytes.NewReader(data)
					if sectors == 7 {
						r = oneByteReader{r}
					}
					n, err = tr.Stream(&out, r, pos, -1)
					if err != nil || n != int64(len(data)) || !bytes.Equal(out.Bytes(), want) {
						t.Errorf("%s: Stream to EOF: %d, %v", name, n, err)
					}
					// CryptAt, at offsets in both files.
					progress = 0
					dst := make(memWriterAt, len(data)+3*ss)
					if n, err := tr.CryptAt(dst, int64(2*ss), bytes.NewReader(append(make([]byte, ss), data...)), int64(ss), pos, int64(len(data))); err != nil || n != int64(len(data)) ||
						!bytes.Equal(dst[2*ss:2*ss+len(data)], want) || progress != len(data) {
						t.Errorf("%s: CryptAt: %v, progress %d", name, err, progress)
					}
					// Crypt, and in place.
					got := make([]byte, len(data))
					if err := tr.Crypt(got, data, pos); err != nil || !bytes.Equal(got, want) {
						t.Errorf("%s: Crypt: %v", name, err)
					}
					got = bytes.Clone(data)
					if err := tr.Crypt(got, got, pos); err != nil || !bytes.Equal(got, want) {
						t.Errorf("%s: Crypt in place: %v", name, err)
					}
				}
			}
		}
	}
}

type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

type failingWriter struct {
	limit int
	n     int
}

var errDiskFull = errors.New("disk full")

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.limit {
		k := f.limit - f.n
		f.n = f.limit
		return k, errDiskFull
	}
	f.n += len(p)
	return len(p), nil
}

// failingWriterAt fails the write that would go past limit; the writes
// must come in order.
type failingWriterAt struct {
	limit int
	n     int
}

func (f *failingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if int(off) != f.n {
		return 0, fmt.Errorf("write at %d, want %d: out of order", off, f.n)
	}
	if f.n+len(p) > f.limit {
		k := f.limit - f.n
		f.n = f.limit
		return k, errDiskFull
	}
	f.n += len(p)
	return len(p), nil
}

type failingReader struct {
	r     io.Reader
	limit int
	n     int
}

var errBadBlock = errors.New("bad block")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n >= f.limit {
		return 0, errBadBlock
	}
	p = p[:min(len(p), f.limit-f.n)]
	n, err := f.r.Read(p)
	f.n += n
	return n, err
}

func TestStreamErrors(t *testing.T) {
	c, err := disk.NewCipher("aes-xts-plain64", randBytes(2, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := disk.Layout{SectorSize: 512}
	tr := &disk.Transformer{Cipher: c, Layout: l, Workers: 2, ChunkSize: 1024}
	data := randBytes(3, 64*512)
	before := runtime.NumGoroutine()

	// Short input with a known length.
	n, err := tr.Stream(io.Discard, bytes.NewReader(data[:10*512+100]), 0, int64(len(data)))
	var ioe *disk.IOError
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &ioe) || ioe.Op != "read" || n != 10*512 || ioe.Written != n {
		t.Errorf("short input: %d, %v (%+v)", n, err, ioe)
	}
	// Input ending inside a sector, to EOF.
	n, err = tr.Stream(io.Discard, bytes.NewReader(data[:10*512+100]), 0, -1)
	if !errors.Is(err, disk.ErrPartialSector) || n != 10*512 || !strings.Contains(err.Error(), "100 bytes after the last whole 512-byte sector") {
		t.Errorf("partial sector at EOF: %d, %v", n, err)
	}
	// A read error.
	n, err = tr.Stream(io.Discard, &failingReader{r: bytes.NewReader(data), limit: 20 * 512}, 0, int64(len(data)))
	if !errors.Is(err, errBadBlock) || !errors.As(err, &ioe) || ioe.Offset != 20*512 || n != 20*512 {
		t.Errorf("read error: %d, %v", n, err)
	}
	// A write error: the output holds exactly the bytes before it.
	fw := &failingWriter{limit: 7*512 + 3}
	n, err = tr.Stream(fw, bytes.NewReader(data), 0, int64(len(data)))
	if !errors.Is(err, errDiskFull) || !errors.As(err, &ioe) || ioe.Op != "write" || n != 6*512 || ioe.Written != 6*512 {
		t.Errorf("write error: %d, %v (%+v)", n, err, ioe)
	}
	// The same through CryptAt: a short source, a failing destination.
	dst := make(memWriterAt, len(data))
	n, err = tr.CryptAt(dst, 0, bytes.NewReader(data[:10*512+100]), 0, 0, int64(len(data)))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &ioe) || ioe.Offset != 10*512+100 || ioe.Written != 10*512 || n != 10*512 {
		t.Errorf("CryptAt, short input: %v (%+v)", err, ioe)
	}
	n, err = tr.CryptAt(&failingWriterAt{limit: 7*512 + 3}, 0, bytes.NewReader(data), 0, 0, int64(len(data)))
	if !errors.Is(err, errDiskFull) || !errors.As(err, &ioe) || ioe.Op != "write" || ioe.Written != 6*512 || n != 6*512 {
		t.Errorf("CryptAt, write error: %v (%+v)", err, ioe)
	}
	// Bad arguments.
	if err := tr.Crypt(make([]byte, 512), make([]byte, 1024), 0); err == nil {
		t.Error("Crypt into a short output accepted")
	}
	if _, err := tr.CryptAt(dst, 0, bytes.NewReader(data), 0, 0, -512); err == nil {
		t.Error("CryptAt of a negative length accepted")
	}
	if _, err := tr.Stream(io.Discard, bytes.NewReader(data), 100, -1); err == nil {
		t.Error("a position inside a sector accepted")
	}
	if _, err := tr.Stream(io.Discard, bytes.NewReader(data), 0, 1000); err == nil {
		t.Error("a length of partial sectors accepted")
	}
	// The goroutines are gone.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines left running (%d before)", g-before, before)
	}
}

func TestCryptAtInPlace(t *testing.T) {
	key := randBytes(4, 64)
	c, err := disk.NewCipher("aes-xts-plain64", key)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := disk.Layout{SectorSize: 4096, IVOffset: 16}
	data := randBytes(5, 40*4096)
	path := filepath.Join(t.TempDir(), "img")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Encrypt sectors 3..35 in place; the rest stays as it was.
	start, length := int64(3*4096), int64(32*4096)
	tr := &disk.Transformer{Cipher: c, Layout: l, Workers: 3, ChunkSize: 3 * 4096}
	if _, err := tr.CryptAt(f, start, f, start, 0, length); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := bytes.Clone(data)
	copy(want[start:], refTransform(t, newXXTS(t, key), l, data[start:start+length], 0, false))
	if !bytes.Equal(got, want) {
		t.Error("in-place encryption differs from the reference")
	}
}

// panicky is a SectorCipher that panics on the sectors from IV number at
// on, as a broken implementation might.
type panicky struct {
	ref disk.SectorCipher
	at  uint64
}

func (p panicky) CryptSectors(dst, src []byte, iv, step uint64, size int, dec bool) error {
	if iv+uint64(len(src)/size)*step > p.at {
		panic(fmt.Sprintf("broken cipher at IV %d", iv))
	}
	return p.ref.CryptSectors(dst, src, iv, step, size, dec)
}

// TestTransformerPanics checks that a panic on a worker goroutine comes
// back as an error of the call, from every way of running a Transformer,
// and that no goroutine is left behind.
func TestTransformerPanics(t *testing.T) {
	key := randBytes(6, 64)
	ref := newXXTS(t, key)
	l := disk.Layout{SectorSize: 512}
	data := randBytes(7, 64*512)
	before := runtime.NumGoroutine()
	tr := &disk.Transformer{Cipher: panicky{ref, 40}, Layout: l, Workers: 3, ChunkSize: 4 * 512}
	if err := tr.Crypt(make([]byte, len(data)), data, 0); err == nil || !strings.Contains(err.Error(), "broken cipher at IV 40") {
		t.Errorf("Crypt: %v", err)
	}
	n, err := tr.CryptAt(make(memWriterAt, len(data)), 0, bytes.NewReader(data), 0, 0, int64(len(data)))
	if err == nil || !strings.Contains(err.Error(), "broken cipher at IV 40") || n != 40*512 {
		t.Errorf("CryptAt: %d, %v", n, err)
	}
	var out bytes.Buffer
	n, err = tr.Stream(&out, bytes.NewReader(data), 0, -1)
	if err == nil || !strings.Contains(err.Error(), "broken cipher at IV 40") || n != 40*512 || out.Len() != 40*512 {
		t.Errorf("Stream: %d, %v", n, err)
	}

	// A Cipher closed before (or while) it runs.
	c, err := disk.NewCipher("aes-xts-plain64", key)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	tr = &disk.Transformer{Cipher: c, Layout: l, Workers: 2, ChunkSize: 4 * 512}
	if err := tr.Crypt(make([]byte, len(data)), data, 0); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Crypt with a closed Cipher: %v", err)
	}
	if _, err := tr.Stream(io.Discard, bytes.NewReader(data), 0, -1); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Stream with a closed Cipher: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines left running (%d before)", g-before, before)
	}
}

// TestCryptOverlap checks that Crypt refuses buffers that overlap other
// than exactly, whether a chunk's own cipher call would see the overlap
// or only the race between chunks would, and takes the same buffer.
func TestCryptOverlap(t *testing.T) {
	for _, spec := range []string{"aes-xts-plain64", "aes-cbc-essiv:sha256"} {
		key := randBytes(8, 64)
		if spec != "aes-xts-plain64" {
			key = key[:32]
		}
		c, err := disk.NewCipher(spec, key)
		if err != nil {
			t.Fatal(err)
		}
		l := disk.Layout{SectorSize: 512}
		for _, cfg := range []struct {
			name        string
			chunk       int
			shift, size int
		}{
			{"one sector", 0, 512, 8192},      // inside every chunk
			{"one chunk", 4096, 4096, 16384},  // only across chunks
			{"backwards", 4096, -4096, 16384}, // dst before src
			{"one block", 0, 16, 8192},        // inside a sector
			{"one sector, 2 workers", 512, 512, 8192},
		} {
			tr := &disk.Transformer{Cipher: c, Layout: l, Workers: 2, ChunkSize: cfg.chunk}
			buf := randBytes(9, cfg.size+8192)
			orig := bytes.Clone(buf)
			var dst, src []byte
			if cfg.shift >= 0 {
				dst, src = buf[cfg.shift:], buf[:cfg.size]
			} else {
				dst, src = buf[:cfg.size], buf[-cfg.shift:-cfg.shift+cfg.size]
			}
			if err := tr.Crypt(dst, src, 0); err == nil || !strings.Contains(err.Error(), "overlap") {
				t.Errorf("%s, %s: Crypt of overlapping buffers: %v", spec, cfg.name, err)
			}
			if !bytes.Equal(buf, orig) {
				t.Errorf("%s, %s: the refused Crypt changed the buffer", spec, cfg.name)
			}
			if err := c.CryptSectors(dst, src, 0, 1, 512, false); err == nil || !strings.Contains(err.Error(), "overlap") {
				t.Errorf("%s, %s: CryptSectors of overlapping buffers: %v", spec, cfg.name, err)
			}
		}
		// The same memory, with dst longer than src, is in place.
		buf := randBytes(10, 8192+512)
		want := make([]byte, 8192)
		reference(t, spec, key).CryptSectors(want, buf[:8192], 0, 1, 512, false)
		tr := &disk.Transformer{Cipher: c, Layout: l, Workers: 2, ChunkSize: 1024}
		if err := tr.Crypt(buf, buf[:8192], 0); err != nil || !bytes.Equal(buf[:8192], want) {
			t.Errorf("%s: in place with a longer dst: %v", spec, err)
		}
		c.Close()
	}
}
