package stream

import (
	"bytes"
	"io"
	"testing"
)

// TestNoAllocationPerSegment: a Writer and a Reader allocate per stream
// and per round, not per segment (a nonce built on the stack escapes
// through the AEAD's interface call): the allocations of a stream of 20
// segments and of one of 400 differ by much less than 380.
func TestNoAllocationPerSegment(t *testing.T) {
	p := Params{16, 4096}
	k := newKey(t, randBytes(16), p)
	allocs := func(segments int) (w, r float64) {
		pt := plaintext(segments * p.ptSeg())
		var sink bytes.Buffer
		sink.Grow(2 * len(pt))
		out := make([]byte, len(pt)+1)
		w = testing.AllocsPerRun(5, func() {
			sink.Reset()
			sw, err := k.NewWriter(&sink, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sw.Write(pt); err != nil {
				t.Fatal(err)
			}
			if err := sw.Close(); err != nil {
				t.Fatal(err)
			}
		})
		ct := bytes.Clone(sink.Bytes())
		r = testing.AllocsPerRun(5, func() {
			sr, err := k.NewReader(bytes.NewReader(ct), nil)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := io.ReadFull(sr, out); n != len(pt) || err != io.ErrUnexpectedEOF {
				t.Fatalf("read %d bytes, %v", n, err)
			}
		})
		return w, r
	}
	w20, r20 := allocs(20)
	w400, r400 := allocs(400)
	t.Logf("allocations: Writer %v for 20 segments, %v for 400; Reader %v and %v", w20, w400, r20, r400)
	if w400-w20 > 40 || r400-r20 > 40 {
		t.Errorf("allocations: Writer %v for 20 segments, %v for 400; Reader %v and %v", w20, w400, r20, r400)
	}
}
