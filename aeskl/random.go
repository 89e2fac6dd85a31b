package aeskl

import (
	"errors"
	"fmt"

	"github.com/go-keylocker/keylocker/internal/kernel"
)

// ErrRandomSource reports that NewRandom or NewXTSRandom could not draw a
// key: the CPU's random source failed every try (RDSEED, then RDRAND, with
// the retries Intel recommends), or the CPU has neither instruction. No
// Cipher was made. A later call may succeed; a CPU that keeps failing is
// broken or under a denial-of-service attack on its random source.
var ErrRandomSource = errors.New("aeskl: the CPU's random source gave no key (RDSEED and RDRAND failed every try, or the CPU has neither)")

// NewRandom creates a Cipher whose key of size bytes (16, 24 or 32) nobody
// chose and this package never reveals. On Key Locker and on the sealed
// implementation it is drawn from the CPU's random source inside the
// assembly routine that turns it into a handle, so it never exists in
// memory, not even for an instant; the generic implementation comes as
// close as Go allows:
//
//   - Key Locker: the routine draws the key's 64-bit words with RDSEED
//     (falling back to RDRAND), straight into the vector registers that
//     ENCODEKEY128/256 reads, XORs in WithEntropy's bytes there, and keeps
//     only the handle. The general register each word passes through is
//     zeroed before the routine returns, as are the vector registers.
//   - aesni-sealed: the same draw, wrapped from the registers under the
//     process's software wrapping key as New wraps a key.
//   - generic (other architectures, -tags purego, or forced): Go code cannot
//     keep a value out of memory, so the key is read from crypto/rand into
//     a Scratch of its own (mapped apart from the Go heap, locked against
//     swap, out of core dumps, between guard pages), mixed with the entropy
//     there, wrapped, and the Scratch is wiped and unmapped. It passes
//     through that memory and the generic code's wiped stack arrays.
//
// RDSEED is tried up to 100 times per word with a PAUSE between tries, then
// RDRAND up to 10 times (Intel's guidance for each: RDSEED may run dry under
// load and should be retried after a pause; ten RDRAND failures in a row
// mean a broken CPU); a word of all ones, the value of some broken RDRAND
// implementations, counts as a failure. If every try fails, NewRandom
// returns ErrRandomSource and no Cipher.
//
// The key can never be exported: no function of this package returns a key
// or lets a caller unwrap a handle, and with Key Locker not even the CPU
// can put it back in a register. Data encrypted under it is readable only as
// long as the handle works: with Key Locker, until the wrapping key is
// gone, which is at the next reboot at the latest and, depending on the
// OS's policy (Support.WrappingKey), at suspend or hibernation; with the
// sealed and generic implementations, until the process exits. NewRandom
// is for ephemeral data: spill files, caches, swap, temporary files of a
// job, session state. Never use it for data that must outlive the process
// or a reboot.
//
// WithRestrictions and WithImplementation apply as for New; WithEntropy
// mixes caller entropy into the key (see its documentation for why XOR).
func NewRandom(size int, opts ...Option) (*Cipher, error) {
	cfg := newConfig(opts)
	var ent [32]byte
	defer clear(ent[:])
	if err := randomArgs(&cfg, size, size, ent[:]); err != nil {
		return nil, err
	}
	return newRandom(size, &cfg, &ent)
}

// NewXTSRandom is NewRandom for an XTS of size bytes (32, 48 or 64: data
// key and tweak key, each drawn as NewRandom draws a key). WithEntropy's
// bytes must be size long: the first half mixes into the data key, the
// second into the tweak key. The tweak handle gets NoDecrypt, as in NewXTS.
func NewXTSRandom(size int, opts ...Option) (*XTS, error) {
	switch size {
	case 32, 48, 64:
	default:
		return nil, fmt.Errorf("aeskl: invalid XTS key size %d (want 32, 48 or 64 bytes)", size)
	}
	cfg := newConfig(opts)
	half := size / 2
	var ent [64]byte
	defer clear(ent[:])
	if err := randomArgs(&cfg, half, size, ent[:]); err != nil {
		return nil, err
	}
	return newXTS(half, cfg, func(tweak bool, cfg *config) (*Cipher, error) {
		e := (*[32]byte)(ent[:32])
		if tweak {
			e = (*[32]byte)(ent[half:])
		}
		return newRandom(half, cfg, e)
	})
}

// randomArgs checks what NewRandom and NewXTSRandom share: the key size
// (keyLen), the restrictions, and that the entropy, if any, is total bytes
// long, which it copies to ent.
func randomArgs(cfg *config, keyLen, total int, ent []byte) error {
	switch keyLen {
	case 16, 24, 32:
	default:
		return KeySizeError(keyLen)
	}
	if err := cfg.checkRestrictions(); err != nil {
		return err
	}
	if cfg.hasEntropy {
		if len(cfg.entropy) != total {
			return fmt.Errorf("aeskl: WithEntropy gave %d bytes for a %d-byte key (they must be as long as the key)", len(cfg.entropy), total)
		}
		copy(ent, cfg.entropy)
	}
	cfg.entropy = nil
	return nil
}

// newRandom makes the Cipher of a random key of keyLen bytes mixed with
// ent[:keyLen].
func newRandom(keyLen int, cfg *config, ent *[32]byte) (*Cipher, error) {
	b, err := chooseBackend(keyLen, cfg)
	if err != nil {
		return nil, err
	}
	c := &Cipher{b: b, r: cfg.restrictions}
	if err := b.encodeRandom(keyLen, uint32(cfg.restrictions), ent, cfg.sources(), c.words()); err != nil {
		return nil, err
	}
	return c, nil
}

// sources returns what the random routines may execute: the CPU's RDSEED
// and RDRAND, or what a test forced.
func (cfg *config) sources() int {
	if cfg.randSources >= 0 {
		return cfg.randSources
	}
	s := detect()
	n := 0
	if s.RDSEED {
		n |= kernel.RandRDSEED
	}
	if s.RDRAND {
		n |= kernel.RandRDRAND
	}
	return n
}
