package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
	"golang.org/x/crypto/xts"
)

// The fault campaign: under klemu --rotate-after=N the IWKey is replaced
// after every N emulated AES instructions, as when the OS loses it across
// suspend/resume, in the middle of calls or between them. For N of 1, 2, 7,
// 8, 9 (around the 8 blocks of a WIDE instruction), 64 and 1000, on the
// full and no-wide profiles, every mode on every Key Locker implementation
// and key size is used with fresh handles until each has died a few times:
// every call either succeeds with crypto/aes's result or fails with
// ErrInvalidHandle (returned, or the documented panic) with its whole
// output zeroed and nothing else written; once a handle has been refused,
// no later call on it succeeds; no handle outlives N calls (every call runs
// at least one instruction), so the rotation is seen.

var faultRotations = []int{1, 2, 7, 8, 9, 64, 1000}

func TestFaultCampaign(t *testing.T) {
	if klemutest.Inner() {
		t.Skip("already running under klemu")
	}
	if !hasAsm {
		t.Skipf("the Key Locker code is amd64 assembly and this build (%s) has none", buildDesc())
	}
	for _, profile := range []string{"full", "no-wide"} {
		for _, n := range faultRotations {
			t.Run(fmt.Sprintf("%s/rotate-after-%d", profile, n), func(t *testing.T) {
				t.Setenv("AESKL_TEST_FAULT", strconv.Itoa(n))
				out := klemutest.RunSelf(t, []string{"--profile=" + profile, fmt.Sprintf("--rotate-after=%d", n)}, "^TestFaultInner$")
				klemutest.MustPass(t, out, "TestFaultInner")
			})
		}
	}
}

// faultState is one set of objects on fresh handles, with their references.
type faultState struct {
	c            *Cipher
	x            *XTS
	g            cipher.AEAD
	ref          cipher.Block
	refX         *xts.Cipher
	refG         cipher.AEAD
	stream, refS cipher.Stream
	mode, refM   cipher.BlockMode
	nonce        []byte
}

// faultMode is one mode of the campaign: call runs call number i on the
// state's objects and reports whether it succeeded, after checking the
// result against the reference or the refusal (error or panic
// ErrInvalidHandle, output zeroed, nothing else written).
type faultMode struct {
	name string
	call func(t *testing.T, s *faultState, i int) bool
}

// faultLen is the length of call i of a byte-granular mode: 16 to 200
// bytes, so that every call needs at least one new block (a CTR call served
// wholly from keystream made before the rotation may rightly succeed).
func faultLen(i int) int { return 16 + i*37%185 }

// faultBlocks is the block count of call i of a block mode: 1 to 19.
func faultBlocks(i int) int { return 1 + i*5%19 }

// refusedErr checks a refused call that returned err, with out its output
// in a buffer whose other bytes (outside [lo, hi)) must equal before.
func refusedErr(t *testing.T, what string, err error, buf, before []byte, lo, hi int) {
	t.Helper()
	if !errors.Is(err, ErrInvalidHandle) {
		t.Fatalf("%s: %v, want ErrInvalidHandle", what, err)
	}
	if !bytes.Equal(buf[lo:hi], make([]byte, hi-lo)) {
		t.Fatalf("%s: refused, but the output is not zeroed", what)
	}
	if i := changedOutside(buf, before, lo, hi); i >= 0 {
		t.Fatalf("%s: refused, and byte %d outside the output changed", what, i)
	}
}

// callPanics runs f and returns the panic value as an error (nil if it
// returned); a panic that is not ErrInvalidHandle fails t.
func callPanics(t *testing.T, what string, f func()) error {
	t.Helper()
	r := panics(f)
	if r == nil {
		return nil
	}
	if err, ok := r.(error); ok && errors.Is(err, ErrInvalidHandle) {
		return err
	}
	t.Fatalf("%s: panic %v, want ErrInvalidHandle", what, r)
	return nil
}

var faultModes = []faultMode{
	{"ecb-encrypt", func(t *testing.T, s *faultState, i int) bool { return faultECB(t, s, i, false) }},
	{"ecb-decrypt", func(t *testing.T, s *faultState, i int) bool { return faultECB(t, s, i, true) }},
	{"block-encrypt", func(t *testing.T, s *faultState, i int) bool { return faultBlock(t, s, i, false) }},
	{"block-decrypt", func(t *testing.T, s *faultState, i int) bool { return faultBlock(t, s, i, true) }},
	{"ctr", func(t *testing.T, s *faultState, i int) bool {
		src := randBytes(faultLen(i))
		want := make([]byte, len(src))
		s.refS.XORKeyStream(want, src)
		buf := randBytes(len(src) + 8)
		before := bytes.Clone(buf)
		if err := callPanics(t, "CTR", func() { s.stream.XORKeyStream(buf, src) }); err != nil {
			refusedErr(t, "CTR", err, buf, before, 0, len(src))
			return false
		}
		if !bytes.Equal(buf[:len(src)], want) || !bytes.Equal(buf[len(src):], before[len(src):]) {
			t.Fatalf("CTR call %d succeeded with a wrong result", i)
		}
		return true
	}},
	{"cbc-encrypt", func(t *testing.T, s *faultState, i int) bool { return faultCBC(t, s, i) }},
	{"cbc-decrypt", func(t *testing.T, s *faultState, i int) bool { return faultCBC(t, s, i) }},
	{"gcm-seal", func(t *testing.T, s *faultState, i int) bool {
		pt, ad := randBytes(faultLen(i)), randBytes(i%20)
		s.nonce[0]++
		want := s.refG.Seal(nil, s.nonce, pt, ad)
		buf := randBytes(3 + len(want) + 8)
		before := bytes.Clone(buf)
		var got []byte
		if err := callPanics(t, "GCM Seal", func() { got = s.g.Seal(buf[:3], s.nonce, pt, ad) }); err != nil {
			refusedErr(t, "GCM Seal", err, buf, before, 3, 3+len(want))
			return false
		}
		if !bytes.Equal(got[3:], want) || &got[0] != &buf[0] || !bytes.Equal(buf[3+len(want):], before[3+len(want):]) {
			t.Fatalf("GCM Seal call %d succeeded with a wrong result", i)
		}
		return true
	}},
	{"gcm-open", func(t *testing.T, s *faultState, i int) bool {
		pt, ad := randBytes(faultLen(i)), randBytes(i%20)
		s.nonce[0]++
		msg := s.refG.Seal(nil, s.nonce, pt, ad)
		buf := randBytes(3 + len(pt) + 8)
		before := bytes.Clone(buf)
		got, err := s.g.Open(buf[:3], s.nonce, msg, ad)
		if err != nil {
			refusedErr(t, "GCM Open", err, buf, before, 3, 3+len(pt))
			return false
		}
		if !bytes.Equal(got[3:], pt) || !bytes.Equal(buf[3+len(pt):], before[3+len(pt):]) {
			t.Fatalf("GCM Open call %d succeeded with a wrong result", i)
		}
		return true
	}},
	{"xts-encrypt", func(t *testing.T, s *faultState, i int) bool {
		src := randBytes(faultLen(i)) // ciphertext stealing for most lengths
		want := xtsRefSector(s.refX, uint64(i)<<40, src)
		buf := randBytes(len(src) + 8)
		before := bytes.Clone(buf)
		if err := s.x.Encrypt(buf, src, uint64(i)<<40); err != nil {
			refusedErr(t, "XTS Encrypt", err, buf, before, 0, len(src))
			return false
		}
		if !bytes.Equal(buf[:len(src)], want) || !bytes.Equal(buf[len(src):], before[len(src):]) {
			t.Fatalf("XTS Encrypt call %d succeeded with a wrong result", i)
		}
		return true
	}},
	{"xts-decrypt", func(t *testing.T, s *faultState, i int) bool {
		pt := randBytes(faultLen(i))
		ct := xtsRefSector(s.refX, uint64(i), pt)
		buf := bytes.Clone(ct) // in place
		if err := s.x.Decrypt(buf, buf, uint64(i)); err != nil {
			refusedErr(t, "XTS Decrypt", err, buf, buf, 0, len(buf))
			return false
		}
		if !bytes.Equal(buf, pt) {
			t.Fatalf("XTS Decrypt call %d succeeded with a wrong result", i)
		}
		return true
	}},
	{"xts-sectors", func(t *testing.T, s *faultState, i int) bool {
		const size = 48
		src := randBytes(size * (1 + i%5))
		first := ^uint64(0) - uint64(i%3)
		want := make([]byte, len(src))
		for off := 0; off < len(src); off += size {
			s.refX.Encrypt(want[off:off+size], src[off:off+size], first+uint64(off/size))
		}
		buf := randBytes(len(src) + 8)
		before := bytes.Clone(buf)
		if err := s.x.EncryptSectors(buf[:len(src)], src, first, size); err != nil {
			refusedErr(t, "XTS EncryptSectors", err, buf, before, 0, len(src))
			return false
		}
		if !bytes.Equal(buf[:len(src)], want) || !bytes.Equal(buf[len(src):], before[len(src):]) {
			t.Fatalf("XTS EncryptSectors call %d succeeded with a wrong result", i)
		}
		return true
	}},
}

func faultECB(t *testing.T, s *faultState, i int, dec bool) bool {
	src := randBytes(16 * faultBlocks(i))
	want := make([]byte, len(src))
	f, rf, what := s.c.EncryptBlocks, s.ref.Encrypt, "EncryptBlocks"
	if dec {
		f, rf, what = s.c.DecryptBlocks, s.ref.Decrypt, "DecryptBlocks"
	}
	for j := 0; j < len(src); j += 16 {
		rf(want[j:], src[j:])
	}
	buf := randBytes(len(src) + 16)
	before := bytes.Clone(buf)
	if err := f(buf, src); err != nil {
		refusedErr(t, what, err, buf, before, 0, len(src))
		return false
	}
	if !bytes.Equal(buf[:len(src)], want) || !bytes.Equal(buf[len(src):], before[len(src):]) {
		t.Fatalf("%s call %d succeeded with a wrong result", what, i)
	}
	return true
}

func faultBlock(t *testing.T, s *faultState, i int, dec bool) bool {
	src := randBytes(16)
	want := make([]byte, 16)
	f, what := s.c.Encrypt, "Encrypt"
	if dec {
		f, what = s.c.Decrypt, "Decrypt"
		s.ref.Decrypt(want, src)
	} else {
		s.ref.Encrypt(want, src)
	}
	buf := randBytes(32)
	before := bytes.Clone(buf)
	if err := callPanics(t, what, func() { f(buf[8:], src) }); err != nil {
		refusedErr(t, what, err, buf, before, 8, 24)
		return false
	}
	if !bytes.Equal(buf[8:24], want) || changedOutside(buf, before, 8, 24) >= 0 {
		t.Fatalf("%s call %d succeeded with a wrong result", what, i)
	}
	return true
}

func faultCBC(t *testing.T, s *faultState, i int) bool {
	src := randBytes(16 * faultBlocks(i))
	want := make([]byte, len(src))
	s.refM.CryptBlocks(want, src)
	buf := randBytes(len(src) + 16)
	before := bytes.Clone(buf)
	if err := callPanics(t, "CBC", func() { s.mode.CryptBlocks(buf, src) }); err != nil {
		refusedErr(t, "CBC", err, buf, before, 0, len(src))
		return false
	}
	if !bytes.Equal(buf[:len(src)], want) || !bytes.Equal(buf[len(src):], before[len(src):]) {
		t.Fatalf("CBC call %d succeeded with a wrong result (the chaining continues across calls)", i)
	}
	return true
}

// TestFaultInner runs inside TestFaultCampaign's klemu, with the rotation
// period in AESKL_TEST_FAULT.
func TestFaultInner(t *testing.T) {
	n, err := strconv.Atoi(requireInner(t, "AESKL_TEST_FAULT"))
	if err != nil || n <= 0 {
		t.Fatalf("AESKL_TEST_FAULT=%q", os.Getenv("AESKL_TEST_FAULT"))
	}
	s := detect()
	var impls []Implementation
	for _, i := range []Implementation{KeyLockerWide, KeyLocker} {
		if unavailable(s, i, 16, 0) == "" {
			impls = append(impls, i)
		}
	}
	if want := map[string]int{"full": 2, "no-wide": 1}[os.Getenv("KLEMU_PROFILE")]; len(impls) != want {
		t.Fatalf("profile %s: Key Locker implementations %v", os.Getenv("KLEMU_PROFILE"), impls)
	}
	deaths := 3 // handles each mode sees refused
	if n >= 100 {
		deaths = 1
	}
	for _, impl := range impls {
		for _, keyLen := range []int{16, 32} {
			for _, m := range faultModes {
				t.Run(fmt.Sprintf("%v/%d/%s", impl, 8*keyLen, m.name), func(t *testing.T) {
					faultRun(t, impl, keyLen, m, n, deaths)
				})
			}
		}
	}
}

func faultRun(t *testing.T, impl Implementation, keyLen int, m faultMode, n, deaths int) {
	key, xkey, iv := randBytes(keyLen), randBytes(2*keyLen), randBytes(16)
	ref, _ := aes.NewCipher(key)
	refX, _ := xts.NewCipher(aes.NewCipher, xkey)
	refG, _ := cipher.NewGCM(ref)
	died, succeeded := 0, 0
	for died < deaths {
		c, err := New(key, WithImplementation(impl))
		if err != nil {
			t.Fatal(err)
		}
		st := &faultState{c: c, ref: ref, refX: refX, refG: refG, nonce: randBytes(12)}
		switch m.name {
		case "xts-encrypt", "xts-decrypt", "xts-sectors":
			if st.x, err = NewXTS(xkey, WithImplementation(impl)); err != nil {
				t.Fatal(err)
			}
		case "gcm-seal", "gcm-open":
			// NewGCM runs one instruction (H); refused, it returns the error.
			if st.g, err = c.NewGCM(12, 16); err != nil {
				if !errors.Is(err, ErrInvalidHandle) {
					t.Fatalf("NewGCM: %v", err)
				}
				died++
				continue
			}
		case "ctr":
			st.stream, st.refS = cipher.NewCTR(c, iv), cipher.NewCTR(ref, iv)
		case "cbc-encrypt":
			st.mode, st.refM = cipher.NewCBCEncrypter(c, iv), cipher.NewCBCEncrypter(ref, iv)
		case "cbc-decrypt":
			st.mode, st.refM = cipher.NewCBCDecrypter(c, iv), cipher.NewCBCDecrypter(ref, iv)
		}
		for i := 0; ; i++ {
			if m.call(t, st, i) {
				if i >= n {
					t.Fatalf("a handle served %d calls of at least one instruction each under --rotate-after=%d", i+1, n)
				}
				succeeded++
				continue
			}
			died++
			// The handle stays dead.
			if m.call(t, st, i+1) {
				t.Fatalf("call %d succeeded after the handle was refused", i+1)
			}
			break
		}
	}
	t.Logf("%d calls succeeded, %d handles refused", succeeded, died)
}
