package kdf

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	xblake2b "golang.org/x/crypto/blake2b"
)

func testRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

func randBytesT(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// impls are the implementations, as a test names them.
var impls = []Impl{Generic, AVX2, AVX512}

// canRun returns why impl cannot run on this build and CPU, or "".
func canRun(impl Impl) string {
	switch {
	case impl.Available():
		return ""
	case !haveAsm:
		return "this build has no assembly (not amd64, or -tags purego)"
	case impl == AVX2:
		return "the CPU (or OS) has no AVX2"
	}
	return "the CPU (or OS) lacks AVX2, AVX-512F or AVX-512VL"
}

// forEachImpl runs f as a subtest on every implementation, and skips
// those that cannot run here, saying why.
func forEachImpl(t *testing.T, f func(t *testing.T, impl Impl)) {
	for _, impl := range impls {
		t.Run(string(impl), func(t *testing.T) {
			if why := canRun(impl); why != "" {
				t.Skipf("%s cannot run here: %s", impl, why)
			}
			f(t, impl)
		})
	}
}

// argon2Key is Argon2 into a new slice, failing the test on an error.
func argon2Key(t testing.TB, impl Impl, mode Mode, password, salt, secret, data []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	t.Helper()
	dst := make([]byte, keyLen)
	if err := Argon2(dst, impl, mode, password, salt, secret, data, time, memory, threads); err != nil {
		t.Fatal(err)
	}
	return dst
}

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
func TestArgon2RFC9106(t *testing.T) { forEachImpl(t, testArgon2RFC9106) }

func testArgon2RFC9106(t *testing.T, impl Impl) {
	pass, salt := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16)
	secret, ad := bytes.Repeat([]byte{3}, 8), bytes.Repeat([]byte{4}, 12)
	for _, c := range []struct {
		mode Mode
		tag  string
	}{
		{Argon2d, "51 2b 39 1b 6f 11 62 97 53 71 d3 09 19 73 42 94 f8 68 e3 be 39 84 f3 c1 a1 3a 4d b9 fa be 4a cb"},
		{Argon2i, "c8 14 d9 d1 dc 7f 37 aa 13 f0 d7 7f 24 94 bd a1 c8 de 6b 01 6d d3 88 d2 99 52 a4 c4 67 2b 6c e8"},
		{Argon2id, "0d 64 0d f5 8d 78 76 6c 08 c0 37 a3 4a 8b 53 c9 d0 1e f0 45 2d 75 b6 5e b5 25 20 e9 6b 01 e6 59"},
	} {
		if got := argon2Key(t, impl, c.mode, pass, salt, secret, ad, 3, 32, 4, 32); !bytes.Equal(got, unhex(c.tag)) {
			t.Errorf("type %d: %x, want %s", c.mode, got, c.tag)
		}
	}
}

// TestArgon2 checks argon2i and argon2id against golang.org/x/crypto/argon2
// over passes, memory sizes that round, lane counts, tag lengths (shorter
// and longer than one BLAKE2b output), salts and passwords of every
// length from none up.
func TestArgon2(t *testing.T) { forEachImpl(t, testArgon2) }

func testArgon2(t *testing.T, impl Impl) {
	r := testRand(12)
	check := func(name string, pass, salt []byte, time, memory uint32, lanes uint8, keyLen uint32) {
		t.Helper()
		name = fmt.Sprintf("t=%d m=%d p=%d, %d-byte password, %d-byte salt, %d-byte tag: %s",
			time, memory, lanes, len(pass), len(salt), keyLen, name)
		if got, want := argon2Key(t, impl, Argon2i, pass, salt, nil, nil, time, memory, lanes, keyLen),
			argon2.Key(pass, salt, time, memory, lanes, keyLen); !bytes.Equal(got, want) {
			t.Errorf("argon2i %s: differs from x/crypto/argon2", name)
		}
		if got, want := argon2Key(t, impl, Argon2id, pass, salt, nil, nil, time, memory, lanes, keyLen),
			argon2.IDKey(pass, salt, time, memory, lanes, keyLen); !bytes.Equal(got, want) {
			t.Errorf("argon2id %s: differs from x/crypto/argon2", name)
		}
	}
	for _, time := range []uint32{1, 2, 3} {
		for _, lanes := range []uint8{1, 2, 3, 4} {
			for _, memory := range []uint32{8 * uint32(lanes), 8*uint32(lanes) + 5, 100, 1024} {
				for _, keyLen := range []uint32{4, 16, 32, 64, 65, 100, 1024} {
					pass, salt := randBytesT(r, int(keyLen%37)), randBytesT(r, 8+int(keyLen%25))
					check("grid", pass, salt, time, memory, lanes, keyLen)
				}
			}
		}
	}
	// Odd lane counts up to many, and passes beyond three.
	for _, lanes := range []uint8{5, 7, 8, 16, 255} {
		check("lanes", []byte("pass"), randBytesT(r, 16), 1, 8*uint32(lanes)+3*uint32(lanes), lanes, 32)
	}
	for _, time := range []uint32{4, 7, 10} {
		check("passes", []byte("pass"), randBytesT(r, 16), time, 64, 2, 32)
	}
	// Salts and passwords of the lengths around BLAKE2b's 128-byte block
	// (H0 hashes them), none included.
	for _, n := range []int{0, 1, 8, 16, 63, 64, 65, 127, 128, 129, 1000} {
		check("salt", []byte("pass"), randBytesT(r, n), 1, 32, 1, 32)
		check("password", randBytesT(r, n), randBytesT(r, 16), 1, 32, 1, 32)
	}
	// Segments of more than one address block (128 blocks) and a larger
	// memory.
	for _, lanes := range []uint8{1, 4} {
		check("8 MiB", []byte("correct horse"), randBytesT(r, 32), 2, 8192, lanes, 64)
	}
	// The file commands' default cost (cmd/aeskl): 3 passes over 64 MiB,
	// 4 lanes, a 32-byte key.
	if !testing.Short() {
		check("aeskl encrypt's default", []byte("correct horse battery staple"), randBytesT(r, 16), 3, 64<<10, 4, 32)
	}
}

// TestArgon2Dst: the tag is written to dst and nowhere past it, and a
// random dst is overwritten whole.
func TestArgon2Dst(t *testing.T) { forEachImpl(t, testArgon2Dst) }

func testArgon2Dst(t *testing.T, impl Impl) {
	want := argon2.IDKey([]byte("p"), []byte("saltsalt"), 1, 64, 2, 40)
	buf := bytes.Repeat([]byte{0xa5}, 64)
	if err := Argon2(buf[:40], impl, Argon2id, []byte("p"), []byte("saltsalt"), nil, nil, 1, 64, 2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:40], want) || !bytes.Equal(buf[40:], bytes.Repeat([]byte{0xa5}, 24)) {
		t.Errorf("dst: %x, want %x then a5s", buf, want)
	}
}

// TestArgon2Invalid: parameters outside RFC 9106's ranges are errors,
// not panics.
func TestArgon2Invalid(t *testing.T) {
	for _, c := range []struct {
		name         string
		mode         Mode
		keyLen       int
		time, memory uint32
		threads      uint8
	}{
		{"type 3", 3, 32, 1, 64, 1},
		{"no passes", Argon2id, 32, 0, 64, 1},
		{"no lanes", Argon2id, 32, 1, 64, 0},
		{"memory below 8 KiB per lane", Argon2id, 32, 1, 31, 4},
		{"3-byte tag", Argon2id, 3, 1, 64, 1},
	} {
		if err := Argon2(make([]byte, c.keyLen), Generic, c.mode, []byte("p"), []byte("saltsalt"), nil, nil, c.time, c.memory, c.threads); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	for _, impl := range []Impl{"", "sse2", Impl(strings.ToUpper(string(AVX2)))} {
		if err := Argon2(make([]byte, 32), impl, Argon2id, []byte("p"), []byte("saltsalt"), nil, nil, 1, 64, 1); err == nil {
			t.Errorf("implementation %q: no error", impl)
		}
	}
	for _, impl := range impls[1:] {
		if !impl.Available() {
			if err := Argon2(make([]byte, 32), impl, Argon2id, []byte("p"), []byte("saltsalt"), nil, nil, 1, 64, 1); err == nil {
				t.Errorf("%s, which cannot run here: no error", impl)
			}
		}
	}
}

// TestFillBlock checks the compression function of every implementation
// against the generic one on random blocks, both with next = G and with
// next ^= G, and with next being ref (as the address blocks call it).
func TestFillBlock(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		r := testRand(13)
		rnd := func() *argonBlock {
			var b argonBlock
			for i := range b {
				b[i] = r.Uint64()
			}
			return &b
		}
		for i := range 200 {
			prev, ref, next := rnd(), rnd(), rnd()
			if i%10 == 0 {
				*prev = argonBlock{}
			}
			xor := i%2 == 1
			want, wtmp := *next, argonBlock{}
			fillBlockGeneric(&want, prev, ref, &wtmp, xor)
			got, tmp := *next, *rnd()
			impl.fillBlock(&got, prev, ref, &tmp, xor)
			if got != want {
				t.Fatalf("block %d (xor %v): differs from the generic code", i, xor)
			}
			// next = ref.
			got = *ref
			impl.fillBlock(&got, prev, &got, &tmp, false)
			want = *ref
			fillBlockGeneric(&want, prev, &want, &wtmp, false)
			if got != want {
				t.Fatalf("block %d, next = ref: differs from the generic code", i)
			}
			// next = prev, with xor.
			got = *prev
			impl.fillBlock(&got, &got, ref, &tmp, true)
			want = *prev
			fillBlockGeneric(&want, &want, ref, &wtmp, true)
			if got != want {
				t.Fatalf("block %d, next = prev: differs from the generic code", i)
			}
		}
	})
}

// FuzzFillBlock compares every implementation's compression function
// with the generic one on blocks made from the input.
func FuzzFillBlock(f *testing.F) {
	f.Add([]byte{0}, false)
	f.Add(bytes.Repeat([]byte{0xff}, 2048), true)
	f.Fuzz(func(t *testing.T, in []byte, xor bool) {
		var prev, ref, next argonBlock
		words := []*argonBlock{&prev, &ref, &next}
		for i := 0; i < 3*blockWords && 8*i < len(in); i++ {
			var w [8]byte
			copy(w[:], in[8*i:])
			words[i/blockWords][i%blockWords] = binary.LittleEndian.Uint64(w[:])
		}
		want, tmp := next, argonBlock{}
		fillBlockGeneric(&want, &prev, &ref, &tmp, xor)
		for _, impl := range impls[1:] {
			if canRun(impl) != "" {
				continue
			}
			got := next
			impl.fillBlock(&got, &prev, &ref, &tmp, xor)
			if got != want {
				t.Fatalf("%s differs from the generic code", impl)
			}
		}
	})
}

// BenchmarkArgon2id is the cost of one lane of Argon2id over 64 MiB (a
// LUKS2 keyslot's memory) on each implementation, against
// x/crypto/argon2 (which runs SSE4.1 assembly on amd64); the 4-lane runs
// are aeskl encrypt's default memory and lanes, on one pass. Each call
// includes getting its memory from the system, as in a command that
// derives one key (see the x-crypto case).
func BenchmarkArgon2id(b *testing.B) {
	pass, salt := []byte("passphrase"), make([]byte, 32)
	for _, lanes := range []uint8{1, 4} {
		key := make([]byte, 32)
		for _, impl := range impls {
			b.Run(fmt.Sprintf("kdf=%s/lanes=%d", impl, lanes), func(b *testing.B) {
				if why := canRun(impl); why != "" {
					b.Skipf("%s cannot run here: %s", impl, why)
				}
				b.SetBytes(64 << 20)
				for range b.N {
					if err := Argon2(key, impl, Argon2id, pass, salt, nil, nil, 1, 64<<10, lanes); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		// x/crypto/argon2 allocates its blocks on the Go heap, which keeps
		// them, faulted in, from one iteration to the next; kdf maps fresh
		// memory for every call (and wipes it). Returning the heap to the
		// system between iterations makes x/crypto fault its memory in
		// again, as in a process that derives one key, what the commands do.
		b.Run(fmt.Sprintf("x-crypto/lanes=%d", lanes), func(b *testing.B) {
			b.SetBytes(64 << 20)
			for range b.N {
				b.StopTimer()
				debug.FreeOSMemory()
				b.StartTimer()
				argon2.IDKey(pass, salt, 1, 64<<10, lanes, 32)
			}
		})
	}
}
