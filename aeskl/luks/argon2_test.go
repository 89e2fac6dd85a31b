package luks

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	xblake2b "golang.org/x/crypto/blake2b"
)

func TestBLAKE2b(t *testing.T) {
	r := testRand(11)
	var d blake2b
	for _, n := range []int{0, 1, 63, 64, 127, 128, 129, 255, 256, 257, 1000, 1024} {
		in := randBytesT(r, n)
		for _, size := range []int{1, 4, 20, 32, 33, 63, 64} {
			x, err := xblake2b.New(size, nil)
			if err != nil {
				t.Fatal(err)
			}
			x.Write(in)
			want := x.Sum(nil)
			// In pieces of every size, to cross the block boundary.
			for _, piece := range []int{1, 7, 128, 1 << 20} {
				d.init(size)
				for p := in; len(p) > 0; {
					k := min(piece, len(p))
					d.write(p[:k])
					p = p[k:]
				}
				got := make([]byte, size)
				d.sum(got)
				if !bytes.Equal(got, want) {
					t.Errorf("BLAKE2b-%d of %d bytes (pieces of %d): %x, want %x", 8*size, n, piece, got, want)
				}
			}
		}
	}
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestArgon2RFC9106 checks the test vectors of RFC 9106, section 5:
// 32 KiB, 3 passes, 4 lanes, with a secret and associated data.
func TestArgon2RFC9106(t *testing.T) {
	pass, salt := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16)
	secret, ad := bytes.Repeat([]byte{3}, 8), bytes.Repeat([]byte{4}, 12)
	for _, c := range []struct {
		mode int
		tag  string
	}{
		{argon2d, "51 2b 39 1b 6f 11 62 97 53 71 d3 09 19 73 42 94 f8 68 e3 be 39 84 f3 c1 a1 3a 4d b9 fa be 4a cb"},
		{argon2i, "c8 14 d9 d1 dc 7f 37 aa 13 f0 d7 7f 24 94 bd a1 c8 de 6b 01 6d d3 88 d2 99 52 a4 c4 67 2b 6c e8"},
		{argon2id, "0d 64 0d f5 8d 78 76 6c 08 c0 37 a3 4a 8b 53 c9 d0 1e f0 45 2d 75 b6 5e b5 25 20 e9 6b 01 e6 59"},
	} {
		if got := argon2Key(c.mode, pass, salt, secret, ad, 3, 32, 4, 32); !bytes.Equal(got, unhex(c.tag)) {
			t.Errorf("type %d: %x, want %s", c.mode, got, c.tag)
		}
	}
}

// TestArgon2 checks argon2i and argon2id against golang.org/x/crypto/argon2
// over memory sizes that round, several lanes, and tags longer than one
// BLAKE2b output.
func TestArgon2(t *testing.T) {
	r := testRand(12)
	for _, time := range []uint32{1, 2, 3} {
		for _, lanes := range []uint8{1, 2, 3, 4} {
			for _, memory := range []uint32{8 * uint32(lanes), 8*uint32(lanes) + 5, 100, 1024} {
				for _, keyLen := range []uint32{4, 32, 64, 65, 100, 1024} {
					pass, salt := randBytesT(r, int(keyLen%37)), randBytesT(r, 8+int(keyLen%25))
					name := fmt.Sprintf("t=%d m=%d p=%d, %d-byte tag", time, memory, lanes, keyLen)
					if got, want := argon2Key(argon2i, pass, salt, nil, nil, time, memory, lanes, keyLen),
						argon2.Key(pass, salt, time, memory, lanes, keyLen); !bytes.Equal(got, want) {
						t.Errorf("argon2i %s: differs from x/crypto/argon2", name)
					}
					if got, want := argon2Key(argon2id, pass, salt, nil, nil, time, memory, lanes, keyLen),
						argon2.IDKey(pass, salt, time, memory, lanes, keyLen); !bytes.Equal(got, want) {
						t.Errorf("argon2id %s: differs from x/crypto/argon2", name)
					}
				}
			}
		}
	}
	// Segments of more than one address block (128 blocks) and a larger
	// memory.
	for _, lanes := range []uint8{1, 4} {
		pass, salt := []byte("correct horse"), randBytesT(r, 32)
		if got, want := argon2Key(argon2i, pass, salt, nil, nil, 2, 8192, lanes, 64), argon2.Key(pass, salt, 2, 8192, lanes, 64); !bytes.Equal(got, want) {
			t.Errorf("argon2i, 8 MiB, %d lanes: differs from x/crypto/argon2", lanes)
		}
		if got, want := argon2Key(argon2id, pass, salt, nil, nil, 2, 8192, lanes, 64), argon2.IDKey(pass, salt, 2, 8192, lanes, 64); !bytes.Equal(got, want) {
			t.Errorf("argon2id, 8 MiB, %d lanes: differs from x/crypto/argon2", lanes)
		}
	}
}

// The cost of a LUKS2 keyslot's Argon2 on one lane, against x/crypto/argon2
// (which runs SSE4.1 assembly on amd64).
func BenchmarkArgon2id(b *testing.B) {
	pass, salt := []byte("passphrase"), make([]byte, 32)
	b.Run("luks", func(b *testing.B) {
		b.SetBytes(64 << 20)
		for range b.N {
			argon2Key(argon2id, pass, salt, nil, nil, 1, 64<<10, 1, 32)
		}
	})
	b.Run("x-crypto", func(b *testing.B) {
		b.SetBytes(64 << 20)
		for range b.N {
			argon2.IDKey(pass, salt, 1, 64<<10, 1, 32)
		}
	})
}
