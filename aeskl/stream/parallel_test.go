package stream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// withProcs runs f with GOMAXPROCS set to n.
func withProcs(n int, f func()) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	f()
}

// TestParallel: every index runs exactly once; with failures, the
// smallest failing index is returned and every index below it ran.
func TestParallel(t *testing.T) {
	for _, procs := range []int{1, 2, 5} {
		withProcs(procs, func() {
			for _, n := range []int{0, 1, 2, 7, 64, 1000} {
				for _, fail := range [][]int{nil, {0}, {5}, {n - 1}, {3, 900, 40}} {
					runs := make([]atomic.Int32, n)
					bad := map[int]bool{}
					want := -1
					for _, f := range fail {
						if f >= 0 && f < n {
							bad[f] = true
							if want < 0 || f < want {
								want = f
							}
						}
					}
					got, err := parallel(n, func(i int) error {
						runs[i].Add(1)
						if bad[i] {
							return fmt.Errorf("fail %d", i)
						}
						return nil
					})
					name := fmt.Sprintf("procs %d, n %d, failing %v", procs, n, fail)
					if got != want || (want >= 0) != (err != nil) || (err != nil && err.Error() != fmt.Sprintf("fail %d", want)) {
						t.Fatalf("%s: %d, %v; want %d", name, got, err, want)
					}
					for i := range runs {
						r := runs[i].Load()
						if r > 1 || (r == 0 && (want < 0 || i < want)) {
							t.Fatalf("%s: index %d ran %d times", name, i, r)
						}
					}
				}
			}
		})
	}
}

// TestParallelPanic: a panic of f, on the calling goroutine or a
// helper, comes out of parallel on the calling goroutine, and only once
// no call of f runs any more and none will start.
func TestParallelPanic(t *testing.T) {
	for _, procs := range []int{1, 2, 5} {
		withProcs(procs, func() {
			for _, which := range []string{"first call", "every call", "last index"} {
				var inFlight, calls, first atomic.Int32
				const n = 64
				got := func() (r any) {
					defer func() { r = recover() }()
					parallel(n, func(i int) error {
						inFlight.Add(1)
						defer inFlight.Add(-1)
						calls.Add(1)
						if which == "every call" || (which == "first call" && first.Add(1) == 1) || (which == "last index" && i == n-1) {
							panic(fmt.Sprintf("boom %d", i))
						}
						time.Sleep(200 * time.Microsecond)
						return nil
					})
					return nil
				}()
				name := fmt.Sprintf("procs %d, a panic at the %s", procs, which)
				if s, ok := got.(string); !ok || !strings.HasPrefix(s, "boom ") {
					t.Fatalf("%s: parallel panicked with %v", name, got)
				}
				c := calls.Load()
				if m := inFlight.Load(); m != 0 {
					t.Errorf("%s: %d calls of f still running after parallel unwound", name, m)
				}
				time.Sleep(5 * time.Millisecond)
				if c2 := calls.Load(); c2 != c {
					t.Errorf("%s: %d calls of f started after parallel unwound", name, c2-c)
				}
			}
		})
	}
}

// plainWriter hides the AvailableBuffer of what it wraps.
type plainWriter struct{ w io.Writer }

func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

// TestWriterPaths writes the same stream into a bytes.Buffer with room
// (sealed in its free space), one without, a writer that offers no
// buffer, small and large bufio.Writers, with one to five goroutines, in
// one Write and in odd pieces: the bytes are the reference's every time.
func TestWriterPaths(t *testing.T) {
	p := Params{16, 4096}
	mk := randBytes(16)
	k := newKey(t, mk, p)
	pt := plaintext(1<<20 + 1234) // two rounds and a bit
	salt, prefix := randBytes(16), randBytes(NoncePrefixSize)
	want := refEncrypt(t, p, mk, salt, prefix, pt, nil)
	for _, procs := range []int{1, 2, 5} {
		withProcs(procs, func() {
			var roomy bytes.Buffer
			roomy.Grow(len(want) + 100)
			var tight, viaPlain, viaSmall, viaLarge bytes.Buffer
			small, large := bufio.NewWriterSize(&viaSmall, 1000), bufio.NewWriterSize(&viaLarge, 8<<20)
			for name, c := range map[string]struct {
				w   io.Writer
				out *bytes.Buffer
			}{
				"bytes.Buffer with room": {&roomy, &roomy}, "bytes.Buffer": {&tight, &tight},
				"no AvailableBuffer": {plainWriter{&viaPlain}, &viaPlain},
				"small bufio.Writer": {small, &viaSmall}, "large bufio.Writer": {large, &viaLarge},
			} {
				for _, chunk := range []int{len(pt), 300_001} {
					c.out.Reset()
					w, err := k.newWriter(c.w, nil, bytes.NewReader(cat(salt, prefix)))
					if err != nil {
						t.Fatal(err)
					}
					for off := 0; off < len(pt); off += chunk {
						w.Write(pt[off:min(off+chunk, len(pt))])
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					if b, ok := c.w.(*bufio.Writer); ok {
						b.Flush()
					}
					if !bytes.Equal(c.out.Bytes(), want) {
						t.Fatalf("%d goroutines, %s, writes of %d: the stream differs from the reference", procs, name, chunk)
					}
				}
			}
		})
	}
}

// TestWriterPlaintextInSinkBuffer: plaintext that lies in the free space
// of the very buffer the stream goes to (its AvailableBuffer) is not
// written over before it is sealed, in a Write of several rounds, whether
// the sink is a bytes.Buffer or a bufio.Writer (which flushes and starts
// again at the front of its buffer), with one goroutine or two.
func TestWriterPlaintextInSinkBuffer(t *testing.T) {
	p := Params{16, 4096}
	k := newKey(t, randBytes(16), p)
	const n = 3 << 20 // six rounds
	for _, procs := range []int{1, 2} {
		withProcs(procs, func() {
			for _, sinkName := range []string{"bytes.Buffer", "bufio.Writer"} {
				var sink bytes.Buffer
				var w io.Writer = &sink
				if sinkName == "bytes.Buffer" {
					sink.Grow(n + 4096)
				} else {
					w = bufio.NewWriterSize(&sink, n+4096)
				}
				sw, err := k.NewWriter(w, nil)
				if err != nil {
					t.Fatal(err)
				}
				free := w.(interface{ AvailableBuffer() []byte }).AvailableBuffer()
				pt := free[100 : 100+n]
				copy(pt, plaintext(n))
				want := bytes.Clone(pt)
				if m, err := sw.Write(pt); err != nil || m != n {
					t.Fatalf("Write: %d, %v", m, err)
				}
				if err := sw.Close(); err != nil {
					t.Fatal(err)
				}
				if bw, ok := w.(*bufio.Writer); ok {
					bw.Flush()
				}
				if got, err := decrypt(t, k, sink.Bytes(), nil, 1<<20); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("procs %d, %s: %d bytes, %v; the plaintext differs", procs, sinkName, len(got), err)
				}
			}
		})
	}
}

// TestTamperRounds is TestTamper's stream read in rounds of many
// segments: the plaintext returned stops at the first failing segment.
func TestTamperRounds(t *testing.T) {
	p := Params{16, 4096}
	k := newKey(t, randBytes(16), p)
	pt := plaintext(200 * p.ptSeg())
	ct := encrypt(t, k, pt, nil, 0)
	b := segmentBounds(t, p, len(ct))
	for _, s := range []int{0, 1, 17, 63, 64, 150, 199} {
		bad := bytes.Clone(ct)
		bad[b[s]+7] ^= 1
		got, err := decrypt(t, k, bad, nil, len(pt)+100)
		if !errors.Is(err, ErrAuthentication) || int64(len(got)) != p.ptStart(uint64(s)) || !bytes.Equal(got, pt[:len(got)]) {
			t.Errorf("segment %d modified: %d bytes, %v", s, len(got), err)
		}
	}
}
