package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
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

// atReader is a bytes.Reader (an io.ReaderAt and io.Seeker) that counts
// its ReadAt calls; readOnly hides everything but Read; noSeek's Seek
// fails, as a pipe's does.
type atReader struct {
	*bytes.Reader
	calls atomic.Int64
	delay time.Duration // each ReadAt takes at least this long
	in    atomic.Int64  // ReadAts under way
	most  atomic.Int64  // the most under way at once
}

func (a *atReader) ReadAt(p []byte, off int64) (int, error) {
	a.calls.Add(1)
	in := a.in.Add(1)
	defer a.in.Add(-1)
	for {
		m := a.most.Load()
		if in <= m || a.most.CompareAndSwap(m, in) {
			break
		}
	}
	time.Sleep(a.delay)
	return a.Reader.ReadAt(p, off)
}

type readOnly struct{ io.Reader }

type noSeek struct{ *atReader }

func (noSeek) Seek(int64, int) (int64, error) { return 0, errors.New("illegal seek") }

// procsFor sets GOMAXPROCS for the test: the ReadAt path of a Reader
// runs only above 1.
func procsFor(t *testing.T, n int) {
	old := runtime.GOMAXPROCS(n)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
}

// readAtParams has rounds of two segments: a Read of two rounds (four
// segments) takes the ReadAt path with a small stream.
var readAtParams = Params{16, 256 << 10}

// TestReaderReadAtPath: over a reader that is also an io.ReaderAt and
// io.Seeker, Reads with room for two rounds or more read with ReadAt (the
// calls are counted) and give the same plaintext as over a plain
// io.Reader, for every read size (small and large Reads mixed, so that
// the Reader goes from one way to the other with a byte read ahead or
// not, reading in turn after reading with ReadAt), a stream that starts
// inside its reader; the reader's offset ends after the stream. A reader
// whose Seek fails is read in turn.
func TestReaderReadAtPath(t *testing.T) {
	procsFor(t, 2)
	p := readAtParams
	k := newKey(t, randBytes(16), p)
	round := 2 * p.ptSeg()
	for _, size := range []int{0, 1, p.ptLimit(0), p.ptLimit(0) + 4*p.ptSeg(), 3<<20 + 17} {
		pt := plaintext(size)
		ct := encrypt(t, k, pt, nil, 0)
		junk := randBytes(1000)
		for _, reads := range [][]int{{2 * round}, {4<<20 + 3}, {100, 2 * round, 2 * round, 1000, 3 * round, 3 * round}, {p.ptSeg() + 1, 2*round - 1, 2 * round}, {2 * round, 100}, {2 * round, p.ptSeg() + 5}} {
			t.Run(fmt.Sprintf("%d-bytes/reads-%v", size, reads), func(t *testing.T) {
				src := &atReader{Reader: bytes.NewReader(append(bytes.Clone(junk), ct...))}
				if _, err := src.Seek(int64(len(junk)), io.SeekStart); err != nil {
					t.Fatal(err)
				}
				got := readMixed(t, k, src, reads)
				if !bytes.Equal(got, pt) {
					t.Fatalf("%d bytes, want the %d of the plaintext", len(got), len(pt))
				}
				if size > 4*p.ptSeg() && src.calls.Load() == 0 {
					t.Error("no ReadAt: the ReadAt path was not taken")
				}
				if off, _ := src.Seek(0, io.SeekCurrent); off != int64(len(junk)+len(ct)) {
					t.Errorf("the reader's offset is %d, its end %d", off, len(junk)+len(ct))
				}
				plain := readMixed(t, k, readOnly{bytes.NewReader(ct)}, reads)
				failing := &atReader{Reader: bytes.NewReader(ct)}
				if got := readMixed(t, k, noSeek{failing}, reads); !bytes.Equal(got, pt) || !bytes.Equal(plain, pt) || failing.calls.Load() != 0 {
					t.Error("a plain io.Reader or one whose Seek fails: wrong plaintext, or ReadAt called")
				}
			})
		}
	}
}

// readMixed reads a stream to its end with Reads of the given sizes in
// turn, round and round, each checked by readChecked's rules.
func readMixed(t *testing.T, k *Key, src io.Reader, reads []int) []byte {
	t.Helper()
	r, err := k.NewReader(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for i := 0; ; i++ {
		size := reads[i%len(reads)]
		buf := bytes.Repeat([]byte{poison}, size)
		n, err := r.Read(buf)
		checkBeyond(t, buf, nil, n)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if i > 1<<20 {
			t.Fatal("no end")
		}
	}
}

// TestReaderReadAtTamper: every modification of TestTamper, read with
// Reads of two rounds or more: the ReadAt path returns the same
// authenticated prefix as reading in turn, then an error of the same
// kind, and leaves nothing else in p.
func TestReaderReadAtTamper(t *testing.T) {
	procsFor(t, 2)
	p := readAtParams
	k := newKey(t, randBytes(16), p)
	pt := plaintext(p.ptLimit(0) + 3*p.ptSeg() - 17)
	ct := encrypt(t, k, pt, nil, 0)
	for name, c := range tampered(t, p, ct) {
		for _, rs := range []int{4 * p.ptSeg(), 2 * len(pt)} {
			src := &atReader{Reader: bytes.NewReader(c)}
			var got, want []byte
			var err, wantErr error
			if r, err1 := k.NewReader(src, nil); err1 != nil {
				err = err1
			} else {
				got, err = readChecked(t, r, rs)
			}
			if r, err1 := k.NewReader(readOnly{bytes.NewReader(c)}, nil); err1 != nil {
				wantErr = err1
			} else {
				want, wantErr = readChecked(t, r, rs)
			}
			if !bytes.Equal(got, want) || !bytes.Equal(got, pt[:len(got)]) {
				t.Errorf("%s, reads of %d: %d bytes, reading in turn %d", name, rs, len(got), len(want))
			}
			for _, e := range []error{ErrAuthentication, ErrTruncated, ErrHeader} {
				if errors.Is(err, e) != errors.Is(wantErr, e) {
					t.Errorf("%s, reads of %d: %v, reading in turn %v", name, rs, err, wantErr)
				}
			}
			if err == nil {
				t.Errorf("%s, reads of %d: no error", name, rs)
			}
		}
	}
}

// TestReaderAtParallel: a ReadAt over many runs (run on two goroutines)
// with a failed segment in a middle run returns exactly the plaintext
// before that segment and leaves nothing of it or of the runs after it
// in p.
func TestReaderAtParallel(t *testing.T) {
	procsFor(t, 2)
	p := Params{16, 4096}
	k := newKey(t, randBytes(16), p)
	pt := plaintext(3 << 20)
	ct := encrypt(t, k, pt, nil, 0)
	for _, bad := range []uint64{1, 300, 400, p.segments(int64(len(pt))) - 1} {
		c := bytes.Clone(ct)
		c[p.ctStart(bad)+10] ^= 1
		src := &atReader{Reader: bytes.NewReader(c)}
		r, err := k.NewReaderAt(src, int64(len(c)), nil)
		if err != nil {
			t.Fatal(err)
		}
		buf := bytes.Repeat([]byte{poison}, len(pt))
		n, err := r.ReadAt(buf, 0)
		if want := int(p.ptStart(bad)); n != want || !errors.Is(err, ErrAuthentication) || !bytes.Equal(buf[:n], pt[:n]) {
			t.Errorf("segment %d changed: %d bytes, %v; want %d bytes and ErrAuthentication", bad, n, err, want)
		}
		checkBeyond(t, buf, pt, n)
		if bad == 400 && src.calls.Load() < 2 {
			t.Errorf("%d ReadAt calls for a 3 MiB range", src.calls.Load())
		}
	}
}

// TestReaderReadAtEnds: on the ReadAt path, an empty stream and a stream
// whose last segment is empty after full ones (which Tink's reader
// accepts) read whole, and with the wrong associated data fail with
// ErrAuthentication: the empty last segment is authenticated too.
func TestReaderReadAtEnds(t *testing.T) {
	procsFor(t, 2)
	p := readAtParams
	mk := randBytes(16)
	k := newKey(t, mk, p)
	salt, prefix := randBytes(16), randBytes(NoncePrefixSize)
	pt := plaintext(p.ptLimit(0) + p.ptSeg())
	g := refAEAD(t, mk, salt, []byte("ad"))
	emptyLast := cat([]byte{24}, salt, prefix)
	nonce := func(i byte, last byte) []byte { return cat(prefix, []byte{0, 0, 0, i, last}) }
	emptyLast = g.Seal(emptyLast, nonce(0, 0), pt[:p.ptLimit(0)], nil)
	emptyLast = g.Seal(emptyLast, nonce(1, 0), pt[p.ptLimit(0):], nil)
	emptyLast = g.Seal(emptyLast, nonce(2, 1), nil, nil)
	for name, c := range map[string]struct{ ct, pt []byte }{
		"empty stream":       {encrypt(t, k, nil, []byte("ad"), 0), nil},
		"empty last segment": {emptyLast, pt},
	} {
		for _, ad := range []string{"ad", "other"} {
			src := &atReader{Reader: bytes.NewReader(c.ct)}
			r, err := k.NewReader(src, []byte(ad))
			if err != nil {
				t.Fatal(err)
			}
			got, err := readChecked(t, r, 4<<20)
			switch {
			case src.calls.Load() == 0:
				t.Errorf("%s, ad %q: the ReadAt path was not taken", name, ad)
			case ad == "ad" && (err != nil || !bytes.Equal(got, c.pt)):
				t.Errorf("%s: %d bytes, %v", name, len(got), err)
			case ad != "ad" && (!errors.Is(err, ErrAuthentication) || len(got) != 0):
				t.Errorf("%s, wrong ad: %d bytes, %v; want ErrAuthentication", name, len(got), err)
			}
		}
	}
}

// failingAt is a bytes.Reader whose ReadAt always fails, or whose Seek
// fails from its failSeek-th call on.
type failingAt struct {
	*bytes.Reader
	readAtFails bool
	seeks       int
	failSeek    int
}

func (f *failingAt) ReadAt(b []byte, off int64) (int, error) {
	if f.readAtFails {
		return 0, errors.New("ReadAt not supported")
	}
	return f.Reader.ReadAt(b, off)
}

func (f *failingAt) Seek(off int64, whence int) (int64, error) {
	f.seeks++
	if f.failSeek > 0 && f.seeks >= f.failSeek {
		return 0, errors.New("seek failed")
	}
	return f.Reader.Seek(off, whence)
}

// TestReaderReadAtFails: a source whose ReadAt fails is read in turn, the
// whole plaintext still comes; a Seek that fails after the first ones
// succeeded ends the Reader with its error mid-stream, and at the end of
// the stream is of no consequence (io.EOF, the handle wiped).
func TestReaderReadAtFails(t *testing.T) {
	procsFor(t, 2)
	p := readAtParams
	k := newKey(t, randBytes(16), p)
	pt := plaintext(3 << 20)
	ct := encrypt(t, k, pt, nil, 0)
	round := 2 * p.ptSeg()
	if got := readMixed(t, k, &failingAt{Reader: bytes.NewReader(ct), readAtFails: true}, []int{2 * round, 100}); !bytes.Equal(got, pt) {
		t.Errorf("ReadAt failing: %d bytes of %d", len(got), len(pt))
	}
	// Seeks 1-3 find the size; the 4th puts the reader after the segments.
	r, err := k.NewReader(&failingAt{Reader: bytes.NewReader(ct), failSeek: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2*round)
	if n, err := r.Read(buf); n != 2*round-p.HeaderSize() || err != nil {
		t.Errorf("first Read: %d, %v", n, err)
	}
	if n, err := r.Read(buf); n != 0 || err == nil || err.Error() != "seek failed" {
		t.Errorf("after a failed Seek mid-stream: %d, %v", n, err)
	}
	r, err = k.NewReader(&failingAt{Reader: bytes.NewReader(ct), failSeek: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, len(pt)+1)
	if n, err := r.Read(big); n != len(pt) || err != nil || !bytes.Equal(big[:n], pt) {
		t.Errorf("whole stream: %d, %v", n, err)
	}
	if n, err := r.Read(big); n != 0 || err != io.EOF || r.c != nil {
		t.Errorf("after the whole stream and a failed Seek: %d, %v, handle wiped %v", n, err, r.c == nil)
	}
}

// TestReaderAtAllocs: a ReadAt within one run reads on the calling
// goroutine and allocates nothing.
func TestReaderAtAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers at random: allocations are not counted under -race")
	}
	p := Params{16, 4096}
	k := newKey(t, randBytes(16), p)
	pt := plaintext(1 << 20)
	ct := encrypt(t, k, pt, nil, 0)
	r, err := k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ off, n int }{{5000, 100}, {4080, 10}, {p.ptLimit(0), 3 * p.ptSeg()}, {1000, 3 * p.ptSeg()}} {
		buf := make([]byte, c.n)
		if a := testing.AllocsPerRun(20, func() {
			if n, err := r.ReadAt(buf, int64(c.off)); n != c.n || err != nil {
				t.Fatal(n, err)
			}
		}); a != 0 {
			t.Errorf("ReadAt of %d bytes at %d: %v allocations", c.n, c.off, a)
		}
	}
}

// TestReaderAtParallelRuns: a ReadAt of many segments, small ones in runs
// or large ones a segment at a time, has two ReadAts of the underlying
// reader under way at once at GOMAXPROCS 2 (each ReadAt takes 20 ms), and
// so has a Reader's large Read over it; at GOMAXPROCS 1, one, and the
// Reader reads in turn.
func TestReaderAtParallelRuns(t *testing.T) {
	for _, p := range []Params{{16, 4096}, {16, 1 << 20}} {
		k := newKey(t, randBytes(16), p)
		pt := plaintext(3 << 20)
		ct := encrypt(t, k, pt, nil, 0)
		for _, procs := range []int{1, 2} {
			t.Run(fmt.Sprintf("%d-segments/procs-%d", p.SegmentSize, procs), func(t *testing.T) {
				procsFor(t, procs)
				src := &atReader{Reader: bytes.NewReader(ct), delay: 20 * time.Millisecond}
				r, err := k.NewReaderAt(src, int64(len(ct)), nil)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, len(pt))
				if n, err := r.ReadAt(buf, 0); n != len(pt) || err != nil || !bytes.Equal(buf, pt) {
					t.Fatalf("ReadAt: %d, %v", n, err)
				}
				src2 := &atReader{Reader: bytes.NewReader(ct), delay: 20 * time.Millisecond}
				sr, err := k.NewReader(src2, nil)
				if err != nil {
					t.Fatal(err)
				}
				if n, err := io.ReadFull(sr, buf); n != len(pt) || err != nil || !bytes.Equal(buf, pt) {
					t.Fatalf("Reader: %d, %v", n, err)
				}
				want := []int64{1, 0} // the Reader reads in turn, with Read
				if procs == 2 {
					want = []int64{2, 2}
				}
				if got := []int64{src.most.Load(), src2.most.Load()}; got[0] != want[0] || got[1] != want[1] {
					t.Errorf("most ReadAts under way at once: ReaderAt %d, Reader %d; want %d, %d", got[0], got[1], want[0], want[1])
				}
			})
		}
	}
}

// TestReaderErrorKeepsSegments: when the underlying reader fails, a
// Reader returns the plaintext of every segment read whole and followed
// by a byte (so not the last) before the error, whatever the read size,
// then the error.
func TestReaderErrorKeepsSegments(t *testing.T) {
	p := Params{16, 4096}
	k := newKey(t, randBytes(16), p)
	pt := plaintext(300 * p.ptSeg())
	ct := encrypt(t, k, pt, nil, 0)
	errRead := errors.New("connection reset")
	for _, c := range []struct {
		cut  int64
		segs uint64 // segments returned
	}{
		{p.ctStart(5) + 100, 5},
		{p.ctStart(5) + 1, 5},
		{p.ctStart(5), 4},
		{p.ctStart(0) + 10, 0},
		{p.ctStart(1) + 1, 1},
		{p.ctStart(200) + 5, 200}, // in the second round of 1 MiB reads (its first byte read ahead)
		{p.ctStart(128) + 1, 128},
	} {
		for _, rs := range []int{64, p.ptSeg(), 1 << 20} {
			r, err := k.NewReader(io.MultiReader(bytes.NewReader(ct[:c.cut]), iotest.ErrReader(errRead)), nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readChecked(t, r, rs)
			if want := p.ptStart(c.segs); int64(len(got)) != want || !errors.Is(err, errRead) || !bytes.Equal(got, pt[:len(got)]) {
				t.Errorf("source failing after %d bytes, reads of %d: %d bytes, %v; want %d bytes, then the error", c.cut, rs, len(got), err, want)
			}
		}
	}
}
