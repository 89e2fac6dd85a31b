package fallback

import (
	"crypto/subtle"
	"errors"

	"github.com/go-keylocker/keylocker/internal/handle"
)

// ErrRandom is GenericEncodeRandom's error when the random source gave no
// key (only the test source of builds with the aeskl_testrng tag can fail:
// crypto/rand.Read never returns an error).
var ErrRandom = errors.New("fallback: the random source failed")

// GenericEncodeRandom makes a handle for a key of keyLen bytes (16, 24 or
// 32) that nobody chose: it maps a Scratch of keyLen bytes (locked, guarded,
// out of core dumps, apart from the Go heap), fills it from crypto/rand
// (which writes straight into it, with getrandom on Linux, while
// crypto/rand.Reader is the default reader and FIPS 140 mode is off), XORs
// entropy[:keyLen] into it there, wraps it with GenericEncodeKey and wipes
// and unmaps the Scratch. The key thus passes through that memory and
// through GenericEncodeKey's wiped stack arrays, never through the Go heap.
// In builds with the aeskl_testrng tag the bytes come from
// internal/testrng's source instead.
func GenericEncodeRandom(region *Region, keyLen int, restrictions uint32, entropy *[32]byte, h *handle.Handle) error {
	if handle.KeyType(keyLen) < 0 {
		panic("fallback: GenericEncodeRandom: key must be 16, 24 or 32 bytes")
	}
	s, err := NewScratch(keyLen)
	if err != nil {
		return err
	}
	defer s.Close()
	k := s.Bytes()
	if !randomFill(k) {
		return ErrRandom
	}
	subtle.XORBytes(k, k, entropy[:keyLen])
	GenericEncodeKey(region, k, restrictions, h)
	return nil
}
