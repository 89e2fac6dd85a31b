package interop

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkStream64MiB encrypts and decrypts 64 MiB in memory with
// aeskl/stream and with Tink's own streaming AEAD (crypto/aes underneath)
// on the same data, key and parameters: one Writer or Reader per
// operation, the whole plaintext in one Write into a bytes.Buffer with
// room for the stream, the whole stream read to io.EOF into one buffer.
// aeskl/stream seals on up to GOMAXPROCS goroutines (-cpu 1 for one) and
// opens on one, Tink does both on one. Each side runs once untimed first,
// so that no timed run maps fresh pages of the output. Compare with
// benchstat -col /impl.
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
		}
		for _, s := range sides {
			b.Run(v.name+"/encrypt/"+s.name, func(b *testing.B) {
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
				if !bytes.Equal(out[:size], pt) {
					b.Fatal("wrong plaintext")
				}
			})
		}
	}
}
