//go:build amd64 && !purego

package asm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// refGFMul is Algorithm 1 of SP 800-38D, bit by bit.
func refGFMul(x, y *[16]byte) (z [16]byte) {
	v := *y
	for i := 0; i < 128; i++ {
		if x[i/8]>>(7-i%8)&1 == 1 {
			for k := range z {
				z[k] ^= v[k]
			}
		}
		lsb := v[15] & 1
		for k := 15; k > 0; k-- {
			v[k] = v[k]>>1 | v[k-1]<<7
		}
		v[0] >>= 1
		if lsb == 1 {
			v[0] ^= 0xe1
		}
	}
	return z
}

func refGHASH(h, acc *[16]byte, data []byte) {
	for ; len(data) >= 16; data = data[16:] {
		var x [16]byte
		for k := range x {
			x[k] = acc[k] ^ data[k]
		}
		*acc = refGFMul(&x, h)
	}
}

func ghashPaths(t testing.TB) []bool {
	if !cpu.X86.HasPCLMULQDQ || !cpu.X86.HasSSSE3 {
		t.Skip("no PCLMULQDQ")
	}
	if GHASHWideSupported() {
		return []bool{false, true}
	}
	t.Log("wide path not supported here: testing PCLMULQDQ only")
	return []bool{false}
}

func TestGHASHRefKnownAnswer(t *testing.T) {
	// SP 800-38D / GCM spec test case 2: H = E_0(0), C = 0388dace60b6a392f328c2b971b2fe78,
	// GHASH(H, {}, C) = f38cbb1ad69223dcc3457ae5b6b0f885.
	h := [16]byte{0x66, 0xe9, 0x4b, 0xd4, 0xef, 0x8a, 0x2c, 0x3b, 0x88, 0x4c, 0xfa, 0x59, 0xca, 0x34, 0x2b, 0x2e}
	c := []byte{0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92, 0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2, 0xfe, 0x78}
	l := make([]byte, 16)
	binary.BigEndian.PutUint64(l[8:], 128)
	want := []byte{0xf3, 0x8c, 0xbb, 0x1a, 0xd6, 0x92, 0x23, 0xdc, 0xc3, 0x45, 0x7a, 0xe5, 0xb6, 0xb0, 0xf8, 0x85}
	var acc [16]byte
	refGHASH(&h, &acc, append(c, l...))
	if !bytes.Equal(acc[:], want) {
		t.Fatalf("reference GHASH = %x, want %x", acc, want)
	}
	for _, wide := range ghashPaths(t) {
		var tb GHASHTable
		GHASHInit(&h, &tb, wide)
		var a [16]byte
		GHASHUpdate(&tb, &a, append(c, l...))
		if !bytes.Equal(a[:], want) {
			t.Errorf("wide=%v: GHASH = %x, want %x", wide, a, want)
		}
	}
}

func TestGHASHLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 16*600)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	lengths := []int{}
	for n := 0; n <= 40; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 63, 64, 65, 127, 128, 129, 512, 600)
	for _, wide := range ghashPaths(t) {
		for trial := 0; trial < 3; trial++ {
			var h, acc0 [16]byte
			for i := range h {
				h[i] = byte(rng.Uint32())
				acc0[i] = byte(rng.Uint32())
			}
			if trial == 0 {
				h = [16]byte{} // top bit of the reflected H set: exercises the x-multiplication carry
				h[0], h[15] = 0xff, 0xff
			}
			var tb GHASHTable
			GHASHInit(&h, &tb, wide)
			if tb.Wide() != wide {
				t.Fatalf("Wide() = %v, want %v", tb.Wide(), wide)
			}
			for _, n := range lengths {
				want, got := acc0, acc0
				refGHASH(&h, &want, data[:16*n])
				GHASHUpdate(&tb, &got, data[:16*n])
				if got != want {
					t.Fatalf("wide=%v trial %d, %d blocks: got %x, want %x", wide, trial, n, got, want)
				}
			}
		}
	}
}

func TestGHASHChaining(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 16*300)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var h [16]byte
	for i := range h {
		h[i] = byte(rng.Uint32())
	}
	var want [16]byte
	refGHASH(&h, &want, data)
	for _, wide := range ghashPaths(t) {
		var tb GHASHTable
		GHASHInit(&h, &tb, wide)
		for trial := 0; trial < 200; trial++ {
			var acc [16]byte
			rest := data
			for len(rest) > 0 {
				n := 16 * rng.IntN(min(len(rest)/16, 40)+1)
				GHASHUpdate(&tb, &acc, rest[:n])
				rest = rest[n:]
			}
			if acc != want {
				t.Fatalf("wide=%v: chained %x, want %x", wide, acc, want)
			}
		}
	}
}

func TestGHASHPanicsOnPartialBlock(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	var tb GHASHTable
	var h, acc [16]byte
	GHASHInit(&h, &tb, false)
	GHASHUpdate(&tb, &acc, make([]byte, 17))
}

func TestGHASHWideRequestedButUnsupported(t *testing.T) {
	var tb GHASHTable
	var h [16]byte
	GHASHInit(&h, &tb, true)
	if tb.Wide() != GHASHWideSupported() {
		t.Fatalf("Wide() = %v, supported %v", tb.Wide(), GHASHWideSupported())
	}
}

// gcmSeal is AES-GCM built from crypto/aes (ECB), inc32 CTR and GHASHUpdate.
func gcmSeal(block cipher.Block, tb *GHASHTable, nonce, pt, aad []byte) []byte {
	var j0 [16]byte
	copy(j0[:], nonce)
	j0[15] = 1
	ct := make([]byte, len(pt))
	ctr := j0
	var ks [16]byte
	for i := 0; i < len(pt); i += 16 {
		binary.BigEndian.PutUint32(ctr[12:], binary.BigEndian.Uint32(ctr[12:])+1)
		block.Encrypt(ks[:], ctr[:])
		for k := i; k < min(i+16, len(pt)); k++ {
			ct[k] = pt[k] ^ ks[k-i]
		}
	}
	pad := func(b []byte) []byte { return append(append([]byte{}, b...), make([]byte, (16-len(b)%16)%16)...) }
	var s [16]byte
	GHASHUpdate(tb, &s, pad(aad))
	GHASHUpdate(tb, &s, pad(ct))
	var l [16]byte
	binary.BigEndian.PutUint64(l[:], uint64(len(aad))*8)
	binary.BigEndian.PutUint64(l[8:], uint64(len(ct))*8)
	GHASHUpdate(tb, &s, l[:])
	block.Encrypt(ks[:], j0[:])
	for k := range s {
		s[k] ^= ks[k]
	}
	return append(ct, s[:]...)
}

func TestGHASHGCMCrossCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rb := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, wide := range ghashPaths(t) {
		for trial := 0; trial < 300; trial++ {
			key := rb([]int{16, 24, 32}[trial%3])
			block, err := aes.NewCipher(key)
			if err != nil {
				t.Fatal(err)
			}
			gcm, err := cipher.NewGCM(block)
			if err != nil {
				t.Fatal(err)
			}
			var h [16]byte
			block.Encrypt(h[:], h[:])
			var tb GHASHTable
			GHASHInit(&h, &tb, wide)
			nonce := rb(12)
			pt := rb(rng.IntN(1200))
			aad := rb(rng.IntN(100))
			want := gcm.Seal(nil, nonce, pt, aad)
			got := gcmSeal(block, &tb, nonce, pt, aad)
			if !bytes.Equal(got, want) {
				t.Fatalf("wide=%v trial %d (pt %d, aad %d): mismatch", wide, trial, len(pt), len(aad))
			}
		}
	}
}

// TestGHASHRegistersCleared checks that no vector register holds anything
// after GHASHInit and GHASHUpdate on either path.
func TestGHASHRegistersCleared(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("needs AVX-512F to read Z0-Z31")
	}
	h := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	var out [32][64]byte
	var tb GHASHTable
	ghashRegsAfterInit(&h, &tb, &out)
	checkZero := func(what string) {
		t.Helper()
		for i, r := range out {
			if r != [64]byte{} {
				t.Errorf("%s: Z%d = %x", what, i, r)
			}
		}
	}
	checkZero("init")
	data := make([]byte, 16*53)
	for i := range data {
		data[i] = byte(i*7 + 1)
	}
	for _, wide := range ghashPaths(t) {
		GHASHInit(&h, &tb, wide)
		for _, n := range []int{1, 7, 8, 16, 17, 53} {
			var acc [16]byte
			out = [32][64]byte{}
			ghashRegsAfter(&tb, &acc, &data[0], n, &out)
			checkZero("update")
			want := [16]byte{}
			refGHASH(&h, &want, data[:16*n])
			if acc != want {
				t.Fatalf("wide=%v n=%d: wrong result through the hook", wide, n)
			}
		}
	}
}

func BenchmarkGHASHUpdate(b *testing.B) {
	for _, wide := range ghashPaths(b) {
		name := "PCLMULQDQ"
		if wide {
			name = "VPCLMULQDQ-zmm"
		}
		b.Run(name+"/8KiB", func(b *testing.B) {
			var h, acc [16]byte
			h[3] = 0x55
			var tb GHASHTable
			GHASHInit(&h, &tb, wide)
			data := make([]byte, 8192)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				GHASHUpdate(&tb, &acc, data)
			}
		})
	}
}
