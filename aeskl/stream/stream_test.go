package stream

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// poison fills the caller's buffers before a Read: after it, a byte that
// is neither poison nor zero beyond what Read returned is plaintext that
// reached the caller. Test plaintexts avoid both values.
const poison = 0xAA

// plaintext returns n bytes in [1, 0xA9] (a read-only slice of a pool
// made once: filling it byte by byte is slow under the race detector).
func plaintext(n int) []byte {
	poolOnce.Do(func() {
		pool = make([]byte, 6<<20)
		rand.Read(pool)
		for i := range pool {
			pool[i] = 1 + pool[i]%0xA9
		}
	})
	off := mrand.IntN(len(pool) - n + 1)
	return pool[off : off+n : off+n]
}

var (
	pool     []byte
	poolOnce sync.Once
)

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func newKey(t testing.TB, mainKey []byte, p Params, opts ...aeskl.Option) *Key {
	t.Helper()
	k, err := NewKey(mainKey, p, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// encrypt writes pt through a Writer in chunks of the given size (all at
// once for 0).
func encrypt(t testing.TB, k *Key, pt, ad []byte, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := k.NewWriter(&buf, ad)
	if err != nil {
		t.Fatal(err)
	}
	if chunk <= 0 {
		chunk = max(len(pt), 1)
	}
	for off := 0; off < len(pt); off += chunk {
		end := min(off+chunk, len(pt))
		if n, err := w.Write(pt[off:end]); n != end-off || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readChecked reads r to the end with reads of size bufSize into poisoned
// buffers and fails the test if any Read leaves anything but poison or
// zeros beyond the bytes it returned. It returns what was read and the
// first error other than io.EOF.
func readChecked(t testing.TB, r io.Reader, bufSize int) ([]byte, error) {
	t.Helper()
	var out []byte
	p := make([]byte, bufSize)
	poisoned := bytes.Repeat([]byte{poison}, bufSize)
	for range 1 << 30 {
		copy(p, poisoned)
		n, err := r.Read(p)
		if n < 0 || n > len(p) {
			t.Fatalf("Read returned %d", n)
		}
		if i := leakedAt(p[n:]); i >= 0 {
			t.Fatalf("Read returned %d bytes, %v, and left plaintext at p[%d] = %#x", n, err, n+i, p[n+i])
		}
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
	t.Fatal("Read never ends")
	return nil, nil
}

var poisonBlock, zeroBlock = bytes.Repeat([]byte{poison}, 256), make([]byte, 256)

// leakedAt returns the index of the first byte of b that is neither
// poison nor zero, or -1.
func leakedAt(b []byte) int {
	for i := 0; i < len(b); {
		if c := b[i:min(i+256, len(b))]; bytes.Equal(c, poisonBlock[:len(c)]) || bytes.Equal(c, zeroBlock[:len(c)]) {
			i += len(c)
			continue
		}
		if b[i] != poison && b[i] != 0 {
			return i
		}
		i++
	}
	return -1
}

// leaked reports whether b holds anything but poison and zeros.
func leaked(b []byte) bool { return leakedAt(b) >= 0 }

func decrypt(t testing.TB, k *Key, ct, ad []byte, bufSize int) ([]byte, error) {
	t.Helper()
	r, err := k.NewReader(bytes.NewReader(ct), ad)
	if err != nil {
		return nil, err
	}
	return readChecked(t, r, bufSize)
}

// refAEAD is the segment cipher of a stream, made with crypto/hkdf and
// crypto/aes: the reference the package is checked against.
func refAEAD(t testing.TB, mainKey, salt, ad []byte) cipher.AEAD {
	key, err := hkdf.Key(sha256.New, mainKey, salt, string(ad), len(salt))
	if err != nil {
		t.Fatal(err)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// refEncrypt is the format written out from its definition.
func refEncrypt(t testing.TB, p Params, mainKey, salt, prefix, pt, ad []byte) []byte {
	g := refAEAD(t, mainKey, salt, ad)
	out := []byte{byte(1 + len(salt) + len(prefix))}
	out = append(out, salt...)
	out = append(out, prefix...)
	first := p.SegmentSize - TagSize - len(out)
	for i := 0; ; i++ {
		lim := p.SegmentSize - TagSize
		if i == 0 {
			lim = first
		}
		last := len(pt) <= lim
		seg := pt[:min(lim, len(pt))]
		pt = pt[len(seg):]
		nonce := append(append([]byte{}, prefix...), byte(i>>24), byte(i>>16), byte(i>>8), byte(i), 0)
		if last {
			nonce[11] = 1
		}
		out = g.Seal(out, nonce, seg, nil)
		if last {
			return out
		}
	}
}

// variants are the parameter sets the tests run: Tink's four templates,
// the smallest segments Tink allows, and odd segment sizes.
var variants = []struct {
	name   string
	p      Params
	keyLen int
}{
	{"AES128_GCM_HKDF_4KB", AES128GCMHKDF4KB, 16},
	{"AES256_GCM_HKDF_4KB", AES256GCMHKDF4KB, 32},
	{"AES128_GCM_HKDF_1MB", AES128GCMHKDF1MB, 16},
	{"AES256_GCM_HKDF_1MB", AES256GCMHKDF1MB, 32},
	{"AES128/min-segment", Params{16, 41}, 16},
	{"AES256/min-segment", Params{32, 57}, 32},
	{"AES128/segment-100/main-key-32", Params{16, 100}, 32},
	{"AES256/segment-1000/main-key-48", Params{32, 1000}, 48},
}

// sizesFor returns plaintext sizes around the segment boundaries of p
// (for segments over 64 KiB, fewer: TestLargeStreams runs more segments).
func sizesFor(p Params) []int {
	first, full := p.ptLimit(0), p.ptSeg()
	if p.SegmentSize > 1<<16 {
		return []int{0, 1, first - 1, first, first + 1, first + full}
	}
	var s []int
	for _, base := range []int{0, first, first + full, first + 2*full} {
		for _, d := range []int{-1, 0, 1} {
			if base+d >= 0 {
				s = append(s, base+d)
			}
		}
	}
	return append(s, 1, 2, first+3*full+full/2)
}

// TestRoundTrip writes and reads every variant at sizes around every
// segment boundary, in chunks of several sizes, and checks the bytes
// against the reference encryption with the same salt and nonce prefix.
func TestRoundTrip(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			mk := randBytes(v.keyLen)
			k := newKey(t, mk, v.p)
			ad := []byte("associated data " + v.name)
			for _, n := range sizesFor(v.p) {
				pt := plaintext(n)
				salt, prefix := randBytes(v.p.KeySize), randBytes(NoncePrefixSize)
				var buf bytes.Buffer
				w, err := k.newWriter(&buf, ad, bytes.NewReader(append(append([]byte{}, salt...), prefix...)))
				if err != nil {
					t.Fatal(err)
				}
				w.Write(pt)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				want := refEncrypt(t, v.p, mk, salt, prefix, pt, ad)
				if !bytes.Equal(buf.Bytes(), want) {
					t.Fatalf("%d bytes: the stream differs from the reference (%d bytes, want %d)", n, buf.Len(), len(want))
				}
				if cs, err := v.p.CiphertextSize(int64(n)); err != nil || cs != int64(len(want)) {
					t.Errorf("CiphertextSize(%d) = %d, %v; want %d", n, cs, err, len(want))
				}
				if ps, err := v.p.PlaintextSize(int64(len(want))); err != nil || ps != int64(n) {
					t.Errorf("PlaintextSize(%d) = %d, %v; want %d", len(want), ps, err, n)
				}
				chunks := []int{0, 1, 7, v.p.ptSeg() - 1, v.p.ptSeg() + 1}
				reads := []int{1, 13, v.p.ptSeg(), 3*v.p.ptSeg() + 5}
				if n > 1<<16 {
					// Large streams: whole segments and across them.
					chunks, reads = []int{0, v.p.ptSeg() + 1}, []int{v.p.ptSeg() - 1}
				}
				for _, chunk := range chunks {
					ct := encrypt(t, k, pt, ad, chunk)
					for _, rs := range reads {
						got, err := decrypt(t, k, ct, ad, rs)
						if err != nil || !bytes.Equal(got, pt) {
							t.Fatalf("%d bytes written in chunks of %d, read by %d: %d bytes, %v", n, chunk, rs, len(got), err)
						}
					}
				}
			}
		})
	}
}

// TestReaderShortReads reads through an underlying reader that returns a
// byte at a time, or half of what is asked, or data with io.EOF.
func TestReaderShortReads(t *testing.T) {
	p := Params{16, 64}
	k := newKey(t, randBytes(16), p)
	for _, n := range []int{0, 1, 23, 24, 25, 71, 72, 73, 500} {
		pt := plaintext(n)
		ct := encrypt(t, k, pt, nil, 0)
		for name, wrap := range map[string]func(io.Reader) io.Reader{
			"one-byte": iotest.OneByteReader, "half": iotest.HalfReader, "data-err": iotest.DataErrReader,
		} {
			r, err := k.NewReader(wrap(bytes.NewReader(ct)), nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readChecked(t, r, 10)
			if err != nil || !bytes.Equal(got, pt) {
				t.Errorf("%d bytes through %s: %d bytes, %v", n, name, len(got), err)
			}
		}
		r, _ := k.NewReader(bytes.NewReader(ct), nil)
		if err := iotest.TestReader(r, pt); err != nil {
			t.Errorf("%d bytes: iotest.TestReader: %v", n, err)
		}
	}
}

// TestLargeStreams runs several MiB through the 1 MB and 4 KB variants,
// with associated data.
func TestLargeStreams(t *testing.T) {
	pt := plaintext(5<<20 + 12345)
	for _, p := range []Params{AES256GCMHKDF1MB, AES128GCMHKDF4KB} {
		k := newKey(t, randBytes(p.KeySize), p)
		ad := []byte("large")
		ct := encrypt(t, k, pt, ad, 100_000)
		got, err := decrypt(t, k, ct, ad, 1<<16)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%+v: %d bytes, %v", p, len(got), err)
		}
		r, err := k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), ad)
		if err != nil {
			t.Fatal(err)
		}
		all := make([]byte, len(pt))
		if n, err := r.ReadAt(all, 0); n != len(pt) || err != nil || !bytes.Equal(all, pt) {
			t.Fatalf("ReadAt of everything: %d, %v", n, err)
		}
	}
}

// segmentBounds returns the ciphertext offsets of the segments of a
// stream of n bytes: segment i is ct[b[i]:b[i+1]].
func segmentBounds(t testing.TB, p Params, n int) []int {
	t.Helper()
	s, err := p.ctSegments(int64(n))
	if err != nil {
		t.Fatal(err)
	}
	b := []int{p.HeaderSize()}
	for i := uint64(1); i < s; i++ {
		b = append(b, int(p.ctStart(i)))
	}
	return append(b, n)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// tampered returns modified copies of a stream of four segments or more.
func tampered(t testing.TB, p Params, ct []byte) map[string][]byte {
	b := segmentBounds(t, p, len(ct))
	if len(b) < 5 {
		t.Fatalf("need 4 segments, have %d", len(b)-1)
	}
	seg := func(i int) []byte { return ct[b[i]:b[i+1]] }
	hdr := ct[:b[0]]
	flip := func(off int, bit byte) []byte {
		c := bytes.Clone(ct)
		c[off] ^= bit
		return c
	}
	m := map[string][]byte{
		"empty":                    {},
		"header only":              hdr,
		"cut inside the header":    ct[:b[0]-3],
		"cut 1 byte":               ct[:len(ct)-1],
		"cut inside last tag":      ct[:len(ct)-TagSize+1],
		"last segment dropped":     ct[:b[len(b)-2]],
		"cut after segment 1":      ct[:b[2]],
		"cut inside segment 2":     ct[:b[2]+100],
		"segment 1 dropped":        cat(hdr, seg(0), seg(2), seg(3)),
		"segments 1 and 2 swapped": cat(hdr, seg(0), seg(2), seg(1), seg(3)),
		"segment 1 duplicated":     cat(hdr, seg(0), seg(1), seg(1), seg(2), seg(3)),
		"segment 0 duplicated":     cat(hdr, seg(0), seg(0), seg(1), seg(2), seg(3)),
		"last segment duplicated":  cat(ct, seg(len(b)-2)),
		"byte appended":            cat(ct, []byte{0}),
		"stream appended":          cat(ct, ct),
		"salt bit flipped":         flip(1, 1),
		"nonce prefix bit flipped": flip(b[0]-1, 0x80),
		"segment 0 bit flipped":    flip(b[0]+5, 4),
		"segment 2 bit flipped":    flip(b[2]+17, 1),
		"segment 2 tag bit":        flip(b[3]-1, 0x40),
		"last segment bit flipped": flip(len(ct)-TagSize-1, 2),
	}
	return m
}

// TestTamper checks that every modification is an error and that what
// was returned before it is exactly the plaintext of the segments that
// authenticated (a prefix ending at a segment boundary), whatever the
// read size.
func TestTamper(t *testing.T) {
	p := Params{16, 256}
	k := newKey(t, randBytes(16), p)
	ad := []byte("ad")
	pt := plaintext(p.ptLimit(0) + 3*p.ptSeg() - 17) // four segments, the last short
	ct := encrypt(t, k, pt, ad, 0)
	for name, c := range tampered(t, p, ct) {
		for _, rs := range []int{1, 100, p.ptSeg(), len(pt) + 1000} {
			got, err := decrypt(t, k, c, ad, rs)
			if err == nil {
				t.Errorf("%s, reads of %d: no error", name, rs)
				continue
			}
			if !errors.Is(err, ErrAuthentication) && !errors.Is(err, ErrTruncated) {
				t.Errorf("%s: error %v is neither ErrAuthentication nor ErrTruncated", name, err)
			}
			if !bytes.Equal(got, pt[:len(got)]) {
				t.Errorf("%s: returned bytes that are not the plaintext", name)
			}
			if l := int64(len(got)); l != 0 && l != int64(len(pt)) {
				if i := (&ReaderAt{p: p}).segmentOf(l); p.ptStart(i) != l {
					t.Errorf("%s, reads of %d: %d bytes returned, not a segment boundary", name, rs, l)
				}
			}
		}
	}
	for name, c := range map[string][]byte{"header length byte": func() []byte { c := bytes.Clone(ct); c[0]++; return c }()} {
		if _, err := k.NewReader(bytes.NewReader(c), ad); !errors.Is(err, ErrHeader) {
			t.Errorf("%s: %v, want ErrHeader", name, err)
		}
	}
}

// TestWrongKeyOrAD: another main key, other or missing associated data,
// the other key size with the same main key bytes: each fails on the
// first segment, with nothing returned.
func TestWrongKeyOrAD(t *testing.T) {
	mk := randBytes(32)
	p := Params{32, 200}
	k := newKey(t, mk, p)
	pt := plaintext(1000)
	ct := encrypt(t, k, pt, []byte("right"), 0)
	other := newKey(t, randBytes(32), p)
	for name, c := range map[string]struct {
		k  *Key
		ad []byte
	}{
		"wrong key":       {other, []byte("right")},
		"wrong ad":        {k, []byte("wrong")},
		"no ad":           {k, nil},
		"ad with a byte":  {k, []byte("right\x00")},
		"ad one byte shy": {k, []byte("righ")},
	} {
		got, err := decrypt(t, c.k, ct, c.ad, 4096)
		if !errors.Is(err, ErrAuthentication) || len(got) != 0 {
			t.Errorf("%s: %d bytes, %v", name, len(got), err)
		}
		r, err := c.k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), c.ad)
		if err != nil {
			t.Fatal(err)
		}
		buf := bytes.Repeat([]byte{poison}, 500)
		if n, err := r.ReadAt(buf, 300); n != 0 || !errors.Is(err, ErrAuthentication) || leaked(buf) {
			t.Errorf("%s: ReadAt: %d, %v", name, n, err)
		}
	}
	k128 := newKey(t, mk[:16], Params{16, 200})
	if _, err := decrypt(t, k128, ct, []byte("right"), 100); !errors.Is(err, ErrHeader) {
		t.Errorf("an AES-256 stream read as AES-128: %v, want ErrHeader", err)
	}
}

// TestReaderAt reads random ranges, checks them against the plaintext,
// and runs them from several goroutines at once.
func TestReaderAt(t *testing.T) {
	for _, v := range variants {
		if v.p == AES128GCMHKDF1MB || v.p == AES256GCMHKDF4KB {
			continue // the same geometry as AES256_GCM_HKDF_1MB, AES128_GCM_HKDF_4KB
		}
		t.Run(v.name, func(t *testing.T) {
			k := newKey(t, randBytes(v.keyLen), v.p)
			for _, n := range sizesFor(v.p) {
				pt := plaintext(n)
				ct := encrypt(t, k, pt, []byte("x"), 0)
				r, err := k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), []byte("x"))
				if err != nil {
					t.Fatal(err)
				}
				if r.Size() != int64(n) {
					t.Fatalf("Size %d, want %d", r.Size(), n)
				}
				check := func(off, l int) error {
					buf := make([]byte, l)
					m, err := r.ReadAt(buf, int64(off))
					want := max(0, min(l, n-off))
					if m != want || !bytes.Equal(buf[:m], pt[min(off, n):min(off, n)+m]) {
						return fmt.Errorf("ReadAt(%d bytes at %d) of %d: %d bytes, %v", l, off, n, m, err)
					}
					if (m < l) != (err == io.EOF) || (m == l && err != nil) {
						return fmt.Errorf("ReadAt(%d bytes at %d) of %d: %d bytes, error %v", l, off, n, m, err)
					}
					return nil
				}
				ranges := [][2]int{{0, n}, {0, n + 1}, {n, 1}, {n + 5, 3}, {0, 0}}
				for _, b := range segmentBounds(t, v.p, len(ct)) {
					x := int(b) - v.p.HeaderSize() // near plaintext boundaries
					for _, d := range []int{-17, -1, 0, 1} {
						if x+d >= 0 {
							ranges = append(ranges, [2]int{x + d, 1}, [2]int{x + d, 40}, [2]int{x + d, v.p.ptSeg() + 2})
						}
					}
				}
				for range 20 {
					off := mrand.IntN(n + 2)
					ranges = append(ranges, [2]int{off, mrand.IntN(n - off + 3)})
				}
				errs := make(chan error, len(ranges))
				for _, rg := range ranges {
					go func() { errs <- check(rg[0], rg[1]) }()
				}
				for range ranges {
					if err := <-errs; err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}

// TestReaderAtTamper: a range that does not touch a tampered segment
// reads; a range that does stops at it, with only earlier segments'
// plaintext in the buffer. A stream of another size than written fails
// on its last segment.
func TestReaderAtTamper(t *testing.T) {
	p := Params{16, 256}
	k := newKey(t, randBytes(16), p)
	pt := plaintext(p.ptLimit(0) + 3*p.ptSeg() - 17)
	ct := encrypt(t, k, pt, nil, 0)
	b := segmentBounds(t, p, len(ct))
	bad := bytes.Clone(ct)
	bad[b[2]+3] ^= 1 // segment 2
	r, err := k.NewReaderAt(bytes.NewReader(bad), int64(len(bad)), nil)
	if err != nil {
		t.Fatal(err)
	}
	s2 := int(p.ptStart(2))
	buf := make([]byte, len(pt))
	if n, err := r.ReadAt(buf[:s2], 0); n != s2 || err != nil || !bytes.Equal(buf[:n], pt[:s2]) {
		t.Errorf("segments 0 and 1: %d, %v", n, err)
	}
	s3 := int(p.ptStart(3))
	if n, err := r.ReadAt(buf[:len(pt)-s3], int64(s3)); n != len(pt)-s3 || err != nil {
		t.Errorf("segment 3: %d, %v", n, err)
	}
	for _, off := range []int{0, 5, s2 - 1, s2, s2 + 7} {
		for i := range buf {
			buf[i] = poison
		}
		n, err := r.ReadAt(buf, int64(off))
		if !errors.Is(err, ErrAuthentication) || n != max(0, s2-off) || !bytes.Equal(buf[:n], pt[off:off+n]) {
			t.Errorf("read at %d across segment 2: %d, %v", off, n, err)
		}
		if i := leakedAt(buf[n:]); i >= 0 {
			t.Fatalf("read at %d: plaintext left at %d", off, n+i)
		}
	}
	for name, c := range tampered(t, p, ct) {
		r, err := k.NewReaderAt(bytes.NewReader(c), int64(len(c)), nil)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrHeader) {
				t.Errorf("%s: NewReaderAt: %v", name, err)
			}
			continue
		}
		all := make([]byte, r.Size()+10)
		n, err := r.ReadAt(all, 0)
		if err == nil || err == io.EOF {
			t.Errorf("%s: ReadAt of everything: %d bytes, %v", name, n, err)
		}
		if !bytes.Equal(all[:n], pt[:n]) {
			t.Errorf("%s: returned bytes that are not the plaintext", name)
		}
	}
	// The size says where the last segment is: a ReaderAt over a prefix
	// of the right stream, claiming a shorter size, fails at the end.
	r, _ = k.NewReaderAt(bytes.NewReader(ct), int64(b[3]), nil)
	if n, err := r.ReadAt(make([]byte, r.Size()), 0); !errors.Is(err, ErrAuthentication) || n != s2 {
		t.Errorf("a stream cut at segment 3 claiming to end there: %d, %v", n, err)
	}
	// A ReaderAt whose data is shorter than the size it was given.
	r, _ = k.NewReaderAt(bytes.NewReader(ct[:len(ct)-5]), int64(len(ct)), nil)
	if _, err := r.ReadAt(make([]byte, 10), int64(len(pt)-3)); !errors.Is(err, ErrTruncated) {
		t.Errorf("data shorter than its size: %v", err)
	}
}

func TestSizes(t *testing.T) {
	for _, v := range variants {
		p := v.p
		if p.SegmentSize > 1<<16 {
			continue // the same arithmetic as the 4 KB variants, a million sizes more
		}
		prev := int64(-1)
		for n := int64(0); n < int64(4*p.SegmentSize); n++ {
			c, err := p.CiphertextSize(n)
			if err != nil {
				t.Fatal(err)
			}
			if c <= prev {
				t.Fatalf("%v: CiphertextSize(%d) = %d, not above %d", p, n, c, prev)
			}
			if back, err := p.PlaintextSize(c); err != nil || back != n {
				t.Fatalf("%v: PlaintextSize(CiphertextSize(%d) = %d) = %d, %v", p, n, c, back, err)
			}
			for d := prev + 1; d < c; d++ {
				// Sizes skipped over are the impossible ones (a last
				// segment shorter than a tag) and full segments followed
				// by an empty last one, which Tink's writer does not
				// make but its reader accepts, as this package does.
				got, err := p.PlaintextSize(d)
				if d > int64(p.SegmentSize) && d%int64(p.SegmentSize) == TagSize {
					if want, _ := p.PlaintextSize(d - TagSize); err != nil || got != want {
						t.Fatalf("%v: PlaintextSize(%d) = %d, %v; want %d", p, d, got, err, want)
					}
				} else if !errors.Is(err, ErrTruncated) {
					t.Fatalf("%v: PlaintextSize(%d) = %v, want ErrTruncated", p, d, err)
				}
			}
			prev = c
		}
	}
	if _, err := AES128GCMHKDF4KB.CiphertextSize(-1); err == nil {
		t.Error("negative size accepted")
	}
	// The 2^32-1 segments limit.
	p := AES128GCMHKDF4KB
	lastOK := p.ptStart(maxSegments-1) + int64(p.ptSeg())
	if _, err := p.CiphertextSize(lastOK); err != nil {
		t.Errorf("%d bytes (2^32-1 segments): %v", lastOK, err)
	}
	if _, err := p.CiphertextSize(lastOK + 1); !errors.Is(err, ErrTooManySegments) {
		t.Errorf("one byte more: %v, want ErrTooManySegments", err)
	}
	c, _ := p.CiphertextSize(lastOK)
	if _, err := p.PlaintextSize(c + 100); !errors.Is(err, ErrTooManySegments) {
		t.Errorf("a stream of 2^32 segments: %v", err)
	}
}

func TestParams(t *testing.T) {
	for _, p := range []Params{{16, 40}, {32, 56}, {24, 4096}, {0, 4096}, {16, 1 << 31}, {16, -1}} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v accepted", p)
		}
		if _, err := NewKey(make([]byte, 32), p); err == nil {
			t.Errorf("NewKey with %+v accepted", p)
		}
	}
	for _, p := range []Params{{16, 41}, {32, 57}, {16, 1<<31 - 1}, AES256GCMHKDF1MB} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	if _, err := NewKey(make([]byte, 31), AES256GCMHKDF4KB); err == nil {
		t.Error("a 31-byte main key for AES-256 accepted")
	}
	if _, err := NewKey(make([]byte, 15), Params{16, 4096}); err == nil {
		t.Error("a 15-byte main key accepted")
	}
	if h := AES256GCMHKDF4KB.HeaderSize(); h != 40 {
		t.Errorf("AES-256 header size %d", h)
	}
}

type failWriter struct {
	n     int // bytes accepted before failing
	short bool
}

var errSink = errors.New("sink full")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	n := f.n
	f.n = 0
	if f.short {
		return n, nil
	}
	return n, errSink
}

func TestWriterErrors(t *testing.T) {
	p := Params{16, 100}
	k := newKey(t, randBytes(16), p)
	if _, err := k.NewWriter(&failWriter{n: 10}, nil); !errors.Is(err, errSink) {
		t.Errorf("header write failure: %v", err)
	}
	w, err := k.NewWriter(&failWriter{n: 200}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 1000)); !errors.Is(err, errSink) {
		t.Errorf("Write: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, errSink) {
		t.Errorf("Write after a failure: %v", err)
	}
	if err := w.Close(); !errors.Is(err, errSink) {
		t.Errorf("Close after a failure: %v", err)
	}
	w, _ = k.NewWriter(&failWriter{n: 200, short: true}, nil)
	w.Write(make([]byte, 150))
	if err := w.Close(); err != io.ErrShortWrite {
		t.Errorf("short write: %v", err)
	}
	var buf bytes.Buffer
	w, _ = k.NewWriter(&buf, nil)
	w.Write([]byte("abc"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("d")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	k.Close()
	if _, err := k.NewWriter(&buf, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("NewWriter on a closed Key: %v", err)
	}
	if got, err := decrypt(t, newKey(t, make([]byte, 16), p), buf.Bytes(), nil, 10); err == nil {
		t.Errorf("read with another key: %q", got)
	}
}

func TestReaderErrors(t *testing.T) {
	p := Params{16, 100}
	k := newKey(t, randBytes(16), p)
	pt := plaintext(500)
	ct := encrypt(t, k, pt, nil, 0)
	errRead := errors.New("disk on fire")
	r, err := k.NewReader(io.MultiReader(bytes.NewReader(ct[:300]), iotest.ErrReader(errRead)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readChecked(t, r, 64)
	if !errors.Is(err, errRead) || !bytes.Equal(got, pt[:len(got)]) {
		t.Errorf("a failing source: %d bytes, %v", len(got), err)
	}
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, errRead) {
		t.Errorf("the failure is not sticky: %v", err)
	}
	if _, err := k.NewReader(bytes.NewReader(ct[:20]), nil); !errors.Is(err, ErrTruncated) {
		t.Errorf("short header: %v", err)
	}
	if _, err := k.NewReaderAt(bytes.NewReader(ct[:39]), 39, nil); !errors.Is(err, ErrTruncated) {
		t.Errorf("ReaderAt of a header and less than a tag: %v", err)
	}
	r, _ = k.NewReader(bytes.NewReader(ct), nil)
	r.Read(make([]byte, 10))
	r.Close()
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	ra, _ := k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), nil)
	if _, err := ra.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
	ra.Close()
	if _, err := ra.ReadAt(make([]byte, 1), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadAt after Close: %v", err)
	}
}

// TestSegmentLimit runs the writer and reader up to the last segment
// number a stream may use (2^32-2) by starting them near it.
func TestSegmentLimit(t *testing.T) {
	p := Params{16, 64}
	k := newKey(t, randBytes(16), p)
	var buf bytes.Buffer
	w, _ := k.NewWriter(&buf, nil)
	w.seg = maxSegments - 2
	if _, err := w.Write(make([]byte, p.ptSeg()+1)); err != nil {
		t.Fatalf("segment 2^32-3: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("segment 2^32-2: %v", err)
	}
	w, _ = k.NewWriter(&buf, nil)
	w.seg = maxSegments
	if err := w.Close(); !errors.Is(err, ErrTooManySegments) {
		t.Errorf("segment 2^32-1: %v", err)
	}
	r, err := k.NewReader(bytes.NewReader(buf.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.seg = maxSegments
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, ErrTooManySegments) {
		t.Errorf("reading segment 2^32-1: %v", err)
	}
}

// TestImplementations runs a stream on every aeskl implementation that
// runs here, against the default one both ways, and skips the others
// saying why (under klemu's full profile, every one must run).
func TestImplementations(t *testing.T) {
	pt := plaintext(10000)
	mk := randBytes(32)
	ref := newKey(t, mk, AES256GCMHKDF4KB)
	for _, impl := range []aeskl.Implementation{aeskl.Generic, aeskl.AESNISealed, aeskl.KeyLocker, aeskl.KeyLockerWide} {
		t.Run(impl.String(), func(t *testing.T) {
			k, err := NewKey(mk, AES256GCMHKDF4KB, aeskl.WithImplementation(impl))
			if err != nil {
				if klemutest.Inner() {
					t.Fatalf("%v under klemu's full profile: %v", impl, err)
				}
				t.Skipf("%v cannot run here (%v); TestUnderKlemu runs the Key Locker ones under the emulator", impl, err)
			}
			defer k.Close()
			// Reads of 4096 bytes go in turn; of 2 MiB, over a
			// bytes.Reader, by ReadAt on several goroutines.
			for _, rs := range []int{4096, 2 << 20} {
				ct := encrypt(t, k, pt, []byte("i"), 999)
				if got, err := decrypt(t, ref, ct, []byte("i"), rs); err != nil || !bytes.Equal(got, pt) {
					t.Errorf("%v wrote, the default read by %d: %v", impl, rs, err)
				}
				ct = encrypt(t, ref, pt, []byte("i"), 0)
				if got, err := decrypt(t, k, ct, []byte("i"), rs); err != nil || !bytes.Equal(got, pt) {
					t.Errorf("the default wrote, %v read by %d: %v", impl, rs, err)
				}
			}
		})
	}
}

// TestUnderKlemu runs TestImplementations again under the Key Locker
// emulator (its full profile), so that the README's test command writes
// and reads streams with the Key Locker implementations, on both read
// paths, on machines without Key Locker.
func TestUnderKlemu(t *testing.T) {
	if klemutest.Inner() {
		t.Skip("already running under klemu")
	}
	if runtime.GOARCH != "amd64" || strings.Contains(aeskl.Detect().Build, "purego") {
		t.Skipf("the Key Locker code is amd64 assembly and this build (%s) has none", aeskl.Detect().Build)
	}
	out := klemutest.RunSelf(t, []string{"--profile=full"}, "^TestImplementations$")
	klemutest.MustPass(t, out, "TestImplementations/keylocker", "TestImplementations/keylocker-wide")
}

// TestEmptyLastSegment reads a stream that ends in an empty segment after
// full ones: Tink's writer never makes one, but its reader accepts it, and
// so does this package.
func TestEmptyLastSegment(t *testing.T) {
	p := Params{16, 64}
	mk := randBytes(16)
	k := newKey(t, mk, p)
	salt, prefix := randBytes(16), randBytes(NoncePrefixSize)
	pt := plaintext(p.ptLimit(0) + p.ptSeg())
	g := refAEAD(t, mk, salt, nil)
	ct := cat([]byte{24}, salt, prefix)
	nonce := func(i byte, last byte) []byte { return cat(prefix, []byte{0, 0, 0, i, last}) }
	ct = g.Seal(ct, nonce(0, 0), pt[:p.ptLimit(0)], nil)
	ct = g.Seal(ct, nonce(1, 0), pt[p.ptLimit(0):], nil)
	ct = g.Seal(ct, nonce(2, 1), nil, nil)
	if got, err := decrypt(t, k, ct, nil, 7); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("Reader: %d bytes, %v", len(got), err)
	}
	r, err := k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(pt)+1)
	if n, err := r.ReadAt(buf, 0); n != len(pt) || err != io.EOF || !bytes.Equal(buf[:n], pt) {
		t.Errorf("ReaderAt: %d, %v", n, err)
	}
}

// closedCipher reports whether c refuses to work (it was closed).
func closedCipher(c *aeskl.Cipher) (closed bool) {
	defer func() { closed = recover() != nil }()
	var b [16]byte
	c.Encrypt(b[:], b[:])
	return false
}

// TestWriterAbort: a stream ended by Abort, whatever was written before,
// never reads as complete; Abort wipes the handle and the plaintext
// buffer, and the Writer refuses to go on.
func TestWriterAbort(t *testing.T) {
	p := Params{16, 4096}
	k := newKey(t, randBytes(16), p)
	for _, n := range []int{0, 1, p.ptLimit(0), p.ptLimit(0) + 1, 3 * p.ptSeg(), 600 << 10} {
		pt := plaintext(n)
		var buf bytes.Buffer
		w, err := k.NewWriter(&buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := w.Write(pt); m != n || err != nil {
			t.Fatalf("Write: %d, %v", m, err)
		}
		w.Abort()
		if !closedCipher(w.c) || w.buf != nil {
			t.Errorf("%d bytes: Abort left the handle or the plaintext buffer", n)
		}
		if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
			t.Errorf("%d bytes: Write after Abort: %v", n, err)
		}
		if err := w.Close(); !errors.Is(err, ErrClosed) {
			t.Errorf("%d bytes: Close after Abort: %v", n, err)
		}
		w.Abort()
		got, err := decrypt(t, k, buf.Bytes(), nil, 4096)
		if !errors.Is(err, ErrAuthentication) && !errors.Is(err, ErrTruncated) {
			t.Errorf("%d bytes, aborted: read %d bytes, %v; want a failure", n, len(got), err)
		}
		if !bytes.Equal(got, pt[:len(got)]) {
			t.Errorf("%d bytes, aborted: read bytes that were not written", n)
		}
		r, err := k.NewReaderAt(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
		if err == nil {
			_, err = r.ReadAt(make([]byte, n+1), 0)
		}
		if !errors.Is(err, ErrAuthentication) && !errors.Is(err, ErrTruncated) {
			t.Errorf("%d bytes, aborted: ReaderAt: %v; want a failure", n, err)
		}
	}
	// After Close, Abort changes nothing.
	var buf bytes.Buffer
	w, _ := k.NewWriter(&buf, nil)
	w.Write([]byte("abc"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if err := w.Close(); err != nil {
		t.Errorf("Close after Close and Abort: %v", err)
	}
	if got, err := decrypt(t, k, buf.Bytes(), nil, 10); err != nil || string(got) != "abc" {
		t.Errorf("closed, then Abort: %q, %v", got, err)
	}
}

// gateReader gives the first n bytes of r, then blocks until release is
// closed.
type gateReader struct {
	r       io.Reader
	n       int
	release chan struct{}
}

func (g *gateReader) Read(p []byte) (int, error) {
	if g.n == 0 {
		<-g.release
		return g.r.Read(p)
	}
	m, err := g.r.Read(p[:min(len(p), g.n)])
	g.n -= m
	return m, err
}

// TestReaderReturnsWhatItHas: a Read with room for many rounds returns
// the round it has authenticated without starting a read that would wait
// for more input (a slow pipe), and the rest follows once it comes: with
// small segments a round of them, with segments larger than a round one.
func TestReaderReturnsWhatItHas(t *testing.T) {
	for _, p := range []Params{{16, 4096}, {16, 1 << 20}} {
		t.Run(fmt.Sprint(p.SegmentSize), func(t *testing.T) { testReaderReturnsWhatItHas(t, p) })
	}
}

func testReaderReturnsWhatItHas(t *testing.T, p Params) {
	k := newKey(t, randBytes(16), p)
	pt := plaintext(3 * p.readSegments() * p.ptSeg())
	ct := encrypt(t, k, pt, nil, 0)
	round := p.readSegments()
	// The header, one round and the byte after it (the Reader reads one
	// byte ahead to see where the stream ends).
	avail := int(p.ctStart(uint64(round))) + 1
	g := &gateReader{r: bytes.NewReader(ct), n: avail, release: make(chan struct{})}
	released := false
	defer func() {
		if !released {
			close(g.release)
		}
	}()
	r, err := k.NewReader(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	buf := make([]byte, len(pt)+100)
	go func() {
		n, err := r.Read(buf)
		done <- result{n, err}
	}()
	select {
	case res := <-done:
		if want := int(p.ptStart(uint64(round))); res.n != want || res.err != nil || !bytes.Equal(buf[:res.n], pt[:want]) {
			t.Fatalf("Read: %d, %v; want the %d bytes of the first round", res.n, res.err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read holds an authenticated round back, waiting for more input")
	}
	close(g.release)
	released = true
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(rest, pt[p.ptStart(uint64(round)):]) {
		t.Errorf("the rest: %d bytes, %v", len(rest), err)
	}
}

// TestWriterCount: a Write that fails counts only bytes of its argument
// whose segments reached the underlying writer whole, on every path
// (sealed in rounds, into the sink's buffer or not, or segment by segment
// from small writes).
func TestWriterCount(t *testing.T) {
	p := Params{16, 4096}
	k := newKey(t, randBytes(16), p)
	pt := plaintext(3 << 20)
	for _, accept := range []int{p.HeaderSize(), p.HeaderSize() + 5000, 700 << 10, 2 << 20} {
		// The plaintext of the segments the sink takes whole.
		whole := 0
		for s := uint64(1); p.ctStart(s) <= int64(accept); s++ {
			whole = int(p.ptStart(s))
		}
		for _, chunk := range []int{len(pt), 100_000, 1000} {
			for _, short := range []bool{false, true} {
				for _, roomy := range []bool{false, true} {
					name := fmt.Sprintf("sink taking %d bytes (short %v, AvailableBuffer %v), writes of %d", accept, short, roomy, chunk)
					var sink io.Writer = &failWriter{n: accept, short: short}
					if roomy {
						// Sealed straight into the free space of the
						// writer that fails.
						b := &bufferedFail{fail: sink}
						b.Grow(4 << 20)
						sink = b
					}
					w, err := k.NewWriter(sink, nil)
					if err != nil {
						t.Fatal(err)
					}
					off, n := 0, 0
					var werr error
					for ; off < len(pt); off += chunk {
						want := min(chunk, len(pt)-off)
						if n, werr = w.Write(pt[off : off+want]); werr != nil {
							break
						}
						if n != want {
							t.Fatalf("%s: Write of %d: %d, nil", name, want, n)
						}
					}
					if werr == nil {
						t.Fatalf("%s: no error", name)
					}
					// At most the segments the sink took whole; at least
					// those before the round (and segment) being written.
					if n < 0 || n > max(0, whole-off) || n < whole-off-(p.roundSegments()+1)*p.ptSeg() {
						t.Errorf("%s: the failing Write (at byte %d) counted %d bytes; the sink took segments up to byte %d", name, off, n, whole)
					}
				}
			}
		}
	}
}

// bufferedFail is a bytes.Buffer (whose AvailableBuffer the Writer seals
// into) that passes every Write on to fail first and takes what fail
// took, with its error.
type bufferedFail struct {
	bytes.Buffer
	fail io.Writer
}

func (b *bufferedFail) Write(p []byte) (int, error) {
	n, err := b.fail.Write(p)
	b.Buffer.Write(p[:n])
	return n, err
}

// TestConcurrentClose: Close of a Key or a ReaderAt while other goroutines
// use it (run it under -race): every call either works or fails with
// ErrClosed.
func TestConcurrentClose(t *testing.T) {
	p := Params{16, 4096}
	for range 20 {
		k, err := NewKey(randBytes(16), p)
		if err != nil {
			t.Fatal(err)
		}
		pt := plaintext(20000)
		ct := encrypt(t, k, pt, nil, 0)
		ra, err := k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for range 5 {
					var err error
					if g%2 == 0 {
						var w *Writer
						if w, err = k.NewWriter(io.Discard, nil); err == nil {
							w.Close()
						}
					} else {
						buf := make([]byte, 5000)
						var n int
						if n, err = ra.ReadAt(buf, 7000); err == nil && !bytes.Equal(buf[:n], pt[7000:12000]) {
							t.Error("ReadAt returned other bytes")
						}
					}
					if err != nil && !errors.Is(err, ErrClosed) {
						t.Errorf("a call alongside Close: %v", err)
					}
				}
			})
		}
		k.Close()
		ra.Close()
		wg.Wait()
	}
}

// countingReaderAt counts the ReadAt calls on an io.ReaderAt and can end
// it early (reads past cut come back short, with io.EOF).
type countingReaderAt struct {
	r     io.ReaderAt
	calls atomic.Int64
	cut   int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.calls.Add(1)
	if off+int64(len(p)) > c.cut {
		n, _ := c.r.ReadAt(p[:max(0, c.cut-off)], off)
		return n, io.EOF
	}
	return c.r.ReadAt(p, off)
}

// TestReaderAtRuns: a ReadAt over many whole segments reads them with one
// underlying ReadAt per round (not one per segment), and when the
// underlying reader comes back short inside a run, the plaintext of the
// segments before the cut is returned with ErrTruncated.
func TestReaderAtRuns(t *testing.T) {
	p := AES128GCMHKDF4KB
	k := newKey(t, randBytes(16), p)
	pt := plaintext(300*p.ptSeg() + 100)
	ct := encrypt(t, k, pt, nil, 0)
	cr := &countingReaderAt{r: bytes.NewReader(ct), cut: int64(len(ct))}
	r, err := k.NewReaderAt(cr, int64(len(ct)), nil)
	if err != nil {
		t.Fatal(err)
	}
	cr.calls.Store(0)
	buf := make([]byte, len(pt))
	if n, err := r.ReadAt(buf, 0); n != len(pt) || err != nil || !bytes.Equal(buf, pt) {
		t.Fatalf("ReadAt of everything: %d, %v", n, err)
	}
	if c, most := cr.calls.Load(), int64(301/p.readSegments()+2); c > most {
		t.Errorf("ReadAt of 301 segments: %d reads of the underlying reader, want at most %d", c, most)
	}
	// Cut inside segment 200 (in the second run).
	cut := p.ctStart(200) + 100
	cr2 := &countingReaderAt{r: bytes.NewReader(ct), cut: cut}
	r2, err := k.NewReaderAt(cr2, int64(len(ct)), nil)
	if err != nil {
		t.Fatal(err)
	}
	clear(buf)
	n, err := r2.ReadAt(buf, 0)
	if want := int(p.ptStart(200)); n != want || !errors.Is(err, ErrTruncated) || !bytes.Equal(buf[:n], pt[:n]) {
		t.Errorf("a reader cut in segment 200: %d bytes (want %d), %v", n, want, err)
	}
}
