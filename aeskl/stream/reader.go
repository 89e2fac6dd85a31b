package stream

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"

	"github.com/go-keylocker/keylocker/aeskl"
)

// A Reader decrypts a stream read from an underlying io.Reader. It
// returns the plaintext of a segment only once the segment has been
// authenticated, and io.EOF only after the last segment (the one sealed as
// last) has been; any failure is sticky. A Reader holds one ciphertext
// segment and decrypts it in place. It is not safe for concurrent use.
type Reader struct {
	r     io.Reader
	p     Params
	c     *aeskl.Cipher
	aead  cipher.AEAD
	nonce [nonceSize]byte
	seg   uint64 // number of the next segment
	ct    []byte // SegmentSize+1: a segment and one byte to know whether it is the last
	ahead byte   // the first byte of segment seg, read with the one before
	pt    []byte // authenticated plaintext not yet returned (inside ct)
	err   error  // sticky; io.EOF after the last segment
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
	if hdr[0] != byte(len(hdr)) {
		return nil, fmt.Errorf("%w: header length %d, want %d", ErrHeader, hdr[0], len(hdr))
	}
	c, g, err := k.segmentKey(hdr[1:1+p.KeySize], ad)
	if err != nil {
		return nil, err
	}
	sr := &Reader{r: r, p: p, c: c, aead: g, ct: make([]byte, p.SegmentSize+1)}
	copy(sr.nonce[:], hdr[1+p.KeySize:])
	return sr, nil
}

// Read returns authenticated plaintext. When p has room for whole
// segments they are decrypted straight into it; a segment that fails
// leaves the part of p it was decrypted into zeroed, and Read returns the
// bytes of the segments before it (then the error, on the next call).
func (r *Reader) Read(p []byte) (int, error) {
	if len(r.pt) > 0 {
		n := copy(p, r.pt)
		r.pt = r.pt[n:]
		return n, nil
	}
	n := 0
	for n < len(p) && r.err == nil {
		// After the first segment of this call, go on only while a whole
		// segment fits: no read is started that the caller did not ask for.
		if n > 0 && len(p)-n < r.p.ptLimit(r.seg) {
			break
		}
		seg, last := r.next()
		if r.err != nil {
			break
		}
		ptLen := len(seg) - TagSize
		segmentNonce(&r.nonce, r.seg, last)
		var dst []byte
		if ptLen <= len(p)-n {
			dst = p[n:n] // straight into p; Open zeroes it on failure
		} else {
			dst = seg[:0] // in place
		}
		if _, err := r.aead.Open(dst, r.nonce[:], seg, nil); err != nil {
			if errors.Is(err, aeskl.ErrInvalidHandle) {
				r.err = err
			} else {
				r.err = fmt.Errorf("%w (segment %d)", ErrAuthentication, r.seg)
			}
			break
		}
		r.seg++
		if last {
			r.err = io.EOF
			r.wipe()
		}
		if ptLen <= len(p)-n {
			n += ptLen
		} else {
			m := copy(p[n:], seg[:ptLen])
			n += m
			r.pt = seg[m:ptLen]
		}
	}
	if n > 0 {
		return n, nil
	}
	if r.err == io.EOF && len(p) == 0 {
		return 0, nil
	}
	return 0, r.err
}

// next reads the ciphertext of segment r.seg into r.ct and reports
// whether it is the last one: it is unless one more byte follows it.
func (r *Reader) next() (seg []byte, last bool) {
	if r.seg >= maxSegments {
		r.err = ErrTooManySegments
		return nil, false
	}
	lim := r.p.SegmentSize
	if r.seg == 0 {
		lim -= r.p.HeaderSize()
	}
	have := 0
	if r.seg > 0 {
		r.ct[0] = r.ahead
		have = 1
	}
	m, err := io.ReadFull(r.r, r.ct[have:lim+1])
	have += m
	switch err {
	case nil:
		r.ahead = r.ct[lim]
		return r.ct[:lim], false
	case io.EOF, io.ErrUnexpectedEOF:
		if have < TagSize {
			r.err = fmt.Errorf("%w: segment %d has %d bytes, less than its tag", ErrTruncated, r.seg, have)
			return nil, false
		}
		return r.ct[:have], true
	default:
		r.err = err
		return nil, false
	}
}

func (r *Reader) wipe() {
	if r.c != nil {
		r.c.Close()
		r.c = nil
	}
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
