package interop

import (
	"bytes"
	"io"
	"testing"

	"github.com/go-keylocker/keylocker/aeskl/stream"
)

// BenchmarkStream64MiB encrypts and decrypts 64 MiB in memory with
// aeskl/stream and with Tink's own streaming AEAD (crypto/aes underneath)
// on the same data, key and parameters: one Writer or Reader per
// operation, the whole plaintext in one Write into a bytes.Buffer with
// room for the stream, the whole stream read to io.EOF into one buffer.
// aeskl/stream seals and opens on up to GOMAXPROCS goroutines (-cpu 1 for
// one; it opens in parallel because a bytes.Reader is an io.ReaderAt and
// io.Seeker), Tink does both on one. impl=copy decrypts nothing: it is
// the memory work of a Reader that reads the stream in turn through a
// round buffer into the caller's (copyReader, one goroutine), the floor
// under such a Reader (aeskl's at -cpu 1). Each
// side runs once untimed first, so that no timed run maps fresh pages of
// the output. Compare with benchstat -col /impl.
func BenchmarkStream64MiB(b *testing.B) {
	const size = 64 << 20
	pt := randBytes(size)
	ad := []byte("associated data")
	for _, v := range variants[:4] {
		mk := randBytes(v.keyLen)
		k, tk := keys(b, v, mk)
		ct := tinkEncrypt(b, tk, pt, ad)
		out := make([]byte, size+1)
		var sink bytes.Buffer
		sink.Grow(len(ct))
		sides := []struct {
			name string
			enc  func() (io.WriteCloser, error)
			dec  func() (io.Reader, error)
		}{
			{"impl=aeskl",
				func() (io.WriteCloser, error) { return k.NewWriter(&sink, ad) },
				func() (io.Reader, error) { return k.NewReader(bytes.NewReader(ct), ad) }},
			{"impl=tink",
				func() (io.WriteCloser, error) { return tk.NewEncryptingWriter(&sink, ad) },
				func() (io.Reader, error) { return tk.NewDecryptingReader(bytes.NewReader(ct), ad) }},
			{"impl=copy", nil,
				func() (io.Reader, error) { return newCopyReader(bytes.NewReader(ct), v.p), nil }},
		}
		for _, s := range sides {
			b.Run(v.name+"/encrypt/"+s.name, func(b *testing.B) {
				if s.enc == nil {
					b.Skip("no encryption side")
				}
				b.SetBytes(size)
				encrypt := func() {
					sink.Reset()
					w, err := s.enc()
					if err != nil {
						b.Fatal(err)
					}
					if _, err := w.Write(pt); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
				encrypt() // untimed: the sink's pages are mapped before the first timed run
				for b.Loop() {
					encrypt()
				}
				if sink.Len() != len(ct) {
					b.Fatalf("%d bytes written, want %d", sink.Len(), len(ct))
				}
			})
			b.Run(v.name+"/decrypt/"+s.name, func(b *testing.B) {
				b.SetBytes(size)
				decrypt := func() {
					r, err := s.dec()
					if err != nil {
						b.Fatal(err)
					}
					if n, err := io.ReadFull(r, out); n != size || err != io.ErrUnexpectedEOF {
						b.Fatalf("read %d bytes, %v", n, err)
					}
				}
				decrypt() // untimed: out's pages are mapped before the first timed run
				for b.Loop() {
					decrypt()
				}
				if s.name != "impl=copy" && !bytes.Equal(out[:size], pt) {
					b.Fatal("wrong plaintext")
				}
			})
		}
	}
}

// copyReader does a stream Reader's memory work without its crypto: it
// skips the header, reads rounds of whole segments (512 KiB of them, or
// one) from r into its buffer as aeskl/stream's Reader does, and copies
// each segment but its tag to the caller. It checks nothing.
type copyReader struct {
	r    io.Reader
	p    stream.Params
	buf  []byte
	seg  int    // segments read
	pend []byte // copied data the caller had no room for
	err  error
}

func newCopyReader(r io.Reader, p stream.Params) *copyReader {
	per := max(1, (512<<10)/p.SegmentSize)
	c := &copyReader{r: r, p: p, buf: make([]byte, per*p.SegmentSize)}
	if _, err := io.ReadFull(r, make([]byte, p.HeaderSize())); err != nil {
		c.err = err
	}
	return c
}

func (c *copyReader) Read(p []byte) (int, error) {
	if len(c.pend) > 0 {
		n := copy(p, c.pend)
		c.pend = c.pend[n:]
		return n, nil
	}
	if c.err != nil {
		return 0, c.err
	}
	want := len(c.buf)
	if c.seg == 0 {
		want -= c.p.HeaderSize()
	}
	m, err := io.ReadFull(c.r, c.buf[:want])
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = io.EOF
	}
	c.err = err
	n := 0
	for off := 0; off < m; c.seg++ {
		s := c.p.SegmentSize
		if c.seg == 0 {
			s -= c.p.HeaderSize()
		}
		s = min(s, m-off)
		data := c.buf[off : off+max(0, s-16)]
		k := copy(p[n:], data)
		if k < len(data) {
			c.pend = data[k:]
		}
		n += k
		off += s
	}
	if n == 0 && c.err != nil {
		return 0, c.err
	}
	return n, nil
}
