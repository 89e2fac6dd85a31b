package cliutil

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-keylocker/keylocker/internal/fallback"
)

// Secret is a key or passphrase read into scratch memory of its own
// (fallback.Scratch: apart from the Go heap, locked against swap, out of
// core dumps, between guard pages, as far as the system grants it), read
// there straight from the file or terminal with no buffer in between. Pass
// Bytes to what turns it into handles (aeskl, aeskl/disk, aeskl/luks), then
// Close, which wipes and unmaps it. What those take it into (a KDF's state,
// say) is theirs to wipe.
type Secret struct {
	s *fallback.Scratch
	n int
}

// Bytes returns the secret; nothing may keep it after Close.
func (s *Secret) Bytes() []byte { return s.s.Bytes()[:s.n] }

// Close wipes and unmaps the secret.
func (s *Secret) Close() { s.s.Close() }

func newSecret(size int) (*Secret, error) {
	s, err := fallback.NewScratch(size)
	if err != nil {
		return nil, err
	}
	return &Secret{s: s, n: size}, nil
}

// openAt opens path and positions it offset bytes in (seeking where the
// file allows it, else reading and dropping the bytes before the key).
// what names the file in errors.
func openAt(what, path string, offset int64) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if offset > 0 {
		fi, err := f.Stat()
		if err == nil && fi.Mode().IsRegular() {
			if offset > fi.Size() {
				f.Close()
				return nil, fmt.Errorf("%s %s: shorter than --keyfile-offset %d", what, path, offset)
			}
			_, err = f.Seek(offset, io.SeekStart)
		} else {
			_, err = io.CopyN(io.Discard, f, offset)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s %s: shorter than --keyfile-offset %d", what, path, offset)
		}
	}
	return f, nil
}

// ReadKeyFile reads n bytes of the key file at path, starting offset bytes
// in, as cryptsetup reads a plain-mode key file (no hashing; a shorter file
// is an error), straight into a Secret.
func ReadKeyFile(path string, offset int64, n int) (*Secret, error) {
	f, err := openAt("key file", path, offset)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := newSecret(n)
	if err != nil {
		return nil, err
	}
	if m, err := io.ReadFull(f, s.Bytes()); err != nil {
		s.Close()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("key file %s: %d bytes after offset %d, the key needs %d", path, m, offset, n)
		}
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return s, nil
}

// ErrTooLarge is in ReadPassphraseFile's error for a file larger than its
// max.
var ErrTooLarge = errors.New("larger")

// ReadPassphraseFile reads a passphrase from the file at path as
// cryptsetup reads a key file, straight into a Secret: starting offset
// bytes in, exactly size bytes if size > 0 (fewer is an error), else the
// whole rest of the file, which must not exceed max bytes (an error
// wrapping ErrTooLarge). what names the file in errors ("key file",
// "passphrase file").
func ReadPassphraseFile(what, path string, offset int64, size, max int) (*Secret, error) {
	f, err := openAt(what, path, offset)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := max
	if size > 0 {
		limit = size
	} else if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size()-offset < int64(max) {
		limit = int(fi.Size() - offset) // no more scratch memory than the file can fill
	}
	s, err := newSecret(limit + 1)
	if err != nil {
		return nil, err
	}
	n, err := io.ReadFull(f, s.s.Bytes())
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		s.Close()
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	switch {
	case n > limit && size > 0:
		n = size
	case n > limit && limit < max:
		s.Close()
		return nil, fmt.Errorf("%s %s grew while it was read", what, path)
	case n > limit:
		s.Close()
		return nil, fmt.Errorf("%s %s is %w than %d bytes", what, path, ErrTooLarge, max)
	case size > 0 && n < size:
		s.Close()
		return nil, fmt.Errorf("%s %s: %d bytes, --keyfile-size asks for %d", what, path, n, size)
	}
	s.n = n
	return s, nil
}

// readLine reads a line typed on a raw terminal into b, one byte at a time
// (each read straight into b), with the editing a cooked terminal would
// do: backspace (DEL or BS) drops the last byte, Ctrl-U the whole line;
// Enter (CR or LF) ends it; Ctrl-C is ErrInterrupted; Ctrl-D on an empty
// line is io.EOF. A line that does not fit in b with its Enter is an
// error. Bytes dropped by editing are zeroed.
func readLine(r io.Reader, b []byte) (int, error) {
	n := 0
	for {
		if n == len(b) {
			clear(b)
			return 0, fmt.Errorf("the passphrase is longer than %d bytes", len(b))
		}
		m, err := r.Read(b[n : n+1])
		if m == 0 {
			if err == nil {
				continue
			}
			clear(b)
			if errors.Is(err, io.EOF) && n > 0 {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		switch c := b[n]; c {
		case '\r', '\n':
			b[n] = 0
			return n, nil
		case 0x7f, 0x08: // backspace
			b[n] = 0
			if n > 0 {
				n--
				b[n] = 0
			}
		case 0x15: // Ctrl-U
			clear(b[:n+1])
			n = 0
		case 0x03: // Ctrl-C
			clear(b)
			return 0, ErrInterrupted
		case 0x04: // Ctrl-D
			b[n] = 0
			if n == 0 {
				return 0, io.EOF
			}
		default:
			n++
		}
	}
}
