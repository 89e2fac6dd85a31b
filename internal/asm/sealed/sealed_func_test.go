//go:build amd64 && !purego

package sealed

// The kernels' results (every kernel, key size and block count, in place at
// odd addresses, chained, counter wraps, rejected and tampered handles) are
// checked on every implementation and path by aeskl's conformance suite
// (kernel_conformance_test.go); the tests here check what is particular to
// the sealed code: the wrap, the region layout, the metadata rules (CPL0
// included), register and stack hygiene, bad arguments.

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/go-keylocker/keylocker/internal/asm"
	"github.com/go-keylocker/keylocker/internal/handle"
	"golang.org/x/sys/cpu"
)

// Tests of the sealed AES-NI / VAES routines against internal/handle (the
// reference wrap) and crypto/aes. They run on any amd64 CPU with AES-NI;
// the VAES paths are tested where the CPU has them.

const sealedSentinel = 0xA5

// sealedRegion returns a region with a random (or the given) IWKey and the
// precomputation done, and the IWKey as handle.IWKey.
func sealedRegion(tb testing.TB, iw *handle.IWKey) (*Region, *handle.IWKey) {
	tb.Helper()
	if iw == nil {
		iw = new(handle.IWKey)
		rand.Read(iw.IK[:])
		rand.Read(iw.EK[:])
	}
	r := new(Region)
	copy(r[0:16], iw.IK[:])
	copy(r[16:48], iw.EK[:])
	SealedInit(r)
	return r, iw
}

func sealedRequireAESNI(tb testing.TB) {
	tb.Helper()
	if !cpu.X86.HasAES || !cpu.X86.HasPCLMULQDQ || !cpu.X86.HasSSE41 || !cpu.X86.HasSSSE3 {
		tb.Skip("no AES-NI / PCLMULQDQ / SSE4.1")
	}
}

var sealedPathNames = []string{"aesni", "vaes256", "vaes512"}

// sealedHasVAES reads CPUID.(EAX=7,ECX=0):ECX[9] (VAES) directly:
// golang.org/x/sys/cpu reports it (as HasAVX512VAES) only on CPUs with
// AVX-512, not on AVX2-only CPUs with VAES (Alder Lake and later clients).
func sealedHasVAES() bool {
	if maxLeaf, _, _, _ := asm.CPUID(0, 0); maxLeaf < 7 {
		return false
	}
	_, _, c, _ := asm.CPUID(7, 0)
	return c&(1<<9) != 0
}

// sealedPaths returns the paths this CPU can run.
func sealedPaths() []int {
	p := []int{PathAESNI}
	if cpu.X86.HasAVX2 && sealedHasVAES() {
		p = append(p, PathVAES256)
		if cpu.X86.HasAVX512F {
			p = append(p, PathVAES512)
		}
	}
	return p
}

func sealedRand(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func sealedWrap(tb testing.TB, region *Region, key []byte, restrictions uint32) *Handle {
	tb.Helper()
	var h Handle
	SealedEncodeKey(region, &key[0], len(key), restrictions, &h)
	return &h
}

// sealedWant is crypto/aes ECB.
func sealedWant(key []byte, encrypt bool, src []byte) []byte {
	c, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, len(src)/16*16)
	for i := 0; i+16 <= len(src); i += 16 {
		if encrypt {
			c.Encrypt(out[i:], src[i:])
		} else {
			c.Decrypt(out[i:], src[i:])
		}
	}
	return out
}

func sealedFn(encrypt bool) func(*Region, *Handle, []byte, []byte, int) bool {
	if encrypt {
		return SealedEncrypt
	}
	return SealedDecrypt
}

func sealedDir(encrypt bool) string {
	if encrypt {
		return "enc"
	}
	return "dec"
}

// sealedExpand is FIPS-197 key expansion (encryption round keys), for
// checking the region layout and for finding round keys in memory dumps.
func sealedExpand(key []byte) [][16]byte {
	var sbox [256]byte
	// S-box from the GF(2^8) inverse and the affine map.
	for x := 0; x < 256; x++ {
		inv := byte(0)
		if x != 0 {
			for y := 1; y < 256; y++ {
				if gmul(byte(x), byte(y)) == 1 {
					inv = byte(y)
					break
				}
			}
		}
		s := inv
		for i := 1; i < 5; i++ {
			s ^= inv<<i | inv>>(8-i)
		}
		sbox[x] = s ^ 0x63
	}
	nk := len(key) / 4
	nr := nk + 6
	w := make([]uint32, 4*(nr+1))
	for i := 0; i < nk; i++ {
		w[i] = binary.LittleEndian.Uint32(key[4*i:])
	}
	sub := func(v uint32) uint32 {
		return uint32(sbox[v&0xff]) | uint32(sbox[v>>8&0xff])<<8 | uint32(sbox[v>>16&0xff])<<16 | uint32(sbox[v>>24])<<24
	}
	rc := uint32(1)
	for i := nk; i < len(w); i++ {
		t := w[i-1]
		if i%nk == 0 {
			t = sub(t>>8|t<<24) ^ rc
			rc = uint32(gmul(byte(rc), 2))
		} else if nk > 6 && i%nk == 4 {
			t = sub(t)
		}
		w[i] = w[i-nk] ^ t
	}
	rks := make([][16]byte, nr+1)
	for i := range rks {
		for j := 0; j < 4; j++ {
			binary.LittleEndian.PutUint32(rks[i][4*j:], w[4*i+j])
		}
	}
	return rks
}

func gmul(a, b byte) byte {
	var p byte
	for ; b != 0; b >>= 1 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1b
		}
	}
	return p
}

func TestSealedInitLayout(t *testing.T) {
	sealedRequireAESNI(t)
	region, iw := sealedRegion(t, nil)
	if !bytes.Equal(region[0:16], iw.IK[:]) || !bytes.Equal(region[16:48], iw.EK[:]) || !bytes.Equal(region[48:64], make([]byte, 16)) {
		t.Fatal("SealedInit changed region[0:64]")
	}
	for i, rk := range sealedExpand(iw.EK[:]) {
		if got := region[64+16*i : 80+16*i]; !bytes.Equal(got, rk[:]) {
			t.Fatalf("round key %d: %x, want %x", i, got, rk)
		}
	}
	// H_1 = H, H_(k+1) = dot(H_k, H) = POLYVAL(H, H_k).
	hk := iw.IK
	for k := 1; k <= 8; k++ {
		if got := region[304+16*(k-1) : 320+16*(k-1)]; !bytes.Equal(got, hk[:]) {
			t.Fatalf("H_%d: %x, want %x", k, got, hk)
		}
		var p handle.Polyval
		p.Init(&iw.IK)
		p.Update(hk[:])
		hk = p.Sum()
	}
	// InvMixColumns of round keys 1-13.
	rks := sealedExpand(iw.EK[:])
	for i := 1; i <= 13; i++ {
		if got, want := region[432+16*(i-1):448+16*(i-1)], sealedInvMix(rks[i]); !bytes.Equal(got, want[:]) {
			t.Fatalf("decryption round key %d: %x, want %x", i, got, want)
		}
	}
	if !bytes.Equal(region[640:], make([]byte, 4096-640)) {
		t.Fatal("SealedInit wrote past region[640]")
	}
	// sealedExpand itself: the FIPS-197 appendix A last round keys.
	for _, v := range []struct{ key, last string }{
		{"2b7e151628aed2a6abf7158809cf4f3c", "d014f9a8c9ee2589e13f0cc8b6630ca6"},
		{"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "e98ba06f448c773c8ecc720401002202"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "fe4890d1e6188d0b046df344706c631e"},
	} {
		rks := sealedExpand(unhexT(t, v.key))
		if got := hex.EncodeToString(rks[len(rks)-1][:]); got != v.last {
			t.Fatalf("sealedExpand(%s) last round key %s, want %s", v.key, got, v.last)
		}
	}
}

// sealedInvMix is InvMixColumns (FIPS-197 5.3.3) of a round key, what
// AESIMC computes.
func sealedInvMix(rk [16]byte) (out [16]byte) {
	m := [4]byte{14, 11, 13, 9}
	for c := 0; c < 4; c++ {
		for r := 0; r < 4; r++ {
			for j := 0; j < 4; j++ {
				out[4*c+r] ^= gmul(m[(j-r+4)%4], rk[4*c+j])
			}
		}
	}
	return out
}

func unhexT(tb testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestSealedEncodeKeyVsHandle(t *testing.T) {
	sealedRequireAESNI(t)
	for iter := 0; iter < 20; iter++ {
		region, iw := sealedRegion(t, nil)
		for _, n := range []int{16, 24, 32} {
			key := sealedRand(n)
			for r := uint32(0); r < 8; r++ {
				want, err := handle.Wrap(iw, r, key)
				if err != nil {
					t.Fatal(err)
				}
				var h Handle
				for i := range h {
					h[i] = sealedSentinel
				}
				SealedEncodeKey(region, &key[0], n, r|0xFFFF_FFF8*uint32(iter&1), &h)
				if !bytes.Equal(h[:len(want)], want) {
					t.Fatalf("n=%d r=%d:\n got %x\nwant %x", n, r, h[:len(want)], want)
				}
				if len(want) == 48 && !bytes.Equal(h[48:], make([]byte, 16)) {
					t.Fatalf("n=16: h[48:64] = %x, want zero", h[48:])
				}
			}
		}
	}
}

func TestSealedEncodeKeySpecVector(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, new(handle.IWKey))
	key := make([]byte, 16)
	h := sealedWrap(t, region, key, 0)
	want := unhexT(t, "00000000000000000000000000000000"+
		"dc95c078a2408989ad48a21492842087"+
		"08c374848c228233c2b34f332bd2e9d3")
	if !bytes.Equal(h[:48], want) {
		t.Fatalf("handle\n got %x\nwant %x", h[:48], want)
	}
	// And it unwraps: encrypting with it is AES-128 with the zero key.
	src := sealedRand(16)
	dst := make([]byte, 16)
	if !SealedEncrypt(region, h, dst, src, PathAESNI) || !bytes.Equal(dst, sealedWant(key, true, src)) {
		t.Fatal("spec-vector handle does not encrypt")
	}
}

func TestSealedEncodeKeyBadLength(t *testing.T) {
	region, _ := sealedRegion(t, nil)
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a 20-byte key")
		}
	}()
	key := make([]byte, 20)
	var h Handle
	SealedEncodeKey(region, &key[0], 20, 0, &h)
}

func sealedExpectReject(t *testing.T, what string, region *Region, h *Handle, enc bool, path, blocks int) {
	t.Helper()
	src := sealedRand(16 * blocks)
	dst := bytes.Repeat([]byte{sealedSentinel}, 16*blocks)
	if sealedFn(enc)(region, h, dst, src, path) {
		t.Fatalf("%s: accepted", what)
	}
	for i, b := range dst {
		if b != sealedSentinel {
			t.Fatalf("%s: rejected but dst[%d] written", what, i)
		}
	}
}

// TestSealedAES192Pad: a handle of key type 2 whose pad bytes decrypt to
// nonzero values is refused even if its tag is right (possible only with a
// wrapping key chosen to make POLYVAL ignore them: IK = 0 makes the whole
// POLYVAL zero).
func TestSealedAES192Pad(t *testing.T) {
	sealedRequireAESNI(t)
	iw := new(handle.IWKey)
	rand.Read(iw.EK[:]) // IK = 0: POLYVAL is 0 whatever the key blocks
	region, _ := sealedRegion(t, iw)
	key := sealedRand(24)
	h := sealedWrap(t, region, key, 0)
	src := sealedRand(32)
	dst := make([]byte, 32)
	if !SealedEncrypt(region, h, dst, src, PathAESNI) {
		t.Fatal("AES-192 handle rejected")
	}
	h[63] ^= 1 // a pad byte
	sealedExpectReject(t, "AES-192 nonzero pad", region, h, true, PathAESNI, 2)
	h[63] ^= 1
	h[40] ^= 1 // a key byte: accepted, IK = 0 authenticates nothing
	if !SealedEncrypt(region, h, dst, src, PathAESNI) {
		t.Fatal("zero IK: modified key not accepted (test assumption wrong)")
	}
}

func TestSealedRestrictions(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	for _, n := range []int{16, 24, 32} {
		key := sealedRand(n)
		for r := uint32(0); r < 8; r++ {
			h := sealedWrap(t, region, key, r)
			for _, enc := range []bool{true, false} {
				forbidden := r&handle.CPL0Only != 0 || enc && r&handle.NoEncrypt != 0 || !enc && r&handle.NoDecrypt != 0
				what := fmt.Sprintf("AES-%d r=%d %s", 8*n, r, sealedDir(enc))
				if forbidden {
					sealedExpectReject(t, what, region, h, enc, PathAESNI, 2)
					continue
				}
				src := sealedRand(32)
				dst := make([]byte, 32)
				if !sealedFn(enc)(region, h, dst, src, PathAESNI) || !bytes.Equal(dst, sealedWant(key, enc, src)) {
					t.Fatalf("%s: wrong", what)
				}
			}
		}
	}
}

// TestSealedUnknownPath: a path value other than 0-2 runs the AES-NI path.
func TestSealedUnknownPath(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	key := sealedRand(24)
	h := sealedWrap(t, region, key, 0)
	for _, path := range []int{-1, 3, 1 << 40} {
		src := sealedRand(16 * 19)
		dst := make([]byte, len(src))
		if !SealedDecrypt(region, h, dst, src, path) || !bytes.Equal(dst, sealedWant(key, false, src)) {
			t.Fatalf("path %d: wrong", path)
		}
	}
}

func TestSealedShortDst(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	h := sealedWrap(t, region, sealedRand(16), 0)
	dst := bytes.Repeat([]byte{sealedSentinel}, 31)
	if SealedEncrypt(region, h, dst, sealedRand(32), PathAESNI) {
		t.Fatal("len(dst) < len(src) accepted")
	}
	if !bytes.Equal(dst, bytes.Repeat([]byte{sealedSentinel}, 31)) {
		t.Fatal("dst written")
	}
}

// TestSealedRegsClear calls each routine through asmtest.CallABI0Z, which
// dumps Z0-Z31 right after it returns, and the stack below, and checks that the
// vector registers are zero and that no key or round key is left in the
// routine's stack frame.
func TestSealedRegsClear(t *testing.T) {
	sealedRequireAESNI(t)
	if !cpu.X86.HasAVX512F {
		t.Skip("the register dump helper needs AVX-512F")
	}
	region, _ := sealedRegion(t, nil)
	for _, n := range []int{16, 24, 32} {
		key := sealedRand(n)
		rks := sealedExpand(key)
		h := sealedWrap(t, region, key, 0)
		bad := *h
		bad[20] ^= 1
		for _, path := range sealedPaths() {
			for _, enc := range []bool{true, false} {
				for _, blocks := range []int{0, 1, 2, 7, 8, 9, 17, 33, 100} {
					for _, hh := range []*Handle{h, &bad} {
						var out [48][64]byte
						for i := range out {
							for j := range out[i] {
								out[i][j] = sealedSentinel
							}
						}
						src := sealedRand(16 * blocks)
						dst := make([]byte, len(src))
						what := fmt.Sprintf("AES-%d %s %s %d blocks, good handle %v", 8*n, sealedPathNames[path], sealedDir(enc), blocks, hh == h)
						ok := sealedRegsAfter(t, !enc, region, hh, dst, src, path, &out)
						if ok != (hh == h) {
							t.Fatalf("%s: returned %v", what, ok)
						}
						// What each path must leave zero: X0-X15 (SSE code
						// leaves the upper lanes as the caller had them), all
						// of Z0-Z15 after VZEROALL, Z16-Z31 on the zmm path.
						regs, width := 16, 16
						if ok && blocks > 1 && path == PathVAES256 {
							width = 64
						}
						if ok && blocks > 1 && path == PathVAES512 {
							regs, width = 32, 64
						}
						for r := 0; r < regs; r++ {
							if !bytes.Equal(out[r][:width], make([]byte, width)) {
								t.Fatalf("%s: Z%d not clear after return: %x", what, r, out[r])
							}
						}
						stack := out[32:]
						flat := make([]byte, 0, 1024)
						for i := range stack {
							flat = append(flat, stack[i][:]...)
						}
						for i, rk := range rks {
							if bytes.Contains(flat, rk[:8]) {
								t.Fatalf("%s: round key %d left on the stack", what, i)
							}
						}
						if bytes.Contains(flat, key[n-8:]) {
							t.Fatalf("%s: key left on the stack", what)
						}
					}
				}
			}
		}
	}
}

// TestSealedRegsClearInitEncodeKey: X0-X15 are zero after SealedInit and
// SealedEncodeKey (SSE code: the upper lanes are the caller's).
func TestSealedRegsClearInitEncodeKey(t *testing.T) {
	sealedRequireAESNI(t)
	if !cpu.X86.HasAVX512F {
		t.Skip("the register dump helper needs AVX-512F")
	}
	check := func(what string, out *[32][64]byte) {
		t.Helper()
		for r := 0; r < 16; r++ {
			if !bytes.Equal(out[r][:16], make([]byte, 16)) {
				t.Fatalf("%s: X%d not clear: %x", what, r, out[r][:16])
			}
		}
	}
	region, iw := sealedRegion(t, nil)
	var out [32][64]byte
	r2 := new(Region)
	copy(r2[:48], region[:48])
	sealedRegsAfterInit(t, r2, &out)
	check("SealedInit", &out)
	if *r2 != *region {
		t.Fatal("SealedInit through the helper differs")
	}
	for _, n := range []int{16, 24, 32} {
		key := sealedRand(n)
		var h Handle
		sealedRegsAfterEncodeKey(t, region, &key[0], n, 2, &h, &out)
		check(fmt.Sprintf("SealedEncodeKey AES-%d", 8*n), &out)
		want, _ := handle.Wrap(iw, 2, key)
		if !bytes.Equal(h[:len(want)], want) {
			t.Fatalf("AES-%d: handle through the helper differs", 8*n)
		}
	}
}
