package luks

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/subtle"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/fallback"
	"github.com/go-keylocker/keylocker/internal/kdf"
)

// hashes are the hash names of cryptsetup this package implements.
var hashes = map[string]func() hash.Hash{
	"sha1":     sha1.New,
	"sha224":   sha256.New224,
	"sha256":   sha256.New,
	"sha384":   sha512.New384,
	"sha512":   sha512.New,
	"sha3-224": func() hash.Hash { return sha3.New224() },
	"sha3-256": func() hash.Hash { return sha3.New256() },
	"sha3-384": func() hash.Hash { return sha3.New384() },
	"sha3-512": func() hash.Hash { return sha3.New512() },
}

func hashByName(name string) (func() hash.Hash, error) {
	if h, ok := hashes[strings.ToLower(name)]; ok {
		return h, nil
	}
	return nil, &UnsupportedError{Feature: fmt.Sprintf("hash %q (supported: sha1, sha224, sha256, sha384, sha512, sha3-224 to sha3-512)", name)}
}

// scrub overwrites the input buffer of one of Go's SHA-1 and SHA-2
// digests, which still holds the last partial block written to it: one
// byte, then the rest of a block, go through that buffer. (A whole block
// written at once would bypass it.) It leaves h reset.
func scrub(h hash.Hash) {
	var zero [256]byte
	h.Reset()
	h.Write(zero[:1])
	h.Write(zero[:h.BlockSize()-1])
	h.Reset()
}

// pbkdf2 is PBKDF2 (RFC 8018) with HMAC-newHash. It is written out rather
// than taken from crypto/pbkdf2 (whose password is a string, a copy nobody
// can wipe) or crypto/hmac (which keeps the key XORed with its pads): here
// the password, the padded keys and the hash states saved after them live
// only in buffers that are cleared, and the hashes are reset at the end.
func pbkdf2(newHash func() hash.Hash, password, salt []byte, iter, keyLen int) ([]byte, error) {
	if iter < 1 || keyLen < 1 {
		return nil, fmt.Errorf("PBKDF2 with %d iterations and a %d-byte output", iter, keyLen)
	}
	inner, outer := newHash(), newHash()
	im, ok1 := inner.(encoding.BinaryMarshaler)
	iu, ok2 := inner.(encoding.BinaryUnmarshaler)
	om, ok3 := outer.(encoding.BinaryMarshaler)
	ou, ok4 := outer.(encoding.BinaryUnmarshaler)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, errors.New("PBKDF2: the hash cannot save its state")
	}
	bs, size := inner.BlockSize(), inner.Size()
	pad := make([]byte, bs)
	defer clear(pad)
	if len(password) > bs {
		inner.Write(password)
		hk := inner.Sum(nil)
		copy(pad, hk)
		clear(hk)
		scrub(inner)
	} else {
		copy(pad, password)
	}
	for i := range pad {
		pad[i] ^= 0x36
	}
	inner.Write(pad) // one whole block: it goes straight to the state
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	outer.Write(pad)
	clear(pad)
	// The states after the padded keys: they follow from the password.
	istate, err := im.MarshalBinary()
	defer clear(istate)
	if err != nil {
		return nil, err
	}
	ostate, err := om.MarshalBinary()
	defer clear(ostate)
	if err != nil {
		return nil, err
	}
	prf := func(dst, msg []byte) []byte {
		iu.UnmarshalBinary(istate)
		inner.Write(msg)
		var sum [64]byte
		s := inner.Sum(sum[:0])
		ou.UnmarshalBinary(ostate)
		outer.Write(s)
		clear(s)
		return outer.Sum(dst)
	}
	blocks := (keyLen + size - 1) / size
	dk := make([]byte, 0, blocks*size)
	u := make([]byte, 0, size)
	msg := make([]byte, len(salt)+4)
	copy(msg, salt)
	for b := 1; b <= blocks; b++ {
		binary.BigEndian.PutUint32(msg[len(salt):], uint32(b))
		dk = prf(dk, msg)
		t := dk[len(dk)-size:]
		u = append(u[:0], t...)
		for range iter - 1 {
			u = prf(u[:0], u)
			subtle.XORBytes(t, t, u)
		}
	}
	clear(u)
	clear(dk[keyLen:])
	scrub(inner)
	scrub(outer)
	return dk[:keyLen], nil
}

// Limits on a keyslot's KDF parameters, against a header crafted to make
// the unlock run out of memory or for days. Argon2's memory: 4 GiB, the
// most cryptsetup accepts. Its work, passes times memory: at most 2^32
// KiB (4096 passes over 1 GiB, an hour or two of one lane at about 1 GiB
// a second). cryptsetup accepts up to 2^32-1 passes itself, but its
// benchmark, which sets the passes for an unlock of a few seconds, gives
// headers orders of magnitude below that. PBKDF2's iterations: at most
// 2^31-1 (with SHA-256, some minutes of one core per 32 bytes of key:
// long, but it ends).
const (
	maxArgonMemoryKiB = 4 << 20
	maxArgonWorkKiB   = 1 << 32
	maxIterations     = 1<<31 - 1
)

// derive runs a keyslot's KDF on the passphrase, into scratch memory
// (fallback.Scratch) that the caller closes, which wipes it. Argon2 writes
// its key there directly; PBKDF2's is copied there and its own wiped.
func (k *KDF) derive(pass []byte, keyLen int, note *string) (*fallback.Scratch, error) {
	if len(k.Salt) == 0 {
		return nil, errors.New("the KDF has no salt")
	}
	switch k.Type {
	case "pbkdf2":
		h, err := hashByName(k.Hash)
		if err != nil {
			return nil, err
		}
		if k.Iterations < 1 || k.Iterations > maxIterations {
			return nil, fmt.Errorf("PBKDF2 iterations %d out of range", k.Iterations)
		}
		dk, err := pbkdf2(h, pass, k.Salt, k.Iterations, keyLen)
		if err != nil {
			return nil, err
		}
		key, err := fallback.NewScratch(keyLen)
		if err != nil {
			clear(dk)
			return nil, err
		}
		copy(key.Bytes(), dk)
		clear(dk)
		return key, nil
	case "argon2i", "argon2id":
		if k.Time < 1 || k.Memory > 0 && uint64(k.Time) > maxArgonWorkKiB/uint64(k.Memory) {
			return nil, fmt.Errorf("%s time cost %d out of range (1 to 2^32 KiB of work over %d KiB)", k.Type, k.Time, k.Memory)
		}
		if k.CPUs < 1 || k.CPUs > 255 {
			return nil, fmt.Errorf("%s parallelism %d out of range (1 to 255)", k.Type, k.CPUs)
		}
		if k.Memory < 8*k.CPUs || k.Memory > maxArgonMemoryKiB {
			return nil, fmt.Errorf("%s memory %d KiB out of range (%d KiB to 4 GiB)", k.Type, k.Memory, 8*k.CPUs)
		}
		if keyLen < 4 {
			return nil, fmt.Errorf("%s output of %d bytes (at least 4)", k.Type, keyLen)
		}
		mode := kdf.Argon2id
		if k.Type == "argon2i" {
			mode = kdf.Argon2i
		}
		// The repository's Argon2, whose memory is wiped, and locked
		// against swap as far as RLIMIT_MEMLOCK allows (note says when
		// not).
		key, err := fallback.NewScratch(keyLen)
		if err != nil {
			return nil, err
		}
		st, err := kdf.Argon2Status(key.Bytes(), kdf.Impl(aeskl.Detect().Argon2), mode, pass, k.Salt, nil, nil, uint32(k.Time), uint32(k.Memory), uint8(k.CPUs))
		if err != nil {
			key.Close()
			return nil, err
		}
		if note != nil && *note == "" {
			*note = kdf.UnlockedNote(k.Type, uint32(k.Memory), st)
		}
		return key, nil
	}
	return nil, &UnsupportedError{Feature: fmt.Sprintf("KDF %q (supported: pbkdf2, argon2i, argon2id)", k.Type)}
}

// afMerge recovers a key of keyLen bytes from the anti-forensic split
// material (stripes blocks of keyLen bytes) as LUKS's AF splitter
// defines it: d = 0; d = diffuse(d XOR s_i) for every stripe but the last;
// key = d XOR s_last, where diffuse replaces each hash-sized piece j of d
// by hash(be32(j) || piece), truncated to the piece's length.
func afMerge(material []byte, keyLen, stripes int, newHash func() hash.Hash) []byte {
	d := make([]byte, keyLen)
	h := newHash()
	var sum [64]byte
	for i := range stripes - 1 {
		subtle.XORBytes(d, d, material[i*keyLen:(i+1)*keyLen])
		var ctr [4]byte
		for j, off := 0, 0; off < keyLen; j, off = j+1, off+h.Size() {
			n := min(h.Size(), keyLen-off)
			h.Reset()
			binary.BigEndian.PutUint32(ctr[:], uint32(j))
			h.Write(ctr[:])
			h.Write(d[off : off+n])
			copy(d[off:off+n], h.Sum(sum[:0]))
		}
	}
	key := make([]byte, keyLen)
	subtle.XORBytes(key, d, material[(stripes-1)*keyLen:stripes*keyLen])
	clear(d)
	clear(sum[:])
	scrub(h)
	return key
}

// afSplitSize is the bytes of split material of a key: keyLen*stripes
// rounded up to 512-byte sectors.
func afSplitSize(keyLen, stripes int) int {
	return (keyLen*stripes + 511) / 512 * 512
}

// verifyDigest checks a volume key against a pbkdf2 digest in constant
// time.
func (d *Digest) verify(key []byte) (bool, error) {
	if d.Type != "pbkdf2" {
		return false, &UnsupportedError{Feature: fmt.Sprintf("digest type %q (supported: pbkdf2)", d.Type)}
	}
	h, err := hashByName(d.Hash)
	if err != nil {
		return false, err
	}
	// As cryptsetup: a 32-byte salt, and a digest of 20 bytes (LUKS1's
	// size) or of the hash's.
	if d.Iterations < 1 || d.Iterations > maxIterations || len(d.Salt) != 32 ||
		(len(d.Digest) != 20 && len(d.Digest) != h().Size()) {
		return false, fmt.Errorf("digest %d: bad parameters (%d iterations, %d-byte salt, %d-byte digest)",
			d.ID, d.Iterations, len(d.Salt), len(d.Digest))
	}
	got, err := pbkdf2(h, key, d.Salt, d.Iterations, len(d.Digest))
	if err != nil {
		return false, err
	}
	ok := subtle.ConstantTimeCompare(got, d.Digest) == 1
	clear(got)
	return ok, nil
}
