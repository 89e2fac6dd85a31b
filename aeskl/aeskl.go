// Package aeskl is AES whose key never sits in memory.
//
// On CPUs where Intel Key Locker is usable, New turns the AES key into a
// Key Locker handle with ENCODEKEY128/256 and every operation runs the
// AES*KL instructions on the handle: the key itself is gone from memory once
// New returns. Elsewhere (nearly every machine today) it falls back to a
// sealed software implementation with the same handle format: the handle is
// wrapped under a process-wide wrapping key that lives in locked, guarded
// memory, and the AES key is unwrapped only inside registers for each call.
//
// NewCipher is a drop-in for crypto/aes.NewCipher:
//
//	block, err := aeskl.NewCipher(key) // instead of aes.NewCipher(key)
//
// A handle is valid only for the wrapping key that made it: under Key Locker
// that key is the CPU's internal wrapping key (IWKey), which the OS may lose
// across suspend/resume and always loses at reboot. Every operation then
// fails with ErrInvalidHandle, and the output is zeroed: input never passes
// through as output. Never persist handles.
package aeskl

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/alias"
	"github.com/go-keylocker/keylocker/internal/handle"
)

// BlockSize is the AES block size in bytes.
const BlockSize = 16

// ErrInvalidHandle reports that the handle was rejected: the wrapping key
// that made it is gone (Key Locker's IWKey lost after suspend/resume or a
// reboot), or the handle was tampered with. An operation that the handle's
// restriction forbids fails with ErrRestricted, which errors.Is also
// reports as ErrInvalidHandle. The output of the failed operation is
// zeroed. Methods without an error result panic with it.
var ErrInvalidHandle = errors.New("aeskl: invalid handle (wrapping key lost, or handle tampered)")

// ErrRestricted reports an operation in a direction that the handle's
// restriction forbids: encryption (or CTR, GCM, an XTS encryption) with a
// NoEncrypt handle, decryption (ECB, CBC, XTS) with a NoDecrypt handle. The
// check is made in Go, from the restriction the Cipher was made with,
// before any kernel runs, so the answer is certain: the handle itself may
// be fine. errors.Is(err, ErrInvalidHandle) is true for it as well, so code
// written before it existed sees what it saw then; test for ErrRestricted
// first to tell "restricted" from "wrapping key lost". As with
// ErrInvalidHandle, the output is zeroed and methods without an error
// result panic with it.
var ErrRestricted error = restrictedError{}

type restrictedError struct{}

func (restrictedError) Error() string {
	return "aeskl: the handle's restriction (NoEncrypt or NoDecrypt) forbids this operation"
}

// Is makes errors.Is(ErrRestricted, ErrInvalidHandle) true.
func (restrictedError) Is(target error) bool { return target == ErrInvalidHandle }

// KeySizeError is what New returns for a key that is not 16, 24 or 32 bytes
// long. errors.As also finds it as a crypto/aes KeySizeError of the same
// value, so code written for crypto/aes that checks
// errors.As(err, new(aes.KeySizeError)) recognises it.
type KeySizeError int

func (k KeySizeError) Error() string {
	return "aeskl: invalid key size " + strconv.Itoa(int(k))
}

// As lets errors.As find k as an aes.KeySizeError.
func (k KeySizeError) As(target any) bool {
	if p, ok := target.(*aes.KeySizeError); ok {
		*p = aes.KeySizeError(k)
		return true
	}
	return false
}

// Cipher is an AES block cipher on a Key Locker handle. It implements
// cipher.Block. A Cipher is safe for concurrent use, Close included: a call
// on the Cipher or on a mode made from it that overlaps Close either
// finishes normally or panics with "aeskl: use of a closed Cipher" (its
// output zeroed), and every call that starts after Close returns panics.
type Cipher struct {
	// hw is the handle (metadata || tag || wrapped key) in 8-byte words,
	// written by the constructor before c is shared. The Key Locker and
	// sealed kernels read it in place (hp); Close wipes it with atomic
	// stores. No call writes to the Cipher, so calls from many goroutines
	// share its cache lines read-only, and no Key Locker or sealed call
	// copies the handle (the generic one does: it reads the handle in Go).
	hw     [handle.Size256 / 8]atomic.Uint64
	closed atomic.Bool
	b      backend     // set once by the constructor
	r      Restriction // the restrictions the handle was made with
}

var _ cipher.Block = (*Cipher)(nil)

// NewCipher creates a cipher.Block from a 16, 24 or 32-byte AES key, with
// the same signature as crypto/aes.NewCipher so that it can be passed where
// that function is (xts.NewCipher(aeskl.NewCipher, key), for instance). It
// never keeps or copies key: wipe it when you are done.
//
// For a key of any other length it returns what crypto/aes.NewCipher
// returns, an aes.KeySizeError (a plain type assertion finds it too); New
// returns this package's KeySizeError instead.
func NewCipher(key []byte) (cipher.Block, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, aes.KeySizeError(len(key))
	}
	c, err := New(key)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// New creates a Cipher from a 16, 24 or 32-byte AES key. The key is read
// straight into registers (Key Locker, aesni-sealed) and turned into a
// handle; New never keeps or copies it into Go memory it does not wipe.
func New(key []byte, opts ...Option) (*Cipher, error) {
	cfg := newConfig(opts)
	return newCipher(key, &cfg)
}

func newCipher(key []byte, cfg *config) (*Cipher, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, KeySizeError(len(key))
	}
	escape(key)
	if err := cfg.checkRestrictions(); err != nil {
		return nil, err
	}
	if cfg.hasEntropy {
		return nil, errEntropyNotRandom
	}
	b, err := chooseBackend(len(key), cfg)
	if err != nil {
		return nil, err
	}
	c := &Cipher{b: b, r: cfg.restrictions}
	b.encodeKey(key, uint32(cfg.restrictions), c.words())
	return c, nil
}

// words is c's handle as the kernels read it. Only the constructors write
// through it (before c is shared); calls go through hp.
func (c *Cipher) words() *handle.Handle {
	return (*handle.Handle)(unsafe.Pointer(&c.hw))
}

var errEntropyNotRandom = errors.New("aeskl: WithEntropy applies to NewRandom and NewXTSRandom only")

// escape is called through a variable, so that the compiler must assume
// that it keeps its argument: the caller's key buffer is then allocated on
// the heap, never on a goroutine stack. A stack can be copied to a new
// place when it grows, and the old copy of the key would be left in freed
// memory where the caller's clear(key) cannot reach it. (The memory scrape
// test found exactly that before this was added.) Heap objects never move.
var escape = func([]byte) {}

// BlockSize returns the AES block size, 16 bytes.
func (c *Cipher) BlockSize() int { return BlockSize }

// Implementation reports the implementation this Cipher runs on.
func (c *Cipher) Implementation() Implementation {
	c.check()
	return c.b.impl
}

// Close wipes the handle. A call that overlaps Close either finishes
// normally (it read the whole handle before the wipe) or panics with
// "aeskl: use of a closed Cipher"; every call that starts after Close
// returns panics so. Closing twice, or from several goroutines at once, is
// harmless.
func (c *Cipher) Close() {
	c.closed.Store(true)
	for i := range c.hw {
		c.hw[i].Store(0)
	}
}

const closedMsg = "aeskl: use of a closed Cipher"

// hp returns the handle for one call's kernels, or panics if c is closed.
//
// The Key Locker and sealed kernels read c's words in place. Close sets the
// closed flag and then wipes the words, so a kernel that runs while Close
// wipes reads a handle that is partly or wholly zero: its tag (the CPU's,
// or the sealed wrap's) no longer matches, the kernel refuses it, and the
// call, seeing the flag set, panics as closed (rejected) with its output
// zeroed. A kernel that accepted the handle read all of it before the
// wipe: its output is right. No call copies the handle, so no copy is left
// in a goroutine's stack, where a stack that moves would leave it behind.
//
// The generic implementation, which reads the handle in Go, copies it with
// atomic loads (genericCopy).
func (c *Cipher) hp() *handle.Handle {
	c.check()
	return c.words()
}

// rejected is the failure of a kernel that refused c's handle: the panic
// of a closed Cipher if Close ran meanwhile (the kernel read a wiped
// handle), else ErrInvalidHandle.
func (c *Cipher) rejected() error {
	c.check()
	return ErrInvalidHandle
}

// check panics if c is closed.
func (c *Cipher) check() {
	if c.closed.Load() {
		panic(closedMsg)
	}
}

// forbids reports whether the restriction c was made with forbids the
// direction (the kernels would only say false, as for a lost wrapping key).
func (c *Cipher) forbids(decrypt bool) bool {
	if decrypt {
		return c.r&NoDecrypt != 0
	}
	return c.r&NoEncrypt != 0
}

// Encrypt encrypts the first block of src into dst, as cipher.Block. It
// panics like crypto/aes on short or inexactly overlapping buffers, and,
// after zeroing the block of dst, with ErrRestricted for a NoEncrypt handle
// and ErrInvalidHandle if the handle is rejected.
func (c *Cipher) Encrypt(dst, src []byte) {
	h := c.hp()
	checkBlock(dst, src)
	if c.forbids(false) {
		clear(dst[:BlockSize])
		panic(ErrRestricted)
	}
	if !c.b.encrypt(h, dst[:BlockSize], src[:BlockSize]) {
		clear(dst[:BlockSize])
		panic(c.rejected())
	}
}

// Decrypt decrypts the first block of src into dst, as cipher.Block. It
// panics like crypto/aes on short or inexactly overlapping buffers, and,
// after zeroing the block of dst, with ErrRestricted for a NoDecrypt handle
// and ErrInvalidHandle if the handle is rejected.
func (c *Cipher) Decrypt(dst, src []byte) {
	h := c.hp()
	checkBlock(dst, src)
	if c.forbids(true) {
		clear(dst[:BlockSize])
		panic(ErrRestricted)
	}
	if !c.b.decrypt(h, dst[:BlockSize], src[:BlockSize]) {
		clear(dst[:BlockSize])
		panic(c.rejected())
	}
}

// EncryptBlocks encrypts src into dst in ECB mode: any whole number of
// blocks, dst at least as long as src, dst and src either the same or not
// overlapping. On Key Locker with WIDE_KL it issues one AESENCWIDE*KL per 8
// blocks. For a NoEncrypt handle dst[:len(src)] is zeroed and the error is
// ErrRestricted; if the handle is rejected, dst[:len(src)] is zeroed and the
// error is ErrInvalidHandle.
func (c *Cipher) EncryptBlocks(dst, src []byte) error {
	h := c.hp()
	if err := checkBlocks(dst, src); err != nil {
		return err
	}
	if len(src) == 0 {
		return nil
	}
	if c.forbids(false) {
		clear(dst[:len(src)])
		return ErrRestricted
	}
	if !c.b.encrypt(h, dst[:len(src)], src) {
		clear(dst[:len(src)])
		return c.rejected()
	}
	return nil
}

// DecryptBlocks decrypts src into dst in ECB mode, with the same rules as
// EncryptBlocks (ErrRestricted for a NoDecrypt handle).
func (c *Cipher) DecryptBlocks(dst, src []byte) error {
	h := c.hp()
	if err := checkBlocks(dst, src); err != nil {
		return err
	}
	if len(src) == 0 {
		return nil
	}
	if c.forbids(true) {
		clear(dst[:len(src)])
		return ErrRestricted
	}
	if !c.b.decrypt(h, dst[:len(src)], src) {
		clear(dst[:len(src)])
		return c.rejected()
	}
	return nil
}

func checkBlock(dst, src []byte) {
	if len(src) < BlockSize {
		panic("aeskl: input not full block")
	}
	if len(dst) < BlockSize {
		panic("aeskl: output not full block")
	}
	if alias.InexactOverlap(dst[:BlockSize], src[:BlockSize]) {
		panic("aeskl: invalid buffer overlap")
	}
}

func checkBlocks(dst, src []byte) error {
	if len(src)%BlockSize != 0 {
		return errors.New("aeskl: input is not a whole number of blocks")
	}
	if len(dst) < len(src) {
		return errors.New("aeskl: output smaller than input")
	}
	if alias.InexactOverlap(dst[:len(src)], src) {
		return errors.New("aeskl: invalid buffer overlap")
	}
	return nil
}
