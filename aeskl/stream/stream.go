// Package stream is streaming authenticated encryption in Tink's
// AES-GCM-HKDF streaming AEAD format, run by aeskl: every stream gets its
// own AES key, derived from the main key with HKDF-SHA256, and that key is
// an aeskl handle from the moment it exists.
//
// The format (Tink's wire format, byte for byte; Tink reads what this
// package writes and the reverse):
//
//	header || segment_0 || segment_1 || ... || segment_n-1
//	header = header_length (1 byte, = 1 + KeySize + 7) || salt (KeySize bytes) || nonce_prefix (7 bytes)
//
// The segment key is HKDF-SHA256(IKM = main key, salt, info = associated
// data), KeySize bytes. The plaintext is cut into segments of
// SegmentSize-16 bytes, the first one shorter by the header length; each
// segment is sealed with AES-GCM under the segment key, no associated data
// and the 12-byte nonce
//
//	nonce_prefix || segment number (4 bytes, big-endian) || last (1 byte: 1 for the last segment, else 0)
//
// so that every ciphertext segment but the last is SegmentSize bytes long
// (the first SegmentSize - header length), tag included. An empty plaintext
// is one empty last segment. The last-segment flag makes truncation at a
// segment boundary detectable; the segment number in the nonce makes a
// dropped, reordered or duplicated segment fail; the associated data is
// bound through the key derivation.
//
// Memory: a Key keeps its main key sealed under a random aeskl handle and
// unseals it only for a key derivation, into a buffer that is wiped with
// every other intermediate of the derivation (the HMAC pads and states,
// the pseudorandom key, the derived key) as soon as the derived key is an
// aeskl handle; from then on aeskl's promises hold for it (see the
// repository's SECURITY.md: none for the copies the generic implementation
// may leave). A test scans a child process that used a Key for each of
// those values.
//
// Writer and Reader hold a bounded amount of data: a round of segments
// (512 KiB, or two segments for a Writer and one for a Reader if that is
// more) and, for the Writer, one
// plaintext segment (and, during a Write whose argument lies in the
// underlying writer's free space, a copy of that argument); a ReaderAt a
// segment or a round per goroutine a ReadAt runs on (up to GOMAXPROCS, at
// most 8), and so does a Reader that reads an io.ReaderAt that way, on
// top of its own round. None of them returns plaintext of a segment that
// failed authentication.
package stream

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/go-keylocker/keylocker/aeskl"
)

const (
	// TagSize is the size of the GCM tag at the end of every segment.
	TagSize = 16
	// NoncePrefixSize is the size of the nonce prefix in the header.
	NoncePrefixSize = 7
	nonceSize       = 12
	// maxSegments is the number of segments a stream may have: segment
	// numbers are 32 bits and Tink refuses the number 2^32-1.
	maxSegments = math.MaxUint32
)

// Params are the parameters of an AES-GCM-HKDF streaming AEAD key (HKDF
// always runs with SHA-256). Writer and reader must use the same.
type Params struct {
	// KeySize is the size in bytes of the derived AES-GCM key, 16 or 32,
	// and of the salt in the header. The main key is at least as long.
	KeySize int
	// SegmentSize is the size in bytes of a ciphertext segment, its
	// 16-byte tag included: at least KeySize+25, at most 2^31-1.
	SegmentSize int
}

// Tink's key templates of this format (main key size = KeySize).
var (
	AES128GCMHKDF4KB = Params{KeySize: 16, SegmentSize: 4096}
	AES128GCMHKDF1MB = Params{KeySize: 16, SegmentSize: 1 << 20}
	AES256GCMHKDF4KB = Params{KeySize: 32, SegmentSize: 4096}
	AES256GCMHKDF1MB = Params{KeySize: 32, SegmentSize: 1 << 20}
)

// Validate reports whether p is a parameter set Tink accepts.
func (p Params) Validate() error {
	if p.KeySize != 16 && p.KeySize != 32 {
		return fmt.Errorf("stream: derived key size %d, want 16 or 32", p.KeySize)
	}
	if p.SegmentSize < p.KeySize+25 || p.SegmentSize > math.MaxInt32 {
		return fmt.Errorf("stream: segment size %d, want %d to %d", p.SegmentSize, p.KeySize+25, math.MaxInt32)
	}
	return nil
}

// HeaderSize is the size of the stream header: 1 + KeySize + 7.
func (p Params) HeaderSize() int { return 1 + p.KeySize + NoncePrefixSize }

// ptSeg is the plaintext size of a full segment.
func (p Params) ptSeg() int { return p.SegmentSize - TagSize }

// ptLimit is the plaintext size of segment i when it is not the last.
func (p Params) ptLimit(i uint64) int {
	if i == 0 {
		return p.ptSeg() - p.HeaderSize()
	}
	return p.ptSeg()
}

// ptStart is the plaintext offset of segment i.
func (p Params) ptStart(i uint64) int64 {
	if i == 0 {
		return 0
	}
	return int64(i)*int64(p.ptSeg()) - int64(p.HeaderSize())
}

// ctStart is the ciphertext offset of segment i.
func (p Params) ctStart(i uint64) int64 {
	if i == 0 {
		return int64(p.HeaderSize())
	}
	return int64(i) * int64(p.SegmentSize)
}

// segments returns the number of segments of a plaintext of n bytes.
func (p Params) segments(n int64) uint64 {
	first := int64(p.ptLimit(0))
	if n <= first {
		return 1
	}
	full := int64(p.ptSeg())
	return 1 + uint64((n-first+full-1)/full)
}

// CiphertextSize returns the size of the stream that a plaintext of n
// bytes encrypts to.
func (p Params) CiphertextSize(n int64) (int64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errors.New("stream: negative plaintext size")
	}
	s := p.segments(n)
	if s > maxSegments {
		return 0, ErrTooManySegments
	}
	c := n + int64(p.HeaderSize()) + int64(s)*TagSize
	if c < n {
		return 0, ErrTooManySegments
	}
	return c, nil
}

// PlaintextSize returns the size of the plaintext in a stream of n bytes,
// or an error if no stream has that size (one whose last segment would be
// shorter than a tag: truncated).
func (p Params) PlaintextSize(n int64) (int64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	s, err := p.ctSegments(n)
	if err != nil {
		return 0, err
	}
	return n - int64(p.HeaderSize()) - int64(s)*TagSize, nil
}

// ctSegments returns the number of segments of a stream of n bytes.
func (p Params) ctSegments(n int64) (uint64, error) {
	if n < int64(p.HeaderSize())+TagSize {
		return 0, fmt.Errorf("%w: %d bytes is shorter than a header and one tag", ErrTruncated, n)
	}
	s := uint64((n + int64(p.SegmentSize) - 1) / int64(p.SegmentSize))
	if n-p.ctStart(s-1) < TagSize {
		return 0, fmt.Errorf("%w: a stream of %d bytes would end in a segment shorter than a tag", ErrTruncated, n)
	}
	if s > maxSegments {
		return 0, ErrTooManySegments
	}
	return s, nil
}

var (
	// ErrAuthentication reports a segment that failed authentication: a
	// wrong key or associated data, or a ciphertext that was modified,
	// truncated, extended or had segments reordered, dropped or
	// duplicated. No plaintext of that segment is returned.
	ErrAuthentication = errors.New("stream: authentication failed")
	// ErrTruncated reports a stream that ends where no stream can end
	// (inside the header, or with a last segment shorter than its tag).
	ErrTruncated = errors.New("stream: truncated ciphertext")
	// ErrHeader reports a header whose length byte does not match the
	// parameters: not a stream, or one made with another key size.
	ErrHeader = errors.New("stream: invalid header")
	// ErrTooManySegments reports a stream longer than 2^32-1 segments.
	ErrTooManySegments = errors.New("stream: too many segments")
	// ErrClosed reports the use of a closed Key, Writer or Reader.
	ErrClosed = errors.New("stream: use after Close")
)

// A Key is a main key with its parameters. The main key is kept sealed: it
// is encrypted with AES-GCM under an aeskl handle of a random AES-256 key
// made for this Key, and decrypted only for the key derivation of each
// stream, into a buffer wiped right after. A Key is safe for concurrent
// use, Close included: Close waits for the key derivations under way, and
// the streams started after it fail with ErrClosed.
type Key struct {
	p       Params
	opts    []aeskl.Option
	mu      sync.RWMutex
	wrapper *aeskl.Cipher
	wrapGCM cipher.AEAD
	nonce   [nonceSize]byte
	sealed  []byte // the main key sealed under wrapGCM
	keyLen  int
}

// NewKey makes a Key from a main key of at least p.KeySize bytes. It
// keeps no copy of mainKey: wipe it (clear) when NewKey returns. The
// options go to aeskl.New for every AES key the Key makes.
func NewKey(mainKey []byte, p Params, opts ...aeskl.Option) (*Key, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(mainKey) < p.KeySize {
		return nil, fmt.Errorf("stream: main key of %d bytes, want at least %d", len(mainKey), p.KeySize)
	}
	k := &Key{p: p, opts: opts, keyLen: len(mainKey)}
	wk := make([]byte, 32)
	rand.Read(wk)
	c, err := aeskl.New(wk, opts...)
	clear(wk)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	rand.Read(k.nonce[:])
	k.wrapper, k.wrapGCM = c, g
	k.sealed = g.Seal(nil, k.nonce[:], mainKey, nil)
	return k, nil
}

// Params returns the Key's parameters.
func (k *Key) Params() Params { return k.p }

// Close wipes the handle that seals the main key; the Key can no longer
// start streams (Writers and Readers started before keep working).
func (k *Key) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.wrapper != nil {
		k.wrapper.Close()
		k.wrapper, k.wrapGCM = nil, nil
		clear(k.sealed)
	}
}

// openHeader checks a stream header read in full (its length byte) and
// derives the segment key from its salt: the start of every reader.
func (k *Key) openHeader(hdr, ad []byte) (*aeskl.Cipher, cipher.AEAD, [NoncePrefixSize]byte, error) {
	var prefix [NoncePrefixSize]byte
	if hdr[0] != byte(len(hdr)) {
		return nil, nil, prefix, fmt.Errorf("%w: header length %d, want %d", ErrHeader, hdr[0], len(hdr))
	}
	c, g, err := k.segmentKey(hdr[1:1+k.p.KeySize], ad)
	copy(prefix[:], hdr[1+k.p.KeySize:])
	return c, g, prefix, err
}

// segmentKey derives the AES key of a stream with the given salt and
// associated data and returns it as a handle with GCM on it. Every buffer
// that held the main key or a value derived from it is wiped before it
// returns, and so is the stack the derivation ran on.
func (k *Key) segmentKey(salt, ad []byte) (*aeskl.Cipher, cipher.AEAD, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.wrapper == nil {
		return nil, nil, ErrClosed
	}
	burnStack() // room for the derivation: the stack must not move under it
	c, err := k.derive(salt, ad)
	burnStack()
	if err != nil {
		return nil, nil, err
	}
	g, err := cipher.NewGCM(c)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, g, nil
}

//go:noinline
func (k *Key) derive(salt, ad []byte) (*aeskl.Cipher, error) {
	s := new(hkdfState)
	buf := make([]byte, k.keyLen)
	defer func() {
		clear(buf)
		*s = hkdfState{}
	}()
	ikm, err := k.wrapGCM.Open(buf[:0], k.nonce[:], k.sealed, nil)
	if err != nil {
		return nil, fmt.Errorf("stream: unsealing the main key: %w", err)
	}
	s.derive(ikm, salt, ad)
	return aeskl.New(s.okm[:k.p.KeySize], k.opts...)
}

// segmentNonce writes the nonce of segment i into n (whose first 7 bytes
// are the nonce prefix).
func segmentNonce(n *[nonceSize]byte, i uint64, last bool) {
	n[7], n[8], n[9], n[10] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	n[11] = 0
	if last {
		n[11] = 1
	}
}
