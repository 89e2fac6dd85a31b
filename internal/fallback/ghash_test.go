package fallback

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
)

func TestGHASHKnownAnswer(t *testing.T) {
	// GCM spec test case 2: H = AES_0(0), C = 0388dace60b6a392f328c2b971b2fe78.
	h := [16]byte{0x66, 0xe9, 0x4b, 0xd4, 0xef, 0x8a, 0x2c, 0x3b, 0x88, 0x4c, 0xfa, 0x59, 0xca, 0x34, 0x2b, 0x2e}
	data := []byte{0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92, 0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2, 0xfe, 0x78,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}
	want := [16]byte{0xf3, 0x8c, 0xbb, 0x1a, 0xd6, 0x92, 0x23, 0xdc, 0xc3, 0x45, 0x7a, 0xe5, 0xb6, 0xb0, 0xf8, 0x85}
	var ref, got [16]byte
	kerneltest.GHASH(&h, &ref, data)
	NewGHASH(&h).Update(&got, data)
	if ref != want || got != want {
		t.Fatalf("reference %x, GHASH %x, want %x", ref, got, want)
	}
}

// Every length 0..40 blocks and some large ones, random and edge keys and
// a nonzero starting accumulator, against the bitwise reference.
func TestGHASHLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	data := make([]byte, 16*300)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	keys := [][16]byte{{}, {0: 0x80}, {15: 1}, {0: 0xff, 15: 0xff}}
	for i := 0; i < 4; i++ {
		var k [16]byte
		binary.LittleEndian.PutUint64(k[:8], rng.Uint64())
		binary.LittleEndian.PutUint64(k[8:], rng.Uint64())
		keys = append(keys, k)
	}
	for _, h := range keys {
		g := NewGHASH(&h)
		var acc0 [16]byte
		binary.LittleEndian.PutUint64(acc0[:8], rng.Uint64())
		binary.LittleEndian.PutUint64(acc0[8:], rng.Uint64())
		for n := 0; n <= 300; n++ {
			if n > 40 && n != 64 && n != 300 {
				continue
			}
			want, got := acc0, acc0
			kerneltest.GHASH(&h, &want, data[:16*n])
			g.Update(&got, data[:16*n])
			if got != want {
				t.Fatalf("H %x, %d blocks: got %x, want %x", h, n, got, want)
			}
		}
	}
}

func TestGHASHChaining(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	data := make([]byte, 16*100)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var h [16]byte
	binary.LittleEndian.PutUint64(h[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(h[8:], rng.Uint64())
	var want [16]byte
	kerneltest.GHASH(&h, &want, data)
	var g GHASH
	g.Init(&h)
	for trial := 0; trial < 50; trial++ {
		var acc [16]byte
		rest := data
		for len(rest) > 0 {
			n := 16 * rng.IntN(min(len(rest)/16, 20)+1)
			g.Update(&acc, rest[:n])
			rest = rest[n:]
		}
		if acc != want {
			t.Fatalf("chained %x, want %x", acc, want)
		}
	}
}

func TestGHASHPartialBlockPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	var h, acc [16]byte
	NewGHASH(&h).Update(&acc, make([]byte, 33))
}

func TestGHASHNoAlloc(t *testing.T) {
	var h, acc [16]byte
	h[1] = 3
	g := NewGHASH(&h)
	data := bytes.Repeat([]byte{1}, 256)
	if n := testing.AllocsPerRun(10, func() { g.Update(&acc, data) }); n != 0 {
		t.Fatalf("Update allocates %v times", n)
	}
	g.Wipe()
	if *g != (GHASH{}) {
		t.Fatal("Wipe left the key")
	}
}

func BenchmarkGHASH(b *testing.B) {
	var h, acc [16]byte
	h[5] = 0x42
	g := NewGHASH(&h)
	data := make([]byte, 8192)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		g.Update(&acc, data)
	}
}
