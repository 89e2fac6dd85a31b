//go:build !linux

package aeskl

import "errors"

var errNoKeyring = errors.New("aeskl: kernel keyrings exist on Linux only")

// NewFromKeyring reads a key from the Linux kernel's keyring; elsewhere it
// returns an error.
func NewFromKeyring(id int, opts ...Option) (*Cipher, error) { return nil, errNoKeyring }

// NewXTSFromKeyring reads an XTS key from the Linux kernel's keyring;
// elsewhere it returns an error.
func NewXTSFromKeyring(id int, opts ...Option) (*XTS, error) { return nil, errNoKeyring }
