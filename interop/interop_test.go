package interop

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/aeskl/stream"
	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"
)

// variant is one parameter set, on both sides: Tink's subtle API takes
// the main key, the HKDF hash, the derived key size, the ciphertext
// segment size and the first segment's offset (0: the header only).
type variant struct {
	name   string
	p      stream.Params
	keyLen int // main key
}

var variants = []variant{
	{"AES128_GCM_HKDF_4KB", stream.AES128GCMHKDF4KB, 16},
	{"AES256_GCM_HKDF_4KB", stream.AES256GCMHKDF4KB, 32},
	{"AES128_GCM_HKDF_1MB", stream.AES128GCMHKDF1MB, 16},
	{"AES256_GCM_HKDF_1MB", stream.AES256GCMHKDF1MB, 32},
	{"AES128/segment-41/main-key-32", stream.Params{KeySize: 16, SegmentSize: 41}, 32},
	{"AES256/segment-57", stream.Params{KeySize: 32, SegmentSize: 57}, 32},
	{"AES256/segment-1000/main-key-40", stream.Params{KeySize: 32, SegmentSize: 1000}, 40},
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func keys(t testing.TB, v variant, mk []byte) (*stream.Key, *subtle.AESGCMHKDF) {
	t.Helper()
	k, err := stream.NewKey(mk, v.p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	tk, err := subtle.NewAESGCMHKDF(mk, "SHA256", v.p.KeySize, v.p.SegmentSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	return k, tk
}

// sizes are the plaintext sizes of the interoperability tests: 0, 1,
// around the first segment's end, the segment size - 1, exact multiples
// of the plaintext and the ciphertext segment sizes, and several MiB.
func sizes(p stream.Params) []int {
	h, full := p.HeaderSize(), p.SegmentSize-stream.TagSize
	s := []int{0, 1, full - h - 1, full - h, full - h + 1, p.SegmentSize - 1, full, 2 * full, 2*full - h, 3*full - h, p.SegmentSize, 3 * p.SegmentSize}
	if p.SegmentSize <= 4096 {
		s = append(s, 3<<20+7)
	} else {
		s = append(s, 5<<20+3)
	}
	return s
}

func tinkEncrypt(t testing.TB, tk *subtle.AESGCMHKDF, pt, ad []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := tk.NewEncryptingWriter(&buf, ad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pt); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tinkDecrypt(tk *subtle.AESGCMHKDF, ct, ad []byte) ([]byte, error) {
	r, err := tk.NewDecryptingReader(bytes.NewReader(ct), ad)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func encrypt(t testing.TB, k *stream.Key, pt, ad []byte, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := k.NewWriter(&buf, ad)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(pt); off += chunk {
		if _, err := w.Write(pt[off:min(off+chunk, len(pt))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const poison = 0xAA

// plaintext returns n bytes that are neither poison nor zero.
func plaintext(n int) []byte {
	b := randBytes(n)
	for i := range b {
		b[i] = 1 + b[i]%0xA9
	}
	return b
}

// readChecked reads r to the end into poisoned buffers and fails the test
// if a Read leaves anything but poison or zeros beyond what it returned:
// plaintext that did not authenticate.
func readChecked(t testing.TB, r io.Reader, bufSize int) ([]byte, error) {
	t.Helper()
	var out []byte
	p := make([]byte, bufSize)
	for {
		for i := range p {
			p[i] = poison
		}
		n, err := r.Read(p)
		for i := n; i < len(p); i++ {
			if p[i] != poison && p[i] != 0 {
				t.Fatalf("Read returned %d bytes, %v, and left plaintext at p[%d]", n, err, i)
			}
		}
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func decrypt(t testing.TB, k *stream.Key, ct, ad []byte, bufSize int) ([]byte, error) {
	t.Helper()
	r, err := k.NewReader(bytes.NewReader(ct), ad)
	if err != nil {
		return nil, err
	}
	return readChecked(t, r, bufSize)
}

// TestStreamReadsTink: Tink writes, aeskl/stream reads (Reader and
// ReaderAt), for every variant and size, with and without associated data.
func TestStreamReadsTink(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			k, tk := keys(t, v, randBytes(v.keyLen))
			for _, n := range sizes(v.p) {
				for _, ad := range [][]byte{nil, []byte("associated data")} {
					pt := plaintext(n)
					ct := tinkEncrypt(t, tk, pt, ad)
					if want, _ := v.p.CiphertextSize(int64(n)); int64(len(ct)) != want {
						t.Errorf("%d bytes: Tink wrote %d bytes, CiphertextSize says %d", n, len(ct), want)
					}
					got, err := decrypt(t, k, ct, ad, 64<<10)
					if err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("%d bytes, ad %q: read %d bytes, %v", n, ad, len(got), err)
					}
					ra, err := k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), ad)
					if err != nil {
						t.Fatal(err)
					}
					buf := make([]byte, n+1)
					if m, err := ra.ReadAt(buf, 0); m != n || err != io.EOF || !bytes.Equal(buf[:m], pt) {
						t.Fatalf("%d bytes: ReadAt %d, %v", n, m, err)
					}
					if n > 10 {
						if m, err := ra.ReadAt(buf[:n/2], int64(n/3)); m != n/2 || err != nil || !bytes.Equal(buf[:m], pt[n/3:n/3+n/2]) {
							t.Fatalf("%d bytes: ReadAt of the middle: %d, %v", n, m, err)
						}
					}
				}
			}
		})
	}
}

// TestTinkReadsStream: aeskl/stream writes (in odd chunks), Tink reads.
func TestTinkReadsStream(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			k, tk := keys(t, v, randBytes(v.keyLen))
			for _, n := range sizes(v.p) {
				for _, ad := range [][]byte{nil, []byte("associated data")} {
					pt := plaintext(n)
					for _, chunk := range []int{max(n, 1), 1000} {
						ct := encrypt(t, k, pt, ad, chunk)
						got, err := tinkDecrypt(tk, ct, ad)
						if err != nil || !bytes.Equal(got, pt) {
							t.Fatalf("%d bytes in chunks of %d, ad %q: Tink read %d bytes, %v", n, chunk, ad, len(got), err)
						}
					}
				}
			}
		})
	}
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// modified returns modified copies of a stream of at least four segments.
func modified(p stream.Params, ct []byte) map[string][]byte {
	h := p.HeaderSize()
	b := []int{h}
	for off := p.SegmentSize; off < len(ct); off += p.SegmentSize {
		b = append(b, off)
	}
	b = append(b, len(ct))
	seg := func(i int) []byte { return ct[b[i]:b[i+1]] }
	hdr := ct[:h]
	flip := func(off int) []byte {
		c := bytes.Clone(ct)
		c[off] ^= 0x10
		return c
	}
	last := len(b) - 2
	return map[string][]byte{
		"truncated inside the header":  ct[:h-1],
		"truncated to the header":      hdr,
		"truncated by one byte":        ct[:len(ct)-1],
		"last segment dropped":         ct[:b[last]],
		"truncated inside segment 1":   ct[:b[1]+50],
		"segment 1 dropped":            cat(hdr, seg(0), seg(2), seg(3)),
		"segments 1 and 2 reordered":   cat(hdr, seg(0), seg(2), seg(1), seg(3)),
		"segment 2 duplicated":         cat(hdr, seg(0), seg(1), seg(2), seg(2), seg(3)),
		"last segment duplicated":      cat(ct, seg(last)),
		"data appended":                cat(ct, []byte("x")),
		"header length bit flipped":    flip(0),
		"salt bit flipped":             flip(3),
		"nonce prefix bit flipped":     flip(h - 2),
		"segment 0 bit flipped":        flip(b[0] + 1),
		"segment 2 bit flipped":        flip(b[2] + 30),
		"last segment tag bit flipped": flip(len(ct) - 1),
	}
}

// TestTinkTamper: each modification of a stream that Tink wrote is an
// error for aeskl/stream, with only the plaintext of the segments before
// the damage returned; the same modifications of a stream that
// aeskl/stream wrote are errors for Tink. A wrong key or associated data
// fails on both sides.
func TestTinkTamper(t *testing.T) {
	for _, v := range []variant{variants[0], variants[1], variants[6]} {
		t.Run(v.name, func(t *testing.T) {
			k, tk := keys(t, v, randBytes(v.keyLen))
			ad := []byte("ad")
			full := v.p.SegmentSize - stream.TagSize
			pt := plaintext(4*full - v.p.HeaderSize() - 100) // four segments
			for name, c := range modified(v.p, tinkEncrypt(t, tk, pt, ad)) {
				got, err := decrypt(t, k, c, ad, 1<<16)
				if err == nil {
					t.Errorf("Tink's stream, %s: read without error", name)
				} else if !bytes.Equal(got, pt[:len(got)]) {
					t.Errorf("Tink's stream, %s: returned bytes that are not the plaintext", name)
				}
				if len(got) > 0 && len(got)%full != full-v.p.HeaderSize() {
					t.Errorf("Tink's stream, %s: %d bytes returned, not whole segments", name, len(got))
				}
			}
			for name, c := range modified(v.p, encrypt(t, k, pt, ad, 777)) {
				if _, err := tinkDecrypt(tk, c, ad); err == nil {
					t.Errorf("aeskl/stream's stream, %s: Tink read it without error", name)
				}
			}
			other, otherTink := keys(t, v, randBytes(v.keyLen))
			ct := tinkEncrypt(t, tk, pt, ad)
			mine := encrypt(t, k, pt, ad, 1<<20)
			for name, f := range map[string]func() error{
				"wrong key (Tink wrote)": func() error { _, err := decrypt(t, other, ct, ad, 4096); return err },
				"wrong ad (Tink wrote)":  func() error { _, err := decrypt(t, k, ct, []byte("da"), 4096); return err },
				"no ad (Tink wrote)":     func() error { _, err := decrypt(t, k, ct, nil, 4096); return err },
				"wrong key (Tink read)":  func() error { _, err := tinkDecrypt(otherTink, mine, ad); return err },
				"wrong ad (Tink read)":   func() error { _, err := tinkDecrypt(tk, mine, []byte("da")); return err },
			} {
				err := f()
				if err == nil {
					t.Errorf("%s: no error", name)
				} else if !errors.Is(err, stream.ErrAuthentication) && !strings.Contains(err.Error(), "message authentication failed") {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
}
