package aeskl

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/go-keylocker/keylocker/internal/fallback"
)

// NewFromKeyring makes a Cipher from a key in the Linux kernel's key
// retention service: the key id (a key serial number, as keyctl(1) prints
// it, or a special id such as unix.KEY_SPEC_...) must be of type "user"
// with a payload of 16, 24 or 32 bytes, readable by this process. The
// payload is read with keyctl(KEYCTL_READ) straight into scratch memory
// (see NewFromReader), made into a Cipher as New does, and wiped. The
// kernel keeps its own copy, in kernel memory, until the key is revoked,
// expires or is unlinked from every keyring: that is up to whoever added
// it. Keys of type "logon" cannot be read from user space at all, so this
// package cannot use them.
//
// Permissions that come from possessing the key (the default of a new
// key: all for its possessor, view only for its user) depend on the
// calling thread in a Go program: the process keyring hangs off the
// credentials of the thread that created it, which the program's other
// threads need not share. Give the key's user the read permission
// (keyctl setperm), keep it in the session or user keyring, or call from
// a goroutine locked to that thread (runtime.LockOSThread).
func NewFromKeyring(id int, opts ...Option) (*Cipher, error) {
	var c *Cipher
	err := readKeyring(id, []int{16, 24, 32}, func(key []byte) (err error) {
		c, err = New(key, opts...)
		return err
	})
	return c, err
}

// NewXTSFromKeyring is NewFromKeyring for an XTS key: a "user" key with a
// payload of 32, 48 or 64 bytes (data key || tweak key, as NewXTS).
func NewXTSFromKeyring(id int, opts ...Option) (*XTS, error) {
	var x *XTS
	err := readKeyring(id, []int{32, 48, 64}, func(key []byte) (err error) {
		x, err = NewXTS(key, opts...)
		return err
	})
	return x, err
}

// readKeyring reads the payload of the user key id, whose length must be
// one of sizes, into a fallback.Scratch, calls use with it and wipes it.
func readKeyring(id int, sizes []int, use func(key []byte) error) error {
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		return fmt.Errorf("aeskl: keyring key %d: %w", id, err)
	}
	if typ, _, _ := strings.Cut(desc, ";"); typ != "user" {
		return fmt.Errorf("aeskl: keyring key %d is of type %q: only user keys can be read", id, typ)
	}
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, nil, 0)
	if err != nil {
		return fmt.Errorf("aeskl: keyring key %d: %w", id, err)
	}
	ok := false
	for _, s := range sizes {
		ok = ok || n == s
	}
	if !ok {
		return fmt.Errorf("aeskl: keyring key %d holds %d bytes, want %s", id, n, joinSizes(sizes))
	}
	s, err := fallback.NewScratch(n)
	if err != nil {
		return fmt.Errorf("aeskl: %w", err)
	}
	defer s.Close()
	m, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, s.Bytes(), 0)
	if err != nil {
		return fmt.Errorf("aeskl: keyring key %d: %w", id, err)
	}
	if m != n {
		return fmt.Errorf("aeskl: keyring key %d changed while it was read (%d bytes, then %d)", id, n, m)
	}
	return use(s.Bytes())
}

func joinSizes(s []int) string {
	return fmt.Sprintf("%d, %d or %d", s[0], s[1], s[2])
}
