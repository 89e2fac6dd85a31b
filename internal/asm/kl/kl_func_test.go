//go:build amd64 && !purego

package kl

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/go-keylocker/keylocker/internal/asm"
)

// Functional tests of the Key Locker routines. They need a CPU (or klemu)
// with Key Locker enabled: elsewhere they skip, except under klemu
// (KLEMU_ACTIVE set), where a missing Key Locker is a failure.
// TestKeyLockerUnderKlemu (kl_klemu_test.go) reruns every TestKL* test of
// this binary under klemu, so a plain `go test ./internal/asm/kl/` runs them.

// klCPU reports what CPUID says about Key Locker.
func klCPU() (aeskle, wide bool) {
	maxLeaf, _, _, _ := asm.CPUID(0, 0)
	if maxLeaf < 0x19 {
		return false, false
	}
	_, _, c7, _ := asm.CPUID(7, 0)
	if c7&(1<<23) == 0 {
		return false, false
	}
	_, b19, _, _ := asm.CPUID(0x19, 0)
	return b19&1 != 0, b19&1 != 0 && b19&4 != 0
}

// klRequire skips the test unless the AES KL instructions (and with wide,
// the WIDE forms) can run here. Under klemu with the full profile a missing
// feature is a failure, not a skip.
func klRequire(t testing.TB, wide bool) {
	t.Helper()
	aeskle, haveWide := klCPU()
	if aeskle && (!wide || haveWide) {
		return
	}
	what := "Key Locker (CPUID.7:ECX.KL and CPUID.19H:EBX.AESKLE)"
	if aeskle {
		what = "the WIDE Key Locker forms (CPUID.19H:EBX.WIDE_KL)"
	}
	if os.Getenv("KLEMU_ACTIVE") != "" {
		profile := os.Getenv("KLEMU_PROFILE")
		if profile == "" || profile == "full" || !aeskle && profile == "no-wide" {
			t.Fatalf("running under klemu (profile %q) but CPUID does not report %s", profile, what)
		}
		t.Skipf("klemu profile %q: no %s", profile, what)
	}
	t.Skipf("this CPU does not enable %s; TestKeyLockerUnderKlemu runs this test under klemu", what)
}

// TestKLCPUID needs no Key Locker: CPUID and XGETBV0 work everywhere.
func TestKLCPUID(t *testing.T) {
	maxLeaf, b, c, d := asm.CPUID(0, 0)
	vendor := string(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, b), d), c))
	if maxLeaf == 0 || vendor == "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Fatalf("asm.CPUID(0): max leaf %#x vendor %q", maxLeaf, vendor)
	}
	_, _, c1, _ := asm.CPUID(1, 0)
	aeskle, wide := klCPU()
	t.Logf("vendor %q, max leaf %#x, AESKLE %v, WIDE_KL %v", vendor, maxLeaf, aeskle, wide)
	if c1&(1<<27) == 0 {
		t.Skip("CPUID.1:ECX.OSXSAVE = 0: XGETBV not usable")
	}
	xcr0, xcr0hi := asm.XGETBV0()
	if xcr0&3 != 3 {
		t.Errorf("XCR0 = %#x:%#x: x87 and SSE state bits not both set", xcr0hi, xcr0)
	}
}

func klRand(tb testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

// klECBFunc describes one ECB routine. Its index in klECBFuncs is the fn
// argument of klECBRegs.
type klECBFunc struct {
	name    string
	f       func(h *[64]byte, dst, src []byte) bool
	keyLen  int
	encrypt bool
	wide    bool
}

var klECBFuncs = []klECBFunc{
	{"EncryptKL128", EncryptKL128, 16, true, false},
	{"DecryptKL128", DecryptKL128, 16, false, false},
	{"EncryptKL256", EncryptKL256, 32, true, false},
	{"DecryptKL256", DecryptKL256, 32, false, false},
	{"EncryptKLWide128", EncryptKLWide128, 16, true, true},
	{"DecryptKLWide128", DecryptKLWide128, 16, false, true},
	{"EncryptKLWide256", EncryptKLWide256, 32, true, true},
	{"DecryptKLWide256", DecryptKLWide256, 32, false, true},
}

// klHandle makes a handle for key (16 or 32 bytes) with ENCODEKEY.
func klHandle(tb testing.TB, key []byte, restrictions uint32) *[64]byte {
	tb.Helper()
	h := new([64]byte)
	switch len(key) {
	case 16:
		EncodeKey128((*[16]byte)(key), restrictions, h)
	case 32:
		EncodeKey256((*[32]byte)(key), restrictions, h)
	default:
		tb.Fatalf("bad key length %d", len(key))
	}
	return h
}

// klWant computes the ECB result of src with crypto/aes.
func klWant(tb testing.TB, key []byte, encrypt bool, src []byte) []byte {
	tb.Helper()
	c, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]byte, len(src))
	for i := 0; i+16 <= len(src); i += 16 {
		if encrypt {
			c.Encrypt(out[i:], src[i:])
		} else {
			c.Decrypt(out[i:], src[i:])
		}
	}
	return out
}

const klSentinel = 0x5C

func klFilled(n int) []byte { return bytes.Repeat([]byte{klSentinel}, n) }

// klCheckTail fails unless b is all sentinel bytes.
func klCheckTail(t *testing.T, what string, b []byte) {
	t.Helper()
	for i, c := range b {
		if c != klSentinel {
			t.Errorf("%s: byte %d past the last stored block written (%#x)", what, i, c)
			return
		}
	}
}

func TestKLEncodeKey(t *testing.T) {
	klRequire(t, false)
	for _, tc := range []struct {
		keyLen       int
		restrictions uint32
	}{{16, 0}, {16, 2}, {16, 4}, {32, 0}, {32, 2}, {32, 4}} {
		key := klRand(t, tc.keyLen)
		var h [64]byte
		for i := range h {
			h[i] = 0xFF
		}
		var info uint32
		kt := uint32(0)
		if tc.keyLen == 16 {
			info = EncodeKey128((*[16]byte)(key), tc.restrictions, &h)
		} else {
			info = EncodeKey256((*[32]byte)(key), tc.restrictions, &h)
			kt = 1
		}
		// info: bit 0 NoBackup, bits 4:1 KeySource, the rest zero.
		if info&^0x1F != 0 {
			t.Errorf("AES-%d: info = %#x has bits above 4", tc.keyLen*8, info)
		}
		if ks := info >> 1 & 0xF; ks > 1 {
			t.Errorf("AES-%d: info = %#x: KeySource %d is not 0 or 1", tc.keyLen*8, info, ks)
		}
		t.Logf("AES-%d restrictions %d: info %#x (NoBackup %d, KeySource %d)", tc.keyLen*8, tc.restrictions, info, info&1, info>>1&0xF)
		wantMeta := make([]byte, 16)
		binary.LittleEndian.PutUint32(wantMeta, kt<<24|tc.restrictions)
		if !bytes.Equal(h[:16], wantMeta) {
			t.Errorf("AES-%d restrictions %d: metadata %x, want %x", tc.keyLen*8, tc.restrictions, h[:16], wantMeta)
		}
		if tc.keyLen == 16 && !bytes.Equal(h[48:], make([]byte, 16)) {
			t.Errorf("AES-128: h[48:64] = %x, want zero", h[48:])
		}
		if bytes.Contains(h[:], key[:16]) || bytes.Contains(h[:], key[tc.keyLen-16:]) {
			t.Errorf("AES-%d: handle contains the raw key", tc.keyLen*8)
		}
	}
}

// TestKLEncodeKeyRegs checks that EncodeKey128/256 leave X0-X6 zero (X7 is
// not touched: it keeps the probe's sentinel) and that the handle they
// stored works.
func TestKLEncodeKeyRegs(t *testing.T) {
	klRequire(t, false)
	sentinel := [16]byte(bytes.Repeat([]byte{0xA5}, 16))
	for _, bits := range []int{128, 256} {
		var key [32]byte
		copy(key[:], klRand(t, 32))
		var h [64]byte
		var regs [8][16]byte
		info := klEncodeKeyRegs(t, bits, &key, 0, &h, &regs)
		for i := 0; i <= 6; i++ {
			if regs[i] != ([16]byte{}) {
				t.Errorf("EncodeKey%d: X%d = %x after return, want zero", bits, i, regs[i])
			}
		}
		if regs[7] != sentinel {
			t.Errorf("EncodeKey%d: X7 = %x, want untouched %x", bits, regs[7], sentinel)
		}
		if info&^0x1F != 0 {
			t.Errorf("EncodeKey%d: info %#x", bits, info)
		}
		src := klRand(t, 16)
		dst := make([]byte, 16)
		k := key[:bits/8]
		ok := EncryptKL128(&h, dst, src)
		if bits == 256 {
			ok = EncryptKL256(&h, dst, src)
		}
		if !ok || !bytes.Equal(dst, klWant(t, k, true, src)) {
			t.Errorf("EncodeKey%d via probe: handle does not encrypt correctly (ok=%v)", bits, ok)
		}
	}
}

// klBlockCounts is every block count 0..40 and a large one.
func klBlockCounts() []int {
	var ns []int
	for n := 0; n <= 40; n++ {
		ns = append(ns, n)
	}
	return append(ns, 1000)
}

// TestKLECB runs every routine against crypto/aes for every block count
// 0..40 and 1000, out of place (with sentinel bytes after dst) and in place.
func TestKLECB(t *testing.T) {
	for _, fn := range klECBFuncs {
		t.Run(fn.name, func(t *testing.T) {
			klRequire(t, fn.wide)
			key := klRand(t, fn.keyLen)
			h := klHandle(t, key, 0)
			for _, n := range klBlockCounts() {
				src := klRand(t, 16*n)
				want := klWant(t, key, fn.encrypt, src)
				buf := klFilled(16*n + 48)
				dst := buf[:16*n]
				srcCopy := bytes.Clone(src)
				if !fn.f(h, dst, src) {
					t.Fatalf("%d blocks: returned false", n)
				}
				if !bytes.Equal(dst, want) {
					t.Fatalf("%d blocks: result differs from crypto/aes\n got %x\nwant %x", n, dst, want)
				}
				klCheckTail(t, fmt.Sprintf("%d blocks", n), buf[16*n:])
				if !bytes.Equal(src, srcCopy) {
					t.Fatalf("%d blocks: src modified", n)
				}
				// In place: every count for the WIDE forms (batch and tail
				// boundaries), a few for the single forms.
				if fn.wide || n <= 9 || n == 40 || n == 1000 {
					if !fn.f(h, src, src) {
						t.Fatalf("%d blocks in place: returned false", n)
					}
					if !bytes.Equal(src, want) {
						t.Fatalf("%d blocks in place: result differs from crypto/aes", n)
					}
				}
			}
			// dst longer than src: only len(src)/16 blocks are processed.
			src := klRand(t, 16*3)
			buf := klFilled(16 * 12)
			if !fn.f(h, buf, src) || !bytes.Equal(buf[:48], klWant(t, key, fn.encrypt, src)) {
				t.Fatal("len(dst) > len(src): wrong result")
			}
			klCheckTail(t, "len(dst) > len(src)", buf[48:])
		})
	}
}

// TestKLRoundTrip encrypts with one routine and decrypts with the other
// form (single vs WIDE) of the same key size.
func TestKLRoundTrip(t *testing.T) {
	klRequire(t, true)
	for _, keyLen := range []int{16, 32} {
		key := klRand(t, keyLen)
		h := klHandle(t, key, 0)
		enc, dec, encW, decW := EncryptKL128, DecryptKL128, EncryptKLWide128, DecryptKLWide128
		if keyLen == 32 {
			enc, dec, encW, decW = EncryptKL256, DecryptKL256, EncryptKLWide256, DecryptKLWide256
		}
		pt := klRand(t, 16*19)
		ct := make([]byte, len(pt))
		out := make([]byte, len(pt))
		if !encW(h, ct, pt) || !dec(h, out, ct) || !bytes.Equal(out, pt) {
			t.Errorf("AES-%d: wide encrypt + single decrypt does not round-trip", keyLen*8)
		}
		if !enc(h, ct, pt) || !decW(h, out, ct) || !bytes.Equal(out, pt) {
			t.Errorf("AES-%d: single encrypt + wide decrypt does not round-trip", keyLen*8)
		}
	}
}

// klExpectReject runs fn on a fresh buffer and checks that it returns false
// and writes nothing (the handle is rejected by the first instruction).
func klExpectReject(t *testing.T, what string, fn klECBFunc, h *[64]byte, blocks int) {
	t.Helper()
	src := klRand(t, 16*blocks)
	buf := klFilled(16*blocks + 16)
	if fn.f(h, buf[:16*blocks], src) {
		t.Errorf("%s: %s returned true, want false", what, fn.name)
		return
	}
	klCheckTail(t, what+": "+fn.name+": rejected handle", buf)
}

// klExpectWork runs fn and checks it against crypto/aes.
func klExpectWork(t *testing.T, what string, fn klECBFunc, key []byte, h *[64]byte, blocks int) {
	t.Helper()
	src := klRand(t, 16*blocks)
	dst := make([]byte, len(src))
	if !fn.f(h, dst, src) {
		t.Errorf("%s: %s returned false, want true", what, fn.name)
		return
	}
	if !bytes.Equal(dst, klWant(t, key, fn.encrypt, src)) {
		t.Errorf("%s: %s: result differs from crypto/aes", what, fn.name)
	}
}

// klRestrictionsSupported returns CPUID.19H:EAX bits 2:0: the restrictions
// ENCODEKEY accepts (the others raise #GP).
func klRestrictionsSupported() uint32 {
	a, _, _, _ := asm.CPUID(0x19, 0)
	return a & 7
}

// TestKLRestrictions: a no-encrypt handle fails every encrypt routine and
// works for decrypt; a no-decrypt handle the other way round; a CPL0-only
// handle fails everything at CPL3. Block counts 1 and 2 for the single
// forms, 3 (tail only) and 11 (a batch, then a tail) for WIDE. Nothing is
// written on a rejection.
func TestKLRestrictions(t *testing.T) {
	klRequire(t, true)
	supported := klRestrictionsSupported()
	for _, keyLen := range []int{16, 32} {
		key := klRand(t, keyLen)
		for _, r := range []struct {
			name         string
			restrictions uint32
		}{{"no-encrypt", 2}, {"no-decrypt", 4}, {"cpl0-only", 1}} {
			if r.restrictions&supported != r.restrictions {
				t.Logf("CPUID.19H:EAX = %#x does not list %s: not tested", supported, r.name)
				continue
			}
			h := klHandle(t, key, r.restrictions)
			for _, fn := range klECBFuncs {
				if fn.keyLen != keyLen {
					continue
				}
				blocks := []int{1, 2}
				if fn.wide {
					blocks = []int{3, 11}
				}
				for _, b := range blocks {
					what := fmt.Sprintf("AES-%d %s %d blocks", keyLen*8, r.name, b)
					rejected := r.restrictions == 1 ||
						r.restrictions == 2 && fn.encrypt ||
						r.restrictions == 4 && !fn.encrypt
					if rejected {
						klExpectReject(t, what, fn, h, b)
					} else {
						klExpectWork(t, what, fn, key, h, b)
					}
				}
			}
		}
	}
}

// TestKLUnaligned: src and dst at odd addresses, and overlapping exactly
// (in place) at an odd address.
func TestKLUnaligned(t *testing.T) {
	klRequire(t, true)
	for _, fn := range klECBFuncs {
		key := klRand(t, fn.keyLen)
		h := klHandle(t, key, 0)
		const blocks = 11
		srcBuf := klRand(t, 16*blocks+3)
		src := srcBuf[3:]
		want := klWant(t, key, fn.encrypt, src)
		dstBuf := klFilled(16*blocks + 1 + 16)
		dst := dstBuf[1 : 1+16*blocks]
		if !fn.f(h, dst, src) || !bytes.Equal(dst, want) {
			t.Errorf("%s: unaligned src/dst: wrong result", fn.name)
		}
		klCheckTail(t, fn.name+" unaligned", dstBuf[1+16*blocks:])
		if dstBuf[0] != klSentinel {
			t.Errorf("%s: byte before dst written", fn.name)
		}
		if !fn.f(h, src, src) || !bytes.Equal(src, want) {
			t.Errorf("%s: unaligned in place: wrong result", fn.name)
		}
	}
}

// TestKLTamper: a handle with a flipped bit (metadata reserved bit, key
// type, tag, wrapped key) is rejected by every routine of its key size, and
// nothing is written.
func TestKLTamper(t *testing.T) {
	klRequire(t, true)
	for _, keyLen := range []int{16, 32} {
		key := klRand(t, keyLen)
		for _, flip := range []struct {
			name string
			byte int
			mask byte
		}{
			{"reserved metadata bit 8", 1, 0x01},
			{"reserved metadata bit 127", 15, 0x80},
			{"key type", 3, 0x01},
			{"tag bit 0", 16, 0x01},
			{"tag bit 127", 31, 0x80},
			{"wrapped key first bit", 32, 0x01},
			{"wrapped key last bit", keyLen + 31, 0x80},
		} {
			h := klHandle(t, key, 0)
			h[flip.byte] ^= flip.mask
			for _, fn := range klECBFuncs {
				if fn.keyLen != keyLen {
					continue
				}
				klExpectReject(t, fmt.Sprintf("AES-%d %s", keyLen*8, flip.name), fn, h, 9)
			}
		}
	}
}

// TestKLKeyTypeMismatch: an AES-128 handle on a 256 routine and an AES-256
// handle on a 128 routine are rejected.
func TestKLKeyTypeMismatch(t *testing.T) {
	klRequire(t, true)
	h128 := klHandle(t, klRand(t, 16), 0)
	h256 := klHandle(t, klRand(t, 32), 0)
	for _, fn := range klECBFuncs {
		h := h256
		if fn.keyLen == 32 {
			h = h128 // h[48:64] is zero
		}
		klExpectReject(t, "key type mismatch", fn, h, 9)
	}
}

// TestKLRegsCleared: after every routine, on success and on a rejected
// handle, the data registers are zero: X0 for the single forms (X1-X7
// untouched), X0-X7 for the WIDE forms.
func TestKLRegsCleared(t *testing.T) {
	klRequire(t, true)
	sentinel := [16]byte(bytes.Repeat([]byte{0xA5}, 16))
	for i, fn := range klECBFuncs {
		key := klRand(t, fn.keyLen)
		good := klHandle(t, key, 0)
		bad := klHandle(t, key, 0)
		bad[20] ^= 4
		for _, c := range []struct {
			name   string
			h      *[64]byte
			blocks int
			ok     bool
		}{{"ok", good, 9, true}, {"ok 0 blocks", good, 0, true}, {"rejected", bad, 9, false}} {
			src := klRand(t, 16*c.blocks)
			dst := make([]byte, len(src))
			var regs [8][16]byte
			ok := klECBRegs(t, i, c.h, dst, src, &regs)
			if ok != c.ok {
				t.Errorf("%s %s: returned %v", fn.name, c.name, ok)
			}
			if ok && !bytes.Equal(dst, klWant(t, key, fn.encrypt, src)) {
				t.Errorf("%s %s: wrong result through the probe", fn.name, c.name)
			}
			for r := range regs {
				want := sentinel
				if r == 0 || fn.wide {
					want = [16]byte{}
				}
				if regs[r] != want {
					t.Errorf("%s %s: X%d = %x after return, want %x", fn.name, c.name, r, regs[r], want)
				}
			}
		}
	}
}
