package stream

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/gcmbatch"
)

// A Reader decrypts a stream read from an underlying io.Reader. It
// returns the plaintext of a segment only once the segment has been
// authenticated, and io.EOF only after the last segment (the one sealed as
// last) has been; any failure is sticky.
//
// A Read into a buffer too small for a whole segment decrypts one segment
// in place in the Reader's buffer and hands it out over several Reads. A
// Read with room for whole segments reads one round of them (those that
// fit, up to 512 KiB of them or one segment if that is more) and
// decrypts them straight into its argument: a Read returns as soon as it
// has plaintext, without waiting for more input. A Reader holds one round
// of ciphertext (see below for more). It is not safe for concurrent use.
//
// When the underlying reader is also an io.ReaderAt and an io.Seeker over
// the same bytes (a file, a bytes.Reader) and GOMAXPROCS is above 1, a
// Read with room for two rounds or more reads the whole segments that fit
// as a ReaderAt does: in rounds read with ReadAt and opened on up to
// GOMAXPROCS goroutines (at most 8), each opening what it read, one round
// of ciphertext held per goroutine. The size Seek finds fixes the last
// segment, and the Read leaves the offset after the segments read. If the
// first Seeks fail (a pipe) or ReadAt does, Reads go on reading it in
// turn; if a Seek fails after one succeeded, where the reader is is
// unknown and that error ends the Reader.
type Reader struct {
	r     io.Reader
	p     Params
	c     *aeskl.Cipher
	aead  cipher.AEAD
	nonce [nonceSize]byte // the nonce prefix, then the last segment's number and flag
	seg   uint64          // number of the next segment
	ct    []byte          // one round of ciphertext and one byte more
	ahead byte            // the first byte of segment seg, read with the round before
	held  bool            // ahead holds that byte (not after a read with ReadAt)
	at    *ReaderAt       // readAt's view of the underlying reader
	noAt  bool            // the underlying reader cannot be read with ReadAt
	pt    []byte          // authenticated plaintext not yet returned (inside ct)
	sizes []int           // fill's result, kept for the next round
	msgs  []gcmbatch.Msg  // openRound's segments, kept for the next round
	err   error           // sticky; io.EOF after the last segment
}

// NewReader reads the header of a stream from r and returns a Reader of
// its plaintext; ad is the associated data the stream was written with.
// A wrong key or associated data shows as ErrAuthentication on the first
// Read.
func (k *Key) NewReader(r io.Reader, ad []byte) (*Reader, error) {
	p := k.p
	hdr := make([]byte, p.HeaderSize())
	if _, err := io.ReadFull(r, hdr); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: the header is incomplete", ErrTruncated)
		}
		return nil, err
	}
	c, g, prefix, err := k.openHeader(hdr, ad)
	if err != nil {
		return nil, err
	}
	rd := &Reader{r: r, p: p, c: c, aead: g, ct: make([]byte, p.readSegments()*p.SegmentSize+1)}
	copy(rd.nonce[:], prefix[:])
	return rd, nil
}

// Read returns authenticated plaintext. When p has room for whole
// segments, Read reads as many as fit, up to a round (all of them, with
// ReadAt, on the path the Reader's doc describes), and decrypts them
// straight into it; it returns once they are done, without starting
// another read. If a segment fails, Read returns the bytes of the
// segments before it (and the error on the next call), and the part of p
// the failed segment was decrypted into is zeroed.
func (r *Reader) Read(p []byte) (int, error) {
	if len(r.pt) > 0 {
		n := copy(p, r.pt)
		r.pt = r.pt[n:]
		return n, nil
	}
	if len(p) == 0 || r.err != nil {
		if r.err == io.EOF && len(p) == 0 {
			return 0, nil
		}
		return 0, r.err
	}
	// How many whole segments (up to a round) fit in p?
	k, room := 0, len(p)
	for k < r.p.readSegments() {
		lim := r.p.ptLimit(r.seg + uint64(k))
		if lim > room {
			break
		}
		room -= lim
		k++
	}
	if n, ok := r.readAt(p); ok {
		if n > 0 {
			return n, nil
		}
		return 0, r.err
	}
	n := 0
	if sizes, last := r.fill(max(k, 1)); len(sizes) > 0 {
		if k == 0 {
			// One segment, in place, handed out over several Reads.
			seg := r.ct[:sizes[0]]
			if err := r.open(seg[:0], seg, r.seg, last); err != nil {
				r.fail(err, r.seg)
			} else {
				r.advance(1, last)
				n = copy(p, seg[:len(seg)-TagSize])
				r.pt = seg[n : len(seg)-TagSize]
			}
		} else {
			n, _ = r.openRound(p, sizes, last)
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, r.err
}

// openRound decrypts the segments of r.ct whose sizes are given into p
// and returns the plaintext bytes that authenticated: those of the
// segments before the first that failed (the plaintext of that segment
// and of every later one is zeroed where it was written). The segments
// go to gcmbatch.Open together: aeskl opens up to 16 of them with one
// kernel call where it can (one unwrap of the key for all). One goroutine
// does it: the round was just copied into this goroutine's cache, and
// helpers on other cores would have to fetch it from there (measured
// slower than one goroutine).
func (r *Reader) openRound(p []byte, sizes []int, last bool) (int, error) {
	msgs := r.msgs[:0]
	n, off := 0, 0
	for i, s := range sizes {
		segmentNonce(&r.nonce, r.seg+uint64(i), last && i == len(sizes)-1)
		msgs = append(msgs, gcmbatch.Msg{Dst: p[n : n+s-TagSize], Src: r.ct[off : off+s], Nonce: r.nonce})
		n += s - TagSize
		off += s
	}
	k, err := gcmbatch.Open(r.aead, msgs)
	clear(msgs) // not to hold on to p
	r.msgs = msgs[:0]
	if err != nil {
		n = 0
		for _, s := range sizes[:k] {
			n += s - TagSize
		}
		r.advance(k, false)
		r.fail(err, r.seg)
		return n, r.err
	}
	r.advance(len(sizes), last)
	return n, nil
}

// open decrypts segment i (ct) into dst[:0]; on failure dst is zeroed
// (by Open). The nonce is built in the Reader: one on the stack would
// escape through the interface call, an allocation per segment.
func (r *Reader) open(dst, ct []byte, i uint64, last bool) error {
	segmentNonce(&r.nonce, i, last)
	_, err := r.aead.Open(dst, r.nonce[:], ct, nil)
	return err
}

// fail records the failure of segment i, which comes before any failure
// fill may have recorded.
func (r *Reader) fail(err error, i uint64) {
	if !errors.Is(err, aeskl.ErrInvalidHandle) {
		err = fmt.Errorf("%w (segment %d)", ErrAuthentication, i)
	}
	r.err = err
}

func (r *Reader) advance(k int, last bool) {
	r.seg += uint64(k)
	if last {
		r.err = io.EOF
		r.wipe()
	}
}

// fill reads up to k segments from segment r.seg on into r.ct and
// returns their sizes and whether the last of them is the stream's last
// segment: it is unless one more byte follows it. A stream that ends
// where no segment can end, or an error of the underlying reader, sets
// r.err after the whole segments before that point, which are returned
// (before an error, those followed by a byte read: not the last).
func (r *Reader) fill(k int) (sizes []int, last bool) {
	if r.seg >= maxSegments {
		r.err = ErrTooManySegments
		return nil, false
	}
	k = int(min(uint64(k), maxSegments-r.seg))
	want := 0
	sizes = r.sizes[:0]
	for j := range k {
		s := r.p.SegmentSize
		if r.seg+uint64(j) == 0 {
			s -= r.p.HeaderSize()
		}
		sizes = append(sizes, s)
		want += s
	}
	r.sizes = sizes
	have := 0
	if r.held {
		r.ct[0] = r.ahead
		have = 1
	}
	m, err := readFull(r.r, r.ct[have:want+1])
	have += m
	switch err {
	case nil:
		r.ahead, r.held = r.ct[want], true
		return sizes, false
	case io.EOF, io.ErrUnexpectedEOF:
	default:
		// The segments that a byte read after them shows whole and not
		// the last are opened before the error is reported.
		r.err = err
		j := 0
		for ; j < len(sizes) && have > sizes[j]; j++ {
			have -= sizes[j]
		}
		return sizes[:j], false
	}
	// The stream ends in this round: the segment that holds its end is
	// the last one.
	for j, s := range sizes {
		if have > s {
			have -= s
			continue
		}
		if have < TagSize {
			r.err = fmt.Errorf("%w: segment %d has %d bytes, less than its tag", ErrTruncated, r.seg+uint64(j), have)
			return sizes[:j], false
		}
		sizes[j] = have
		return sizes[:j+1], true
	}
	panic("unreachable")
}

// readAt reads the whole segments from r.seg on that fit in p with
// ReadAt, on up to GOMAXPROCS goroutines (see Reader), and reports
// whether it did (false: nothing was read, and the Read goes on as for
// any reader). It returns the bytes of the segments that authenticated;
// an authentication failure or a truncated stream goes to r.err. Any
// other failure of ReadAt (a source that has the method but cannot) ends
// the ReadAt path: the reader is put back after the segments returned and
// read in turn from then on.
func (r *Reader) readAt(p []byte) (int, bool) {
	if r.noAt || len(p) < 2*r.p.readSegments()*r.p.ptSeg() || runtime.GOMAXPROCS(0) < 2 {
		return 0, false
	}
	ra, ok := r.r.(io.ReaderAt)
	sk, ok2 := r.r.(io.Seeker)
	if !ok || !ok2 {
		r.noAt = true
		return 0, false
	}
	cur, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		r.noAt = true
		return 0, false
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if _, err2 := sk.Seek(cur, io.SeekStart); err2 != nil {
		r.err = err2 // where the reader is is unknown
		return 0, true
	}
	// The stream starts where segment r.seg starts, less the byte of it
	// read ahead.
	start := cur - r.p.ctStart(r.seg)
	if r.held {
		start--
	}
	if err != nil || start < 0 || end < cur {
		r.noAt = true
		return 0, false
	}
	ns, err := r.p.ctSegments(end - start)
	if err != nil || ns <= r.seg {
		r.noAt = true // the stream ends badly: read in turn, which says where
		return 0, false
	}
	if r.at == nil {
		var pfx [NoncePrefixSize]byte
		copy(pfx[:], r.nonce[:])
		r.at = newReaderAt(r.p, r.c, r.aead, pfx)
	}
	r.at.setSize(io.NewSectionReader(ra, start, end-start), end-start, ns)
	want, k := 0, 0
	for r.seg+uint64(k) < ns {
		lim := r.at.ptLen(r.seg + uint64(k))
		if want+lim > len(p) {
			break
		}
		want += lim
		k++
	}
	var buf [4]piece
	n, err := r.at.readPieces(p[:want], r.at.plan(buf[:0], p[:want], r.p.ptStart(r.seg)))
	if err == nil && r.seg+uint64(k) == ns && r.at.ptLen(ns-1) == 0 {
		// An empty last segment has no plaintext for readPieces to read:
		// it is authenticated on its own.
		_, err = r.at.segment(ns-1, nil, 0)
	}
	if err == nil {
		r.seg += uint64(k)
	} else {
		for done := 0; done < n; r.seg++ {
			done += r.at.ptLen(r.seg)
		}
	}
	r.held = false
	if err == nil && r.seg == ns {
		// The whole stream is read and authenticated: where the reader
		// is left matters less than io.EOF.
		sk.Seek(end, io.SeekStart)
		r.err = io.EOF
		r.wipe()
		return n, true
	}
	if _, err2 := sk.Seek(start+r.p.ctStart(r.seg), io.SeekStart); err2 != nil {
		r.err = err2 // where the reader is is unknown
		return n, true
	}
	if err != nil {
		if !errors.Is(err, ErrAuthentication) && !errors.Is(err, ErrTruncated) && !errors.Is(err, aeskl.ErrInvalidHandle) {
			r.noAt = true // ReadAt failed: read in turn from here
			return n, n > 0
		}
		r.err = err
	}
	return n, true
}

// readFull is io.ReadFull in pieces of at most readPiece bytes.
func readFull(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := io.ReadFull(r, b[n:min(len(b), n+readPiece)])
		n += m
		if err != nil {
			if err == io.EOF && n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
	}
	return n, nil
}

func (r *Reader) wipe() {
	if r.c != nil {
		r.c.Close()
		r.c = nil
	}
	r.at = nil
}

// Close wipes the stream's key handle and buffer; later Reads return
// ErrClosed. It does not close the underlying reader.
func (r *Reader) Close() error {
	r.wipe()
	clear(r.ct)
	r.pt = nil
	if r.err == nil || r.err == io.EOF {
		r.err = ErrClosed
	}
	return nil
}
