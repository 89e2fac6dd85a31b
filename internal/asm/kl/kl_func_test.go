//go:build amd64 && !purego

package kl

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
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
	f       func(h *Handle, dst, src []byte) bool
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
func klHandle(tb testing.TB, key []byte, restrictions uint32) *Handle {
	tb.Helper()
	h := new(Handle)
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
		var h Handle
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
		var h Handle
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

// klExpectReject runs fn on a fresh buffer and checks that it returns false
// and writes nothing (the handle is rejected by the first instruction).
func klExpectReject(t *testing.T, what string, fn klECBFunc, h *Handle, blocks int) {
	t.Helper()
	src := klRand(t, 16*blocks)
	buf := klFilled(16*blocks + 16)
	if fn.f(h, buf[:16*blocks], src) {
		t.Errorf("%s: %s returned true, want false", what, fn.name)
		return
	}
	klCheckTail(t, what+": "+fn.name+": rejected handle", buf)
}

// klRestrictionsSupported returns CPUID.19H:EAX bits 2:0: the restrictions
// ENCODEKEY accepts (the others raise #GP).
func klRestrictionsSupported() uint32 {
	a, _, _, _ := asm.CPUID(0x19, 0)
	return a & 7
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
			h      *Handle
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
