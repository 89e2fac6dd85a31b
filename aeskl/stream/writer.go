package stream

import (
	"crypto/cipher"
	"crypto/rand"
	"io"

	"github.com/go-keylocker/keylocker/aeskl"
)

// A Writer encrypts what is written to it into a stream on an underlying
// io.Writer. Close writes the last segment: a stream that was not closed
// is incomplete and fails authentication. A Writer holds at most one
// plaintext segment and a batch of ciphertext segments (about 64 KiB, or
// one segment if larger). It is not safe for concurrent use.
type Writer struct {
	w      io.Writer
	p      Params
	c      *aeskl.Cipher
	aead   cipher.AEAD
	nonce  [nonceSize]byte
	seg    uint64 // number of the next segment
	buf    []byte // buffered plaintext of the next segment
	out    []byte // sealed segments not yet written
	err    error  // sticky
	closed bool
}

var _ io.WriteCloser = (*Writer)(nil)

// outBatch is the size of the ciphertext gathered before a write to the
// underlying writer, for small segments.
const outBatch = 64 << 10

// NewWriter starts a stream on w with the associated data ad (which is
// not written: the reader needs the same). It writes the header to w at
// once.
func (k *Key) NewWriter(w io.Writer, ad []byte) (*Writer, error) {
	return k.newWriter(w, ad, rand.Reader)
}

func (k *Key) newWriter(w io.Writer, ad []byte, random io.Reader) (*Writer, error) {
	p := k.p
	hdr := make([]byte, p.HeaderSize())
	hdr[0] = byte(len(hdr))
	if _, err := io.ReadFull(random, hdr[1:]); err != nil {
		return nil, err
	}
	c, g, err := k.segmentKey(hdr[1:1+p.KeySize], ad)
	if err != nil {
		return nil, err
	}
	sw := &Writer{w: w, p: p, c: c, aead: g}
	copy(sw.nonce[:], hdr[1+p.KeySize:])
	if _, err := w.Write(hdr); err != nil {
		c.Close()
		return nil, err
	}
	sw.buf = make([]byte, 0, p.ptSeg())
	sw.out = make([]byte, 0, max(p.SegmentSize, outBatch/p.SegmentSize*p.SegmentSize))
	return sw, nil
}

// Write encrypts p. Whole segments are sealed as soon as it is known that
// more plaintext follows them; the rest waits for the next Write or Close.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, ErrClosed
	}
	n := 0
	for len(p) > 0 && w.err == nil {
		lim := w.p.ptLimit(w.seg)
		if len(w.buf) == 0 && len(p) > lim {
			// A whole segment straight from p, and more follows it.
			w.seal(p[:lim], false)
			p = p[lim:]
			n += lim
			continue
		}
		m := copy(w.buf[len(w.buf):lim], p)
		w.buf = w.buf[:len(w.buf)+m]
		p = p[m:]
		n += m
		if len(w.buf) == lim && len(p) > 0 {
			w.seal(w.buf, false)
			w.buf = w.buf[:0]
		}
	}
	w.flush()
	return n, w.err
}

// seal appends segment w.seg of plaintext pt to w.out.
func (w *Writer) seal(pt []byte, last bool) {
	if w.seg >= maxSegments {
		w.err = ErrTooManySegments
		return
	}
	if len(w.out)+len(pt)+TagSize > cap(w.out) {
		if w.flush(); w.err != nil {
			return
		}
	}
	segmentNonce(&w.nonce, w.seg, last)
	w.out = w.aead.Seal(w.out, w.nonce[:], pt, nil)
	w.seg++
}

func (w *Writer) flush() {
	if len(w.out) == 0 || w.err != nil {
		return
	}
	n, err := w.w.Write(w.out)
	if err == nil && n < len(w.out) {
		err = io.ErrShortWrite
	}
	w.err = err
	w.out = w.out[:0]
}

// Close seals the last segment (possibly empty), writes what is left and
// wipes the stream's key handle and plaintext buffer. It does not close
// the underlying writer. Calling Close again returns the first result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil {
		w.seal(w.buf, true)
		w.flush()
	}
	clear(w.buf[:cap(w.buf)])
	w.buf = nil
	w.c.Close()
	return w.err
}
