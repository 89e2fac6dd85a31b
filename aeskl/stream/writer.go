package stream

import (
	"crypto/cipher"
	"crypto/rand"
	"io"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/alias"
	"github.com/go-keylocker/keylocker/internal/gcmbatch"
)

// A Writer encrypts what is written to it into a stream on an underlying
// io.Writer. Close writes the last segment: a stream that was not closed
// is incomplete and fails authentication. When the plaintext cannot be
// had whole (its source failed), call Abort instead of Close: it ends the
// stream without a last segment, so that what was written cannot pass for
// a complete stream.
//
// Small writes gather in a plaintext segment buffer. A Write that brings
// whole segments is sealed straight from its argument in rounds of 512 KiB
// of segments (at least two), by the calling goroutine and up to
// GOMAXPROCS-1 helpers, into the underlying writer's own buffer when it
// offers one large enough (AvailableBuffer, as bytes.Buffer and
// bufio.Writer do), otherwise into a buffer of one round. The stream is
// the same byte for byte however it was written. Everything a Write
// sealed is written to the underlying writer before the Write returns.
//
// A Write whose argument lies in the underlying writer's free space (its
// AvailableBuffer, where the ciphertext goes) works from a copy of it,
// wiped before the Write returns: the ciphertext would otherwise overwrite
// plaintext not yet sealed. The argument must not lie in memory the
// underlying writer writes to in other ways (the data it holds, once it
// flushes and reuses its buffer). A Writer is not safe for concurrent
// use.
type Writer struct {
	w      io.Writer
	p      Params
	c      *aeskl.Cipher
	aead   cipher.AEAD
	prefix [NoncePrefixSize]byte
	seg    uint64 // number of the next segment
	// a round's segments (segment i of the round at i) for gcmbatch.Seal,
	// and sealOne's nonce, built here: one on the stack would escape
	// through the interface call.
	msgs   []gcmbatch.Msg
	nonce  [nonceSize]byte
	buf    []byte // buffered plaintext of the next segment
	out    []byte // sealed segments not yet written
	err    error  // sticky
	closed bool
	// Of the argument of the Write under way: bytes whose segments are
	// in out, and bytes whose segments have been written.
	pending, done int
}

var _ io.WriteCloser = (*Writer)(nil)

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
	copy(sw.prefix[:], hdr[1+p.KeySize:])
	if _, err := w.Write(hdr); err != nil {
		c.Close()
		return nil, err
	}
	sw.buf = make([]byte, 0, p.ptSeg())
	sw.out = make([]byte, 0, p.roundSegments()*p.SegmentSize)
	sw.msgs = make([]gcmbatch.Msg, p.roundSegments())
	return sw, nil
}

// Write encrypts p. Whole segments are sealed as soon as it is known that
// more plaintext follows them; the rest waits for the next Write or Close.
// Without an error it returns len(p). With one (the Writer is then
// stopped), the count is of the bytes of p whose segments were written
// to the underlying writer before the write that failed; bytes still in
// the plaintext buffer or in segments not written are not counted.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, ErrClosed
	}
	if ab, ok := w.w.(availableBuffer); ok {
		if a := ab.AvailableBuffer(); alias.AnyOverlap(a[:cap(a)], p) {
			cp := make([]byte, len(p))
			copy(cp, p)
			defer clear(cp)
			p = cp
		}
	}
	w.pending, w.done = 0, 0
	buffered := 0 // bytes of p in w.buf
	for len(p) > 0 && w.err == nil {
		lim := w.p.ptLimit(w.seg)
		if len(w.buf) == 0 && len(p) > lim {
			m := w.sealRound(p)
			p = p[m:]
			continue
		}
		m := copy(w.buf[len(w.buf):lim], p)
		w.buf = w.buf[:len(w.buf)+m]
		p = p[m:]
		buffered += m
		if len(w.buf) == lim && len(p) > 0 {
			w.sealOne(w.buf, false)
			if w.err == nil {
				w.pending += buffered
			}
			buffered = 0
			w.buf = w.buf[:0]
		}
	}
	w.flush()
	if w.err != nil {
		return w.done, w.err
	}
	return w.done + buffered, nil
}

// sealRound seals the whole segments at the start of p that more of p
// follows, up to a round, and returns the plaintext bytes it took.
func (w *Writer) sealRound(p []byte) int {
	var k, used, ctLen int
	for k < w.p.roundSegments() && w.seg+uint64(k) < maxSegments {
		lim := w.p.ptLimit(w.seg + uint64(k))
		if used+lim >= len(p) {
			break
		}
		used += lim
		ctLen += lim + TagSize
		k++
	}
	if k == 0 {
		w.err = ErrTooManySegments
		return 0
	}
	dst, direct := w.reserve(ctLen, p)
	if dst == nil {
		return 0
	}
	first := w.seg
	for i := range k {
		j := first + uint64(i)
		ptOff := int(w.p.ptStart(j) - w.p.ptStart(first))
		ctOff := ptOff + i*TagSize
		lim := w.p.ptLimit(j)
		m := &w.msgs[i]
		copy(m.Nonce[:], w.prefix[:])
		segmentNonce(&m.Nonce, j, false)
		m.Src, m.Dst = p[ptOff:ptOff+lim], dst[ctOff:ctOff+lim+TagSize]
	}
	// Each worker seals a grain of segments with one gcmbatch.Seal (aeskl:
	// up to 16 per kernel call).
	grain := w.p.grain()
	_, err := parallel((k+grain-1)/grain, func(c int) error {
		return sealSegments(w.aead, w.msgs[c*grain:min(k, (c+1)*grain)])
	})
	clear(w.msgs[:k]) // not to hold on to p
	if err != nil {
		clear(dst)
		w.err = err
		return 0
	}
	w.seg += uint64(k)
	if direct {
		if w.write(dst); w.err == nil {
			w.done += used
		}
	} else {
		w.out = w.out[:len(w.out)+ctLen]
		w.pending += used
	}
	return used
}

// availableBuffer is what bytes.Buffer and bufio.Writer offer: their free
// space, to be appended to and passed to the next Write.
type availableBuffer interface {
	AvailableBuffer() []byte
}

// reserve returns n bytes to seal the plaintext pt into: the underlying
// writer's free space (direct) if it offers enough, does not overlap pt
// and nothing is waiting in w.out, else the free end of w.out, written out
// first if needed.
func (w *Writer) reserve(n int, pt []byte) (dst []byte, direct bool) {
	if cap(w.out)-len(w.out) < n {
		if w.flush(); w.err != nil {
			return nil, false
		}
	}
	if len(w.out) == 0 {
		if ab, ok := w.w.(availableBuffer); ok {
			if a := ab.AvailableBuffer(); cap(a) >= n && !alias.AnyOverlap(a[:n], pt) {
				return a[:n], true
			}
		}
	}
	return w.out[len(w.out) : len(w.out)+n], false
}

// sealOne appends segment w.seg of plaintext pt to w.out.
func (w *Writer) sealOne(pt []byte, last bool) {
	if w.seg >= maxSegments {
		w.err = ErrTooManySegments
		return
	}
	n := len(pt) + TagSize
	if cap(w.out)-len(w.out) < n {
		if w.flush(); w.err != nil {
			return
		}
	}
	copy(w.nonce[:], w.prefix[:])
	segmentNonce(&w.nonce, w.seg, last)
	if err := seal(w.aead, w.out[len(w.out):len(w.out)+n], &w.nonce, pt); err != nil {
		w.err = err
		return
	}
	w.out = w.out[:len(w.out)+n]
	w.seg++
}

// flush writes the sealed segments in w.out.
func (w *Writer) flush() {
	if len(w.out) > 0 && w.err == nil {
		if w.write(w.out); w.err == nil {
			w.done += w.pending
		}
	}
	w.out = w.out[:0]
	w.pending = 0
}

func (w *Writer) write(b []byte) {
	n, err := w.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	w.err = err
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
		w.sealOne(w.buf, true)
		w.flush()
	}
	w.wipe()
	return w.err
}

// Abort ends the stream without sealing a last segment: it writes nothing
// more to the underlying writer, drops the sealed segments not yet written
// and wipes the stream's key handle and plaintext buffer. The stream
// written so far is incomplete: a Reader or ReaderAt fails on it
// (ErrAuthentication or ErrTruncated) instead of returning io.EOF. Later
// Writes and Close fail: with ErrClosed, or with the error that had
// stopped the Writer. After Close, Abort does nothing, so it can be
// deferred.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	if w.err == nil {
		w.err = ErrClosed
	}
	w.out = w.out[:0]
	w.wipe()
}

// wipe clears the plaintext buffer and the stream's key handle.
func (w *Writer) wipe() {
	clear(w.buf[:cap(w.buf)])
	w.buf = nil
	w.c.Close()
}
