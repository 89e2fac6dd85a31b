//go:build amd64 && !purego

package ghash

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/asm"
	"github.com/go-keylocker/keylocker/internal/kernel"
	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
)

// ghashPaths lists the paths this CPU can run: always PCLMULQDQ on xmm,
// then zmm and ymm where supported (the ymm path runs on an AVX-512 CPU
// too, so both wide paths are tested here).
func ghashPaths(t testing.TB) []uint64 {
	if !cpu.X86.HasPCLMULQDQ || !cpu.X86.HasSSSE3 {
		t.Skip("no PCLMULQDQ")
	}
	p := []uint64{ghashPathXmm}
	if ghashZmmOK {
		p = append(p, ghashPathZmm)
	} else {
		t.Log("zmm path not supported here")
	}
	if ghashYmmOK {
		p = append(p, ghashPathYmm)
	} else {
		t.Log("ymm path not supported here")
	}
	return p
}

var ghashPathName = map[uint64]string{ghashPathXmm: "PCLMULQDQ-xmm", ghashPathZmm: "VPCLMULQDQ-zmm", ghashPathYmm: "VPCLMULQDQ-ymm"}

// ghashZmmOK: this CPU (and OS) runs the zmm GHASH path (AVX512F, AVX512BW,
// AVX512VL, VPCLMULQDQ; x/sys/cpu checks that the OS saves the zmm state).
var ghashZmmOK = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL &&
	cpu.X86.HasAVX512VPCLMULQDQ && cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSSE3

// ghashYmmOK: VPCLMULQDQ on ymm (VEX) needs AVX2 (x/sys/cpu checks the OS's
// YMM support) and CPUID.(EAX=7,ECX=0):ECX[10]; x/sys/cpu reports
// VPCLMULQDQ only together with AVX-512, so the bit is read here.
var ghashYmmOK = func() bool {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasPCLMULQDQ {
		return false
	}
	if maxLeaf, _, _, _ := asm.CPUID(0, 0); maxLeaf < 7 {
		return false
	}
	_, _, ecx7, _ := asm.CPUID(7, 0)
	return ecx7>>10&1 != 0
}()

// ghashInitPath is GHASHInit forced onto one path.
func ghashInitPath(h *[16]byte, t *GHASHTable, path uint64) {
	GHASHInit(h, t, kernel.PathAESNI)
	t.wide = path
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
	kerneltest.GHASH(&h, &acc, append(c, l...))
	if !bytes.Equal(acc[:], want) {
		t.Fatalf("reference GHASH = %x, want %x", acc, want)
	}
	for _, path := range ghashPaths(t) {
		var tb GHASHTable
		ghashInitPath(&h, &tb, path)
		var a [16]byte
		GHASHUpdate(&tb, &a, append(c, l...))
		if !bytes.Equal(a[:], want) {
			t.Errorf("%s: GHASH = %x, want %x", ghashPathName[path], a, want)
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
	for _, path := range ghashPaths(t) {
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
			ghashInitPath(&h, &tb, path)
			for _, n := range lengths {
				want, got := acc0, acc0
				kerneltest.GHASH(&h, &want, data[:16*n])
				GHASHUpdate(&tb, &got, data[:16*n])
				if got != want {
					t.Fatalf("%s trial %d, %d blocks: got %x, want %x", ghashPathName[path], trial, n, got, want)
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
	kerneltest.GHASH(&h, &want, data)
	for _, path := range ghashPaths(t) {
		var tb GHASHTable
		ghashInitPath(&h, &tb, path)
		for trial := 0; trial < 200; trial++ {
			var acc [16]byte
			rest := data
			for len(rest) > 0 {
				n := 16 * rng.IntN(min(len(rest)/16, 40)+1)
				GHASHUpdate(&tb, &acc, rest[:n])
				rest = rest[n:]
			}
			if acc != want {
				t.Fatalf("%s: chained %x, want %x", ghashPathName[path], acc, want)
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
	GHASHInit(&h, &tb, kernel.PathAESNI)
	GHASHUpdate(&tb, &acc, make([]byte, 17))
}

// TestGHASHInitPathChoice: GHASHInit runs the path it is given (the
// caller's decision, the same value as the sealed kernels' path).
func TestGHASHInitPathChoice(t *testing.T) {
	var tb GHASHTable
	var h [16]byte
	for path, want := range map[int]uint64{kernel.PathAESNI: ghashPathXmm, kernel.PathVAES256: ghashPathYmm, kernel.PathVAES512: ghashPathZmm, 7: ghashPathXmm} {
		GHASHInit(&h, &tb, path)
		if tb.wide != want || tb.Wide() != (want != ghashPathXmm) {
			t.Fatalf("path %d: GHASH path %d, want %d", path, tb.wide, want)
		}
	}
	tb.Wipe()
	if tb != (GHASHTable{}) {
		t.Fatal("Wipe left data")
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
	for _, path := range ghashPaths(t) {
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
			ghashInitPath(&h, &tb, path)
			nonce := rb(12)
			pt := rb(rng.IntN(1200))
			aad := rb(rng.IntN(100))
			want := gcm.Seal(nil, nonce, pt, aad)
			got := gcmSeal(block, &tb, nonce, pt, aad)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s trial %d (pt %d, aad %d): mismatch", ghashPathName[path], trial, len(pt), len(aad))
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
	ghashRegsAfterInit(t, &h, &tb, &out)
	// What each path must leave zero, as in the sealed tests: SSE code
	// (init, the xmm path) X0-X15 and leaves the upper lanes and Z16-Z31 as
	// the caller had them (other code, the race runtime for one, may have
	// left data there); the ymm path all of Z0-Z15 (VZEROALL); the zmm path
	// Z0-Z31.
	checkZero := func(what string, regs, width int) {
		t.Helper()
		for i, r := range out[:regs] {
			if !bytes.Equal(r[:width], make([]byte, width)) {
				t.Errorf("%s: Z%d = %x", what, i, r)
			}
		}
	}
	checkZero("init", 16, 16)
	data := make([]byte, 16*95)
	for i := range data {
		data[i] = byte(i*7 + 1)
	}
	for _, path := range ghashPaths(t) {
		ghashInitPath(&h, &tb, path)
		for _, n := range []int{1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 53, 95} {
			var acc [16]byte
			out = [32][64]byte{}
			ghashRegsAfter(t, &tb, &acc, &data[0], n, &out)
			regs, width := 16, 16
			switch path {
			case ghashPathYmm:
				width = 64
			case ghashPathZmm:
				regs, width = 32, 64
			}
			checkZero(ghashPathName[path], regs, width)
			want := [16]byte{}
			kerneltest.GHASH(&h, &want, data[:16*n])
			if acc != want {
				t.Fatalf("%s n=%d: wrong result through the hook", ghashPathName[path], n)
			}
		}
	}
}

func BenchmarkGHASHUpdate(b *testing.B) {
	for _, path := range ghashPaths(b) {
		for _, size := range []int{65536, 8192, 1024, 64} {
			b.Run(fmt.Sprintf("%s/%d", ghashPathName[path], size), func(b *testing.B) {
				var h, acc [16]byte
				h[3] = 0x55
				var tb GHASHTable
				ghashInitPath(&h, &tb, path)
				data := make([]byte, size)
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					GHASHUpdate(&tb, &acc, data)
				}
			})
		}
	}
}

// FuzzGHASH compares every path with the bitwise reference on arbitrary
// keys, states and data (truncated to whole blocks), split at a fuzzed
// block boundary.
func FuzzGHASH(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 16*17), uint8(3))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0x80}, 16*40), uint8(16))
	f.Fuzz(func(t *testing.T, key, data []byte, split uint8) {
		var h, acc0 [16]byte
		copy(h[:], key)
		if len(key) > 16 {
			copy(acc0[:], key[16:])
		}
		data = data[:len(data)/16*16]
		s := min(16*int(split), len(data))
		want := acc0
		kerneltest.GHASH(&h, &want, data)
		for _, path := range ghashPaths(t) {
			var tb GHASHTable
			ghashInitPath(&h, &tb, path)
			got := acc0
			GHASHUpdate(&tb, &got, data[:s])
			GHASHUpdate(&tb, &got, data[s:])
			if got != want {
				t.Fatalf("%s: %x, want %x", ghashPathName[path], got, want)
			}
		}
	})
}
