package fallback

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"testing"
	"testing/quick"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// FIPS-197 appendix C: example vectors for AES-128, AES-192 and AES-256.
func TestFIPS197AppendixC(t *testing.T) {
	pt := unhex("00112233445566778899aabbccddeeff")
	for _, tc := range []struct{ key, ct string }{
		{"000102030405060708090a0b0c0d0e0f", "69c4e0d86a7b0430d8cdb78070b4c55a"},
		{"000102030405060708090a0b0c0d0e0f1011121314151617", "dda97ca4864cdfe06eaf70a0ec0d7191"},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "8ea2b7ca516745bfeafc49904b496089"},
	} {
		var s schedule
		expandKey(&s, unhex(tc.key))
		got := make([]byte, 16)
		s.crypt(got, pt, false)
		if want := unhex(tc.ct); !bytes.Equal(got, want) {
			t.Errorf("key %s: encrypt = %x, want %x", tc.key, got, want)
		}
		s.crypt(got, got, true)
		if !bytes.Equal(got, pt) {
			t.Errorf("key %s: decrypt = %x, want %x", tc.key, got, pt)
		}
	}
}

// Differential test against crypto/aes: every key size, 0..40 blocks, both
// directions, separate and in-place buffers.
func TestAESDifferential(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		f := func(key [32]byte, data [40 * 16]byte, nblocks uint8) bool {
			nb := int(nblocks) % 41
			src := data[:16*nb]
			ref, _ := aes.NewCipher(key[:n])
			want := make([]byte, len(src))
			for i := 0; i < len(src); i += 16 {
				ref.Encrypt(want[i:], src[i:])
			}
			var s schedule
			expandKey(&s, key[:n])
			got := make([]byte, len(src))
			s.crypt(got, src, false)
			if !bytes.Equal(got, want) {
				return false
			}
			back := make([]byte, len(src))
			s.crypt(back, got, true)
			if !bytes.Equal(back, src) {
				return false
			}
			inplace := bytes.Clone(src)
			s.crypt(inplace, inplace, false)
			if !bytes.Equal(inplace, want) {
				return false
			}
			s.crypt(inplace, inplace, true)
			return bytes.Equal(inplace, src)
		}
		if err := quick.Check(f, &quick.Config{MaxCount: 200}); err != nil {
			t.Errorf("AES-%d: %v", 8*n, err)
		}
	}
}

// Every S-box value, forward and inverse, against crypto/aes-derived truth:
// checked indirectly through subWord and the inverse circuit.
func TestSboxIsPermutation(t *testing.T) {
	seen := map[uint32]bool{}
	for x := 0; x < 256; x++ {
		y := subWord(uint32(x)) & 0xFF
		if seen[y] {
			t.Fatalf("S-box not a permutation at %#x", x)
		}
		seen[y] = true
		var q [8]uint64
		for b := 0; b < 8; b++ {
			q[b] = uint64(y>>b) & 1
		}
		sbox(&q, true)
		var back uint32
		for b := 0; b < 8; b++ {
			back |= uint32(q[b]&1) << b
		}
		if back != uint32(x) {
			t.Fatalf("InvS(S(%#x)) = %#x", x, back)
		}
	}
	if subWord(0)&0xFF != 0x63 || subWord(0x53)&0xFF != 0xED {
		t.Fatal("S-box spot values wrong")
	}
}

// The fast load/store agree with the bit-by-bit reference.
func TestLoadStoreBlocks(t *testing.T) {
	f := func(data [64]byte, nb uint8) bool {
		n := int(nb)%4 + 1
		var ref, got [8]uint64
		for j := 0; j < n; j++ {
			load16(&ref, data[16*j:], uint(j))
		}
		var tmp [64]byte
		loadBlocks(&got, data[:], n, &tmp)
		if got != ref {
			return false
		}
		out := make([]byte, 16*n)
		storeBlocks(out, &got, n, &tmp)
		return bytes.Equal(out, data[:16*n])
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}
