package stream

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/gcmbatch"
)

// A ReaderAt decrypts any range of a stream stored in an io.ReaderAt of a
// known size: each ReadAt reads and authenticates only the segments that
// hold the range, the whole segments it covers in runs of up to 512 KiB
// read with one ReadAt of the underlying reader and opened together; a
// large ReadAt's runs (or segments, when a segment is a round or more) on
// up to GOMAXPROCS goroutines, at most 8 (io.ReaderAt allows parallel
// ReadAts). It is safe for concurrent use, as io.ReaderAt asks,
// Close included: Close waits for the ReadAts under way, and later ones
// return ErrClosed. The stream's size fixes which segment is the last, so
// a truncated or extended stream fails on its last segment; a read that
// does not reach the last segment does not check it.
type ReaderAt struct {
	ra    io.ReaderAt
	p     Params
	mu    sync.RWMutex // Close against ReadAt
	c     *aeskl.Cipher
	aead  cipher.AEAD
	ns    uint64 // segments
	size  int64  // plaintext size
	ctLen int64  // ciphertext size
	pfx   [NoncePrefixSize]byte
	// *[]byte of SegmentSize, then room for a nonce (built there: one on
	// the stack would escape through the interface call, an allocation
	// per segment)
	bufs sync.Pool
	runs sync.Pool // *segRun: a run of whole segments (run)
}

// A segRun is the memory of one run of whole segments: their ciphertext,
// read with one ReadAt, and their messages for gcmbatch.Open.
type segRun struct {
	ct   []byte
	msgs []gcmbatch.Msg
}

var _ io.ReaderAt = (*ReaderAt)(nil)

// NewReaderAt reads the header of the stream of size bytes in ra and
// returns a ReaderAt of its plaintext; ad is the associated data the
// stream was written with.
func (k *Key) NewReaderAt(ra io.ReaderAt, size int64, ad []byte) (*ReaderAt, error) {
	p := k.p
	ns, err := p.ctSegments(size)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, p.HeaderSize())
	if n, err := ra.ReadAt(hdr, 0); n < len(hdr) {
		if err == io.EOF {
			err = fmt.Errorf("%w: the header is incomplete", ErrTruncated)
		}
		return nil, err
	}
	c, g, pfx, err := k.openHeader(hdr, ad)
	if err != nil {
		return nil, err
	}
	r := newReaderAt(p, c, g, pfx)
	r.setSize(ra, size, ns)
	return r, nil
}

// newReaderAt returns a ReaderAt of a stream with parameters p, cipher c
// (its GCM g) and nonce prefix pfx, to be given its underlying reader
// with setSize.
func newReaderAt(p Params, c *aeskl.Cipher, g cipher.AEAD, pfx [NoncePrefixSize]byte) *ReaderAt {
	r := &ReaderAt{p: p, c: c, aead: g, pfx: pfx}
	r.bufs.New = func() any { b := make([]byte, p.SegmentSize+nonceSize); return &b }
	r.runs.New = func() any {
		k := p.readSegments()
		return &segRun{ct: make([]byte, k*p.SegmentSize), msgs: make([]gcmbatch.Msg, 0, k)}
	}
	return r
}

// setSize makes ra, holding a stream of size bytes in ns segments, the
// underlying reader.
func (r *ReaderAt) setSize(ra io.ReaderAt, size int64, ns uint64) {
	r.ra, r.ns, r.ctLen = ra, ns, size
	r.size = size - int64(r.p.HeaderSize()) - int64(ns)*TagSize
}

// Size returns the size of the plaintext.
func (r *ReaderAt) Size() int64 { return r.size }

// ReadAt reads len(p) bytes of plaintext at offset off. It returns fewer
// only with an error: io.EOF at the end of the plaintext, or the error of
// the first segment that could not be read or authenticated; p[:n] is
// authenticated plaintext, and nothing of a failed segment is left in p.
// A read that returns io.EOF has authenticated the last segment (even an
// empty one, even for an offset past the end): io.EOF means that the
// stream really ends there.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("stream: negative offset")
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.c == nil {
		return 0, ErrClosed
	}
	var buf [4]piece
	pieces := r.plan(buf[:0], p, off)
	n, err := r.readPieces(p, pieces)
	if err != nil {
		return n, err
	}
	lastDone := len(pieces) > 0 && pieces[len(pieces)-1].last(r.ns)
	if n < len(p) {
		if !lastDone {
			if _, err := r.segment(r.ns-1, nil, 0); err != nil {
				return n, err
			}
		}
		return n, io.EOF
	}
	return n, nil
}

// A piece is part of a ReadAt: a run of k >= 2 whole segments from
// segment i on (run), or the plaintext of segment i from offset within on
// (segment), for p[at:at+n].
type piece struct {
	i         uint64
	k, within int
	at, n     int
}

// last reports whether the piece ends with the stream's last segment.
func (pc piece) last(ns uint64) bool { return pc.i+uint64(max(pc.k, 1)) == ns }

// plan splits a ReadAt of p at plaintext offset off into pieces, appended
// to pieces: the whole segments it covers in runs of up to a round (a run
// of one is a segment), the partial segments at its ends on their own.
func (r *ReaderAt) plan(pieces []piece, p []byte, off int64) []piece {
	for n := 0; n < len(p) && off+int64(n) < r.size; {
		x := off + int64(n)
		i := r.segmentOf(x)
		within := int(x - r.p.ptStart(i))
		// Whole segments from i on, if p wants two or more: one run.
		k, m := 0, 0
		if within == 0 {
			for room := len(p) - n; k < r.p.readSegments() && i+uint64(k) < r.ns; k++ {
				lim := r.ptLen(i + uint64(k))
				if lim > room {
					break
				}
				room -= lim
				m += lim
			}
		}
		if k < 2 {
			k, m = 0, min(r.ptLen(i)-within, len(p)-n)
		}
		pieces = append(pieces, piece{i: i, k: k, within: within, at: n, n: m})
		n += m
	}
	return pieces
}

// readPieces reads the pieces into p and returns the plaintext bytes
// before the first piece that failed, with its error. Two runs or more,
// or two pieces or more holding a round's bytes (segments of a round or
// more), go to parallel (up to GOMAXPROCS goroutines, at most maxWorkers:
// each reads its own ciphertext and opens it, so none fetches another
// core's data); less is read on the calling goroutine, which allocates
// nothing. What the failed piece and any later one wrote of p is zeroed:
// p holds nothing but the authenticated plaintext it returns.
func (r *ReaderAt) readPieces(p []byte, pieces []piece) (int, error) {
	if len(pieces) == 0 {
		return 0, nil
	}
	last := pieces[len(pieces)-1]
	end := last.at + last.n
	runs := 0
	for _, pc := range pieces {
		if pc.k >= 2 {
			runs++
		}
	}
	if len(pieces) < 2 || end < roundBytes && runs < 2 {
		for _, pc := range pieces {
			if m, err := r.piece(p, pc); err != nil {
				return pc.at + m, err // nothing after it was written
			}
		}
		return end, nil
	}
	ps := slices.Clone(pieces) // the caller's may be on its stack
	got := make([]int, len(ps))
	failed, err := parallel(len(ps), func(j int) error {
		var err error
		got[j], err = r.piece(p, ps[j])
		return err
	})
	if err == nil {
		return end, nil
	}
	n := ps[failed].at + got[failed]
	clear(p[n:end])
	return n, err
}

// piece reads one piece into its part of p.
func (r *ReaderAt) piece(p []byte, pc piece) (int, error) {
	if pc.k >= 2 {
		return r.run(pc.i, pc.k, p[pc.at:pc.at+pc.n])
	}
	return r.segment(pc.i, p[pc.at:pc.at+pc.n], pc.within)
}

// ptLen is the plaintext size of segment i.
func (r *ReaderAt) ptLen(i uint64) int {
	if i == r.ns-1 {
		return int(r.size - r.p.ptStart(i))
	}
	return r.p.ptLimit(i)
}

// run authenticates the k whole segments from segment i on, read with one
// ReadAt (or, if that comes back short, one at a time), straight into p
// (which has room for their plaintext) and returns the plaintext bytes of
// those before the first that failed with its error; gcmbatch.Open
// zeroes what it wrote of that segment and the later ones.
func (r *ReaderAt) run(i uint64, k int, p []byte) (int, error) {
	start, end := r.p.ctStart(i), r.p.ctStart(i+uint64(k))
	if i+uint64(k) == r.ns {
		end = r.ctLen
	}
	sr := r.runs.Get().(*segRun)
	defer r.runs.Put(sr)
	ct := sr.ct[:end-start]
	defer clear(ct)
	if m, _ := r.ra.ReadAt(ct, start); m < len(ct) {
		// Short: segment by segment, for the plaintext before the cut
		// and the error of the segment it cuts.
		n := 0
		for j := range k {
			m, err := r.segment(i+uint64(j), p[n:], 0)
			n += m
			if err != nil {
				return n, err
			}
		}
		return n, nil
	}
	msgs := sr.msgs[:0]
	n, off := 0, 0
	for j := range k {
		seg := i + uint64(j)
		lim := r.ptLen(seg)
		var nonce [nonceSize]byte
		copy(nonce[:], r.pfx[:])
		segmentNonce(&nonce, seg, seg == r.ns-1)
		msgs = append(msgs, gcmbatch.Msg{Dst: p[n : n+lim], Src: ct[off : off+lim+TagSize], Nonce: nonce})
		n += lim
		off += lim + TagSize
	}
	done, err := gcmbatch.Open(r.aead, msgs)
	clear(msgs) // not to hold on to p
	sr.msgs = msgs[:0]
	n = 0
	for j := range done {
		n += r.ptLen(i + uint64(j))
	}
	if err != nil {
		if !errors.Is(err, aeskl.ErrInvalidHandle) {
			err = fmt.Errorf("%w (segment %d)", ErrAuthentication, i+uint64(done))
		}
		return n, err
	}
	return n, nil
}

// segment authenticates segment i and copies its plaintext from offset
// within on into p, as much as fits.
func (r *ReaderAt) segment(i uint64, p []byte, within int) (int, error) {
	start, end := r.p.ctStart(i), r.p.ctStart(i+1)
	last := i == r.ns-1
	if last {
		end = r.ctLen
	}
	ptLen := int(end-start) - TagSize
	want := min(ptLen-within, len(p))
	bp := r.bufs.Get().(*[]byte)
	defer r.bufs.Put(bp)
	seg := (*bp)[:end-start]
	defer clear(seg)
	if m, err := r.ra.ReadAt(seg, start); m < len(seg) {
		if err == io.EOF || err == nil {
			err = fmt.Errorf("%w: segment %d is cut short", ErrTruncated, i)
		}
		return 0, err
	}
	nonce := (*[nonceSize]byte)((*bp)[r.p.SegmentSize:])
	copy(nonce[:], r.pfx[:])
	segmentNonce(nonce, i, last)
	// Straight into p when the whole segment is wanted; Open zeroes its
	// output if the segment fails.
	direct := within == 0 && want == ptLen
	dst := seg[:0]
	if direct {
		dst = p[:0]
	}
	if _, err := r.aead.Open(dst, nonce[:], seg, nil); err != nil {
		if !errors.Is(err, aeskl.ErrInvalidHandle) {
			err = fmt.Errorf("%w (segment %d)", ErrAuthentication, i)
		}
		return 0, err
	}
	if !direct {
		copy(p, seg[within:within+want])
	}
	return want, nil
}

// segmentOf returns the segment that holds plaintext offset x.
func (r *ReaderAt) segmentOf(x int64) uint64 {
	first := int64(r.p.ptLimit(0))
	if x < first {
		return 0
	}
	return uint64((x + int64(r.p.HeaderSize())) / int64(r.p.ptSeg()))
}

// Close wipes the stream's key handle; later ReadAts return ErrClosed.
func (r *ReaderAt) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil {
		r.c.Close()
		r.c, r.aead = nil, nil
	}
	return nil
}
