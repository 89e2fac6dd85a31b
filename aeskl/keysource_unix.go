//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package aeskl

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// NewFromFD reads a key of size bytes (16, 24 or 32) from the open file
// descriptor fd (a pipe or file a parent process passed, for example) as
// NewFromReader does, straight into scratch memory. fd stays open and
// belongs to the caller: NewFromFD reads through a duplicate of it, which
// it closes. A file's offset, which the duplicate shares, moves past the
// key.
func NewFromFD(fd int, size int, opts ...Option) (*Cipher, error) {
	f, err := dupFile(fd)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return NewFromReader(f, size, opts...)
}

// NewXTSFromFD is NewFromFD for an XTS key of size bytes (32, 48 or 64).
func NewXTSFromFD(fd int, size int, opts ...Option) (*XTS, error) {
	f, err := dupFile(fd)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return NewXTSFromReader(f, size, opts...)
}

// dupFile returns an *os.File on a duplicate of fd (an *os.File closes its
// descriptor when it is collected: never wrap the caller's own).
func dupFile(fd int) (*os.File, error) {
	d, err := unix.Dup(fd)
	if err != nil {
		return nil, fmt.Errorf("aeskl: key descriptor %d: %w", fd, err)
	}
	unix.CloseOnExec(d)
	return os.NewFile(uintptr(d), fmt.Sprintf("key descriptor %d", fd)), nil
}
