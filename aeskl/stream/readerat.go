package stream

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/go-keylocker/keylocker/aeskl"
)

// A ReaderAt decrypts any range of a stream stored in an io.ReaderAt of a
// known size: each ReadAt reads and authenticates only the segments that
// hold the range. It is safe for concurrent use, as io.ReaderAt asks,
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
	r := &ReaderAt{ra: ra, p: p, c: c, aead: g, pfx: pfx, ns: ns, ctLen: size,
		size: size - int64(p.HeaderSize()) - int64(ns)*TagSize}
	r.bufs.New = func() any { b := make([]byte, p.SegmentSize+nonceSize); return &b }
	return r, nil
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
	n := 0
	lastDone := false
	for n < len(p) && off+int64(n) < r.size {
		x := off + int64(n)
		i := r.segmentOf(x)
		within := int(x - r.p.ptStart(i))
		m, err := r.segment(i, p[n:], within)
		if err != nil {
			return n, err
		}
		n += m
		lastDone = i == r.ns-1
	}
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
