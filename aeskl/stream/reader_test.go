package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

// readerFixture is a stream of 12 segments of 256 bytes (the last one
// short) and a Reader of it.
func readerFixture(t *testing.T) (Params, *Key, []byte, []byte) {
	t.Helper()
	p := Params{16, 256}
	k := newKey(t, randBytes(16), p)
	pt := plaintext(int(p.ptStart(11)) + 100)
	return p, k, pt, encrypt(t, k, pt, nil, 0)
}

// readOnce makes a Reader of ct and Reads once into a poisoned buffer of
// the given size. It fails the test if p beyond what Read returned holds
// anything but poison and zeros, or any byte of the plaintext at its
// offset.
func readOnce(t *testing.T, k *Key, ct, pt []byte, size int) (*Reader, []byte, error) {
	t.Helper()
	r, err := k.NewReader(bytes.NewReader(ct), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := bytes.Repeat([]byte{poison}, size)
	n, err := r.Read(p)
	checkBeyond(t, p, pt, n)
	return r, p[:n], err
}

func checkBeyond(t *testing.T, p, pt []byte, n int) {
	t.Helper()
	if i := leakedAt(p[n:]); i >= 0 {
		t.Fatalf("Read returned %d bytes and left p[%d] = %#x", n, n+i, p[n+i])
	}
	for i := n; i < min(len(p), len(pt)); i++ {
		if p[i] == pt[i] {
			t.Fatalf("Read returned %d bytes and left the plaintext byte at p[%d]", n, i)
		}
	}
}

// TestReaderReadSizes: Reads into buffers that fit k segments and a few
// bytes more or less return the plaintext of the whole segments that
// fit (or, with room for less than one, part of the first), and the rest
// follows.
func TestReaderReadSizes(t *testing.T) {
	p, k, pt, ct := readerFixture(t)
	for _, segs := range []int{1, 2, 5, 11} {
		for _, d := range []int{-1, 0, 1, 16, 17, 18} {
			size := int(p.ptStart(uint64(segs))) + d
			t.Run(fmt.Sprintf("%d-segments%+d", segs, d), func(t *testing.T) {
				r, got, err := readOnce(t, k, ct, pt, size)
				whole := segs
				if d < 0 {
					whole--
				}
				want := int(p.ptStart(uint64(whole)))
				if whole == 0 {
					want = size // part of segment 0, the rest kept for the next Read
				}
				if err != nil || !bytes.Equal(got, pt[:want]) {
					t.Fatalf("Read: %d bytes, %v; want %d bytes of plaintext", len(got), err, want)
				}
				rest, err := readChecked(t, r, size)
				if err != nil || !bytes.Equal(append(got, rest...), pt) {
					t.Errorf("the rest: %d bytes, %v", len(rest), err)
				}
			})
		}
	}
}

// TestReaderTamperMidRead: a segment that fails in the middle of a Read
// with room for several segments leaves the caller exactly the plaintext
// of the segments before it, and no plaintext of it or of later segments
// beyond that; the next Read returns the error.
func TestReaderTamperMidRead(t *testing.T) {
	p, k, pt, ct := readerFixture(t)
	for _, bad := range []int{0, 1, 3, 5} {
		for _, where := range []string{"ciphertext", "tag"} {
			c := bytes.Clone(ct)
			if where == "tag" {
				c[p.ctStart(uint64(bad+1))-1] ^= 0x10
			} else {
				c[p.ctStart(uint64(bad))+40] ^= 2
			}
			for _, d := range []int{0, 16, 17, 1000} {
				size := int(p.ptStart(6)) + d
				t.Run(fmt.Sprintf("segment-%d-%s/read-%d", bad, where, size), func(t *testing.T) {
					r, got, err := readOnce(t, k, c, pt, size)
					want := int(p.ptStart(uint64(bad)))
					if !bytes.Equal(got, pt[:want]) {
						t.Fatalf("Read: %d bytes, want the %d of the segments before segment %d", len(got), want, bad)
					}
					if want > 0 {
						if err != nil {
							t.Fatalf("Read: %d bytes and %v", len(got), err)
						}
						q := bytes.Repeat([]byte{poison}, size)
						var n int
						n, err = r.Read(q)
						checkBeyond(t, q, pt[want:], n)
						if n != 0 {
							t.Fatalf("Read after the segments before the failure: %d bytes", n)
						}
					}
					if !errors.Is(err, ErrAuthentication) {
						t.Fatalf("%v, want ErrAuthentication", err)
					}
				})
			}
		}
	}
}

// TestReaderTruncatedMidRead: a stream that ends inside a Read with room
// for all of it gives exactly the segments that authenticated before that
// point, and then the error; one whose reader fails there gives at most
// those (a prefix ending at a segment boundary), and then the read error.
func TestReaderTruncatedMidRead(t *testing.T) {
	p, k, pt, ct := readerFixture(t)
	errRead := errors.New("disk on fire")
	for _, cut := range []int{0, 1, 15, 16, 17, 100, 255} {
		end := int(p.ctStart(3)) + cut
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprintf("segment-3+%d/read-error-%v", cut, fail), func(t *testing.T) {
				var src io.Reader = bytes.NewReader(ct[:end])
				if fail {
					src = io.MultiReader(src, iotest.ErrReader(errRead))
				}
				r, err := k.NewReader(src, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := readChecked(t, r, len(pt)+1000)
				// Segment 3 is what the stream ends in: authenticated
				// as the last segment it fails, and so does segment 2
				// when the stream ends right after it. A segment whose
				// next byte did not come is not returned either.
				whole := 3
				if cut == 0 {
					whole = 2
				}
				switch {
				case fail && !errors.Is(err, errRead),
					!fail && !errors.Is(err, ErrAuthentication) && !errors.Is(err, ErrTruncated):
					t.Errorf("error %v", err)
				}
				want := int(p.ptStart(uint64(whole)))
				if fail {
					for i := range whole + 1 {
						if len(got) == int(p.ptStart(uint64(i))) {
							want = len(got)
						}
					}
				}
				if !bytes.Equal(got, pt[:want]) {
					t.Errorf("%d bytes, want the %d of segments 0 to %d (with a read error, or of fewer)", len(got), int(p.ptStart(uint64(whole))), whole-1)
				}
			})
		}
	}
}
