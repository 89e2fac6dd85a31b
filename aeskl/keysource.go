package aeskl

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-keylocker/keylocker/internal/fallback"
)

// Key sources that leave no copy of the key in Go memory. A key that comes
// from outside the process has to pass through memory once: these
// functions read it into scratch memory of its own (mapped apart from the
// Go heap, so that the garbage collector never copies it; locked against
// swap, out of core dumps, zero in fork children, between guard pages, as
// far as the system grants it), turn it into a handle, then wipe and unmap
// that memory, on every path. Once they return, no copy of the key made by
// this package or by the Go runtime is left in the process.
//
// What they cannot control: copies made before the bytes reach the
// scratch memory. An *os.File (a key file, a pipe, a descriptor from
// NewFromFD) reads straight into it: the kernel copies from the page cache
// or the pipe into the scratch memory and nowhere else in the process. Any
// other io.Reader may pass the bytes through buffers of its own (a
// bufio.Reader, a decompressor, a network connection's TLS records) which
// nothing here can wipe: give these functions the *os.File itself. The
// kernel's own copies (page cache, pipe buffers, the keyring) are outside
// the process.

// NewFromReader reads a key of size bytes (16, 24 or 32) from r into
// scratch memory, makes a Cipher of it as New does (same options) and
// wipes the scratch memory. A reader that ends before size bytes gives an
// error and no Cipher. See above for what r itself may copy.
func NewFromReader(r io.Reader, size int, opts ...Option) (*Cipher, error) {
	switch size {
	case 16, 24, 32:
	default:
		return nil, KeySizeError(size)
	}
	var c *Cipher
	err := readKey(r, size, func(key []byte) (err error) {
		c, err = New(key, opts...)
		return err
	})
	return c, err
}

// NewXTSFromReader is NewFromReader for an XTS key of size bytes (32, 48 or
// 64: data key || tweak key, as NewXTS).
func NewXTSFromReader(r io.Reader, size int, opts ...Option) (*XTS, error) {
	if err := checkXTSSize(size); err != nil {
		return nil, err
	}
	var x *XTS
	err := readKey(r, size, func(key []byte) (err error) {
		x, err = NewXTS(key, opts...)
		return err
	})
	return x, err
}

// NewFromFile reads the first size bytes of the file at path (a key file;
// on Linux /dev/fd/N names an inherited descriptor) as NewFromReader does,
// straight into scratch memory, and closes the file. To start at an
// offset, open the file, seek, and give the *os.File to NewFromReader.
func NewFromFile(path string, size int, opts ...Option) (*Cipher, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("aeskl: key file: %w", err)
	}
	defer f.Close()
	return NewFromReader(f, size, opts...)
}

// NewXTSFromFile is NewFromFile for an XTS key of size bytes (32, 48 or 64).
func NewXTSFromFile(path string, size int, opts ...Option) (*XTS, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("aeskl: key file: %w", err)
	}
	defer f.Close()
	return NewXTSFromReader(f, size, opts...)
}

func checkXTSSize(size int) error {
	switch size {
	case 32, 48, 64:
		return nil
	}
	return fmt.Errorf("aeskl: invalid XTS key size %d (want 32, 48 or 64 bytes)", size)
}

// readKey reads size bytes from r into a fallback.Scratch, calls use with
// them and wipes and unmaps the Scratch.
func readKey(r io.Reader, size int, use func(key []byte) error) error {
	s, err := fallback.NewScratch(size)
	if err != nil {
		return fmt.Errorf("aeskl: %w", err)
	}
	defer s.Close()
	if n, err := io.ReadFull(r, s.Bytes()); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("aeskl: the key source ended after %d of the key's %d bytes", n, size)
		}
		return fmt.Errorf("aeskl: reading the key: %w", err)
	}
	return use(s.Bytes())
}
