//go:build amd64 && !purego

package kl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/internal/kernel"

	"golang.org/x/crypto/xts"

	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// Functional tests of the Key Locker mode kernels (kl_amd64.s). They
// run natively on a CPU with Key Locker, and under klemu when
// TestModeKLUnderKlemu (klmodes_klemu_test.go) reruns this binary with
// KLMODES_INNER set; elsewhere they skip.

const klmInnerEnv = "KLMODES_INNER"

// klmRequire skips t unless the Key Locker mode kernels can run here: under
// klemu only with KLMODES_INNER set (then a missing feature is a failure,
// see klRequire), natively only if the CPU enables Key Locker.
func klmRequire(t *testing.T, wide bool) {
	t.Helper()
	if klemutest.Inner() {
		if os.Getenv(klmInnerEnv) == "" {
			t.Skipf("under klemu without %s: not this package's mode run", klmInnerEnv)
		}
	} else if aeskle, _ := klCPU(); !aeskle {
		t.Skip("this CPU does not enable Key Locker; TestModeKLUnderKlemu runs this test under klemu")
	}
	klRequire(t, wide)
}

// klmKind is one kernel as the tests see it.
type klmKind int

const (
	klmCTR klmKind = iota
	klmCTR32
	klmCBCEnc
	klmCBCDec
	klmXTSEnc
	klmXTSDec
	klmGCM
	klmKinds
)

var klmNames = [klmKinds]string{"CTR", "CTR-inc32", "CBCEncrypt", "CBCDecrypt", "XTSEncrypt", "XTSDecrypt", "GCMCTR"}

func (k klmKind) String() string { return klmNames[k] }

// encrypts reports whether the kernel uses the data handle for encryption.
func (k klmKind) encrypts() bool { return k != klmCBCDec && k != klmXTSDec }

func (k klmKind) xts() bool { return k == klmXTSEnc || k == klmXTSDec }

// klmKeys holds a data key and an XTS tweak key with their handles.
type klmKeys struct {
	key, tkey []byte
	h, ht     *[64]byte
}

func klmNewKeys(t testing.TB, keyLen int, r, rt uint32) *klmKeys {
	k := &klmKeys{key: klRand(t, keyLen), tkey: klRand(t, keyLen)}
	k.h = klHandle(t, k.key, r)
	k.ht = klHandle(t, k.tkey, rt)
	return k
}

func klmFlags(keyLen int, wide bool) int {
	f := 0
	if keyLen == 32 {
		f |= kernel.ModeKey256
	}
	if wide {
		f |= kernel.ModeWide
	}
	return f
}

// klmRun calls the kernel. st is ctr, iv, tweak or j0; aux is GCM's
// tagMask. XTS encrypts the tweak with k.ht only if tweakEnc.
func klmRun(kind klmKind, k *klmKeys, dst, src []byte, st, aux *[16]byte, flags int, tweakEnc bool) bool {
	ht := k.ht
	if !tweakEnc {
		ht = nil
	}
	switch kind {
	case klmCTR:
		return KLCTR(k.h, dst, src, st, flags)
	case klmCTR32:
		return KLCTR(k.h, dst, src, st, flags|kernel.ModeInc32)
	case klmCBCEnc:
		return KLCBCEncrypt(k.h, dst, src, st, flags)
	case klmCBCDec:
		return KLCBCDecrypt(k.h, dst, src, st, flags)
	case klmXTSEnc:
		return KLXTS(k.h, ht, dst, src, st, flags)
	case klmXTSDec:
		return KLXTS(k.h, ht, dst, src, st, flags|kernel.ModeDecrypt)
	case klmGCM:
		return KLGCMCTR(k.h, dst, src, st, aux, flags)
	}
	panic("bad kind")
}

func klmBlock(tb testing.TB, key []byte) cipher.Block {
	b, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// klmAdd128 adds n to the big-endian 128-bit counter c.
func klmAdd128(c [16]byte, n uint64) [16]byte {
	hi, lo := binary.BigEndian.Uint64(c[:8]), binary.BigEndian.Uint64(c[8:])
	lo, carry := bits.Add64(lo, n, 0)
	hi += carry
	binary.BigEndian.PutUint64(c[:8], hi)
	binary.BigEndian.PutUint64(c[8:], lo)
	return c
}

// klmInc32 increments the low 32 bits of c, mod 2^32 (GCM's inc32).
func klmInc32(c *[16]byte) {
	binary.BigEndian.PutUint32(c[12:], binary.BigEndian.Uint32(c[12:])+1)
}

// klmRef computes the expected output, the state after the call and (GCM)
// the tag mask with crypto/aes and crypto/cipher (XTS and inc32 CTR by
// hand; XTS is checked against x/crypto/xts separately).
func klmRef(tb testing.TB, kind klmKind, k *klmKeys, src []byte, st [16]byte, tweakEnc bool) (out []byte, st2, aux [16]byte) {
	b := klmBlock(tb, k.key)
	n := len(src) / 16
	out = make([]byte, len(src))
	st2 = st
	switch kind {
	case klmCTR:
		cipher.NewCTR(b, st[:]).XORKeyStream(out, src)
		st2 = klmAdd128(st, uint64(n))
	case klmCTR32, klmGCM:
		c := st
		if kind == klmGCM {
			b.Encrypt(aux[:], st[:])
			klmInc32(&c)
		}
		var ks [16]byte
		for i := 0; i < n; i++ {
			b.Encrypt(ks[:], c[:])
			for j := range ks {
				out[16*i+j] = src[16*i+j] ^ ks[j]
			}
			klmInc32(&c)
		}
		if kind == klmCTR32 {
			st2 = c
		}
	case klmCBCEnc:
		if n > 0 {
			cipher.NewCBCEncrypter(b, st[:]).CryptBlocks(out, src)
			copy(st2[:], out[len(out)-16:])
		}
	case klmCBCDec:
		if n > 0 {
			cipher.NewCBCDecrypter(b, st[:]).CryptBlocks(out, src)
			copy(st2[:], src[len(src)-16:])
		}
	case klmXTSEnc, klmXTSDec:
		t := st
		if tweakEnc {
			klmBlock(tb, k.tkey).Encrypt(t[:], t[:])
		}
		var x [16]byte
		for i := 0; i < n; i++ {
			for j := range x {
				x[j] = src[16*i+j] ^ t[j]
			}
			if kind == klmXTSEnc {
				b.Encrypt(x[:], x[:])
			} else {
				b.Decrypt(x[:], x[:])
			}
			for j := range x {
				out[16*i+j] = x[j] ^ t[j]
			}
			kerneltest.XTSDouble(&t)
		}
		st2 = t
	}
	return out, st2, aux
}

// klmState returns a random initial state; for XTS a sector number
// (little-endian in bytes 0-7, as x/crypto/xts and dm-crypt plain64).
func klmState(t testing.TB, kind klmKind) (st [16]byte, sector uint64) {
	copy(st[:], klRand(t, 16))
	if kind.xts() {
		sector = binary.LittleEndian.Uint64(st[:8])
		clear(st[8:])
	}
	return st, sector
}

// klmXTSWant is the x/crypto/xts result for whole blocks (n > 0).
func klmXTSWant(t testing.TB, kind klmKind, k *klmKeys, src []byte, sector uint64) []byte {
	c, err := xts.NewCipher(aes.NewCipher, append(bytes.Clone(k.key), k.tkey...))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(src))
	if kind == klmXTSEnc {
		c.Encrypt(out, src, sector)
	} else {
		c.Decrypt(out, src, sector)
	}
	return out
}

// klmCase names one kernel x key size x {wide, single}.
type klmCase struct {
	kind   klmKind
	keyLen int
	wide   bool
}

func (c klmCase) String() string {
	form := "single"
	if c.wide {
		form = "wide"
	}
	return fmt.Sprintf("%v/AES-%d/%s", c.kind, c.keyLen*8, form)
}

func klmCases() []klmCase {
	var cs []klmCase
	for kind := klmKind(0); kind < klmKinds; kind++ {
		for _, keyLen := range []int{16, 32} {
			for _, wide := range []bool{false, true} {
				cs = append(cs, klmCase{kind, keyLen, wide})
			}
		}
	}
	return cs
}

// TestModeKLKernels: every kernel x key size x {wide, single} x block
// counts 0..40 and 1000, out of place (sentinel bytes after dst) and in
// place, against crypto/aes + crypto/cipher references (and x/crypto/xts
// for XTS), including the state after the call.
func TestModeKLKernels(t *testing.T) {
	for _, c := range klmCases() {
		t.Run(c.String(), func(t *testing.T) {
			klmRequire(t, c.wide)
			k := klmNewKeys(t, c.keyLen, 0, 0)
			flags := klmFlags(c.keyLen, c.wide)
			for _, n := range klBlockCounts() {
				src := klRand(t, 16*n)
				st, sector := klmState(t, c.kind)
				want, wantSt, wantAux := klmRef(t, c.kind, k, src, st, true)
				if c.kind.xts() && n > 0 {
					if x := klmXTSWant(t, c.kind, k, src, sector); !bytes.Equal(x, want) {
						t.Fatalf("%d blocks: reference differs from x/crypto/xts", n)
					}
				}
				srcCopy := bytes.Clone(src)
				buf := klFilled(16*n + 48)
				gotSt := st
				var aux [16]byte
				if !klmRun(c.kind, k, buf[:16*n], src, &gotSt, &aux, flags, true) {
					t.Fatalf("%d blocks: returned false", n)
				}
				if !bytes.Equal(buf[:16*n], want) {
					t.Fatalf("%d blocks: result differs from the reference\n got %x\nwant %x", n, buf[:16*n], want)
				}
				klCheckTail(t, fmt.Sprintf("%d blocks", n), buf[16*n:])
				if !bytes.Equal(src, srcCopy) {
					t.Fatalf("%d blocks: src modified", n)
				}
				if gotSt != wantSt {
					t.Fatalf("%d blocks: state after the call %x, want %x", n, gotSt, wantSt)
				}
				if aux != wantAux {
					t.Fatalf("%d blocks: tag mask %x, want %x", n, aux, wantAux)
				}
				if n > 40 {
					continue // in place for the small counts only (emulated time)
				}
				gotSt = st
				aux = [16]byte{}
				if !klmRun(c.kind, k, src, src, &gotSt, &aux, flags, true) {
					t.Fatalf("%d blocks in place: returned false", n)
				}
				if !bytes.Equal(src, want) || gotSt != wantSt || aux != wantAux {
					t.Fatalf("%d blocks in place: result or state differs from the reference", n)
				}
			}
		})
	}
}

// TestModeKLUnaligned: src and dst at odd addresses, and in place at an
// odd address (WIDE and single, 11 blocks).
func TestModeKLUnaligned(t *testing.T) {
	klmRequire(t, true)
	for _, c := range klmCases() {
		k := klmNewKeys(t, c.keyLen, 0, 0)
		const n = 11
		srcBuf := klRand(t, 16*n+3)
		src := srcBuf[3:]
		st, _ := klmState(t, c.kind)
		want, wantSt, _ := klmRef(t, c.kind, k, src, st, true)
		dstBuf := klFilled(16*n + 17)
		got := st
		var aux [16]byte
		if !klmRun(c.kind, k, dstBuf[1:1+16*n], src, &got, &aux, klmFlags(c.keyLen, c.wide), true) ||
			!bytes.Equal(dstBuf[1:1+16*n], want) || got != wantSt {
			t.Errorf("%v: unaligned: wrong result", c)
		}
		if dstBuf[0] != klSentinel {
			t.Errorf("%v: byte before dst written", c)
		}
		klCheckTail(t, c.String(), dstBuf[1+16*n:])
		got = st
		if !klmRun(c.kind, k, src, src, &got, &aux, klmFlags(c.keyLen, c.wide), true) || !bytes.Equal(src, want) {
			t.Errorf("%v: unaligned in place: wrong result", c)
		}
	}
}

// TestModeKLChain: two consecutive calls (the state passed on; XTS's second
// call with hTweak == nil, GCM continued with KLCTR inc32 from the state it
// would have reached) equal one call over the whole input.
func TestModeKLChain(t *testing.T) {
	klmRequire(t, true)
	for _, c := range klmCases() {
		k := klmNewKeys(t, c.keyLen, 0, 0)
		flags := klmFlags(c.keyLen, c.wide)
		for _, split := range [][2]int{{11, 18}, {8, 13}, {0, 5}, {3, 0}, {16, 16}} {
			n := split[0] + split[1]
			src := klRand(t, 16*n)
			st, _ := klmState(t, c.kind)
			want, wantSt, wantAux := klmRef(t, c.kind, k, src, st, true)
			dst := make([]byte, 16*n)
			a, b := 16*split[0], 16*n
			got := st
			var aux [16]byte
			ok := klmRun(c.kind, k, dst[:a], src[:a], &got, &aux, flags, true)
			if c.kind == klmGCM {
				// The counter after split[0] blocks: inc32(j0) + split[0].
				ctr := st
				for i := 0; i <= split[0]; i++ {
					klmInc32(&ctr)
				}
				ok = ok && KLCTR(k.h, dst[a:b], src[a:b], &ctr, flags|kernel.ModeInc32)
			} else {
				ok = ok && klmRun(c.kind, k, dst[a:b], src[a:b], &got, &aux, flags, false)
			}
			if !ok {
				t.Errorf("%v split %v: returned false", c, split)
				continue
			}
			if !bytes.Equal(dst, want) || got != wantSt || aux != wantAux {
				t.Errorf("%v split %v: two calls differ from one", c, split)
			}
		}
	}
}

// TestModeKLWrap: counter wrap cases. Full-increment CTR with the low 64
// bits about to wrap (carry into the high half) and the whole 128 bits
// about to wrap, against cipher.NewCTR; inc32 with the low 32 bits about to
// wrap (the bits above must not change) for CTR and GCMCTR.
func TestModeKLWrap(t *testing.T) {
	klmRequire(t, true)
	hex16 := func(s string) (b [16]byte) {
		for i := range b {
			fmt.Sscanf(s[2*i:2*i+2], "%02x", &b[i])
		}
		return b
	}
	for _, tc := range []struct {
		kind klmKind
		st   string
	}{
		{klmCTR, "0123456789abcdeffffffffffffffffd"},
		{klmCTR, "00000000000000fffffffffffffffff0"},
		{klmCTR, "fffffffffffffffffffffffffffffffe"},
		{klmCTR, "0123456789abcdef01234567fffffffe"},
		{klmCTR32, "0123456789abcdeffffffffffffffffd"},
		{klmCTR32, "fffffffffffffffffffffffffffffff0"},
		{klmGCM, "0123456789abcdefffffffffffffffff"},
		{klmGCM, "0123456789abcdef01234567fffffff9"},
	} {
		st := hex16(tc.st)
		for _, keyLen := range []int{16, 32} {
			for _, wide := range []bool{false, true} {
				c := klmCase{tc.kind, keyLen, wide}
				k := klmNewKeys(t, keyLen, 0, 0)
				src := klRand(t, 16*21)
				want, wantSt, wantAux := klmRef(t, tc.kind, k, src, st, false)
				if tc.kind == klmCTR {
					b := klmBlock(t, k.key)
					w2 := make([]byte, len(src))
					cipher.NewCTR(b, st[:]).XORKeyStream(w2, src)
					if !bytes.Equal(w2, want) {
						t.Fatal("reference differs from cipher.NewCTR")
					}
				}
				dst := make([]byte, len(src))
				got := st
				var aux [16]byte
				if !klmRun(tc.kind, k, dst, src, &got, &aux, klmFlags(keyLen, wide), false) {
					t.Errorf("%v from %s: returned false", c, tc.st)
					continue
				}
				if !bytes.Equal(dst, want) || got != wantSt || aux != wantAux {
					t.Errorf("%v from %s: wrong result or state (state %x, want %x)", c, tc.st, got, wantSt)
				}
			}
		}
	}
}

// klmExpect runs the kernel on 16*n fresh bytes and checks either the
// reference result (ok) or false with nothing written: dst all sentinel,
// state and tag mask untouched.
func klmExpect(t *testing.T, what string, c klmCase, k *klmKeys, n int, wantOK bool) {
	t.Helper()
	src := klRand(t, 16*n)
	st, _ := klmState(t, c.kind)
	buf := klFilled(16*n + 16)
	got := st
	aux := [16]byte(klFilled(16))
	ok := klmRun(c.kind, k, buf[:16*n], src, &got, &aux, klmFlags(c.keyLen, c.wide), true)
	if ok != wantOK {
		t.Errorf("%s: %v %d blocks: returned %v, want %v", what, c, n, ok, wantOK)
		return
	}
	if !ok {
		klCheckTail(t, fmt.Sprintf("%s: %v %d blocks rejected", what, c, n), buf)
		if got != st {
			t.Errorf("%s: %v: state changed on false", what, c)
		}
		if c.kind == klmGCM {
			klCheckTail(t, what+": tag mask", aux[:])
		}
		return
	}
	want, wantSt, _ := klmRef(t, c.kind, k, src, st, true)
	if !bytes.Equal(buf[:16*n], want) || got != wantSt {
		t.Errorf("%s: %v %d blocks: wrong result", what, c, n)
	}
}

// TestModeKLRestrictions: a NoEncrypt data handle makes every encrypting
// kernel (CTR, CBC encrypt, XTS encrypt, GCMCTR) return false with nothing
// written and still works for CBC and XTS decryption; a NoDecrypt data
// handle the other way round; a NoDecrypt tweak handle works for XTS in
// both directions (the tweak is always encrypted); a NoEncrypt tweak handle
// makes XTS fail before any data block.
func TestModeKLRestrictions(t *testing.T) {
	klmRequire(t, true)
	supported := klRestrictionsSupported()
	if supported&6 != 6 {
		t.Skipf("CPUID.19H:EAX = %#x: no-encrypt / no-decrypt restrictions not supported", supported)
	}
	for _, c := range klmCases() {
		for _, n := range []int{3, 11} {
			// data handle restriction, tweak handle restriction
			for _, r := range [][2]uint32{{2, 0}, {4, 0}, {0, 4}, {0, 2}, {2, 4}} {
				if !c.kind.xts() && r[1] != 0 {
					continue
				}
				k := klmNewKeys(t, c.keyLen, r[0], r[1])
				wantOK := !(r[0] == 2 && c.kind.encrypts() || r[0] == 4 && !c.kind.encrypts() ||
					c.kind.xts() && r[1] == 2)
				klmExpect(t, fmt.Sprintf("restrictions data %d tweak %d", r[0], r[1]), c, k, n, wantOK)
			}
		}
	}
}

// TestModeKLTamper: a flipped bit in the data handle (or the XTS tweak
// handle) and a key size that does not match kernel.ModeKey256 make every kernel
// return false with nothing written.
func TestModeKLTamper(t *testing.T) {
	klmRequire(t, true)
	for _, c := range klmCases() {
		for _, byteIdx := range []int{1, 3, 16, 40} {
			k := klmNewKeys(t, c.keyLen, 0, 0)
			k.h[byteIdx] ^= 1
			klmExpect(t, fmt.Sprintf("data handle byte %d flipped", byteIdx), c, k, 11, false)
			if c.kind.xts() {
				k := klmNewKeys(t, c.keyLen, 0, 0)
				k.ht[byteIdx] ^= 1
				klmExpect(t, fmt.Sprintf("tweak handle byte %d flipped", byteIdx), c, k, 11, false)
			}
		}
		// Key size mismatch: a handle of the other size.
		other := 48 - c.keyLen
		k := klmNewKeys(t, c.keyLen, 0, 0)
		k.h = klHandle(t, klRand(t, other), 0)
		klmExpect(t, "data handle of the other key size", c, k, 11, false)
		if c.kind.xts() {
			k := klmNewKeys(t, c.keyLen, 0, 0)
			k.ht = klHandle(t, klRand(t, other), 0)
			klmExpect(t, "tweak handle of the other key size", c, k, 11, false)
		}
	}
}

// klmRegsCall runs the kernel through the klModeRegs probe.
func klmRegsCall(tb testing.TB, c klmCase, k *klmKeys, dst, src []byte, st, aux *[16]byte, regs *[16][16]byte) bool {
	ptr := word[[64]byte]
	flags := uint64(klmFlags(c.keyLen, c.wide))
	sl := sliceWords
	var w []uint64
	var fn, ret int
	switch c.kind {
	case klmCTR, klmCTR32, klmCBCEnc, klmCBCDec:
		if c.kind == klmCTR32 {
			flags |= kernel.ModeInc32
		}
		fn = map[klmKind]int{klmCTR: 0, klmCTR32: 0, klmCBCEnc: 1, klmCBCDec: 2}[c.kind]
		w = append(append(append([]uint64{ptr(k.h)}, sl(dst)...), sl(src)...), word(st), flags)
		ret = 9
	case klmXTSEnc, klmXTSDec:
		if c.kind == klmXTSDec {
			flags |= kernel.ModeDecrypt
		}
		fn = 3
		w = append(append(append([]uint64{ptr(k.h), ptr(k.ht)}, sl(dst)...), sl(src)...), word(st), flags)
		ret = 10
	case klmGCM:
		fn = 4
		w = append(append(append([]uint64{ptr(k.h)}, sl(dst)...), sl(src)...),
			word(st), word(aux), flags)
		ret = 10
	}
	var a [11]uint64
	copy(a[:], w)
	klModeRegs(tb, fn, &a, regs)
	runtime.KeepAlive(k)
	runtime.KeepAlive(dst)
	runtime.KeepAlive(src)
	runtime.KeepAlive(st)
	runtime.KeepAlive(aux)
	return a[ret]&0xFF != 0
}

// klmUsedRegs is the set of vector registers each kernel uses (and must
// zero); the others keep the probe's sentinel.
func klmUsedRegs(kind klmKind) (lo, hi int, x15 bool) {
	switch kind {
	case klmCBCEnc:
		return 0, 1, false
	case klmCBCDec:
		return 0, 10, false
	case klmXTSEnc, klmXTSDec:
		return 0, 15, true
	}
	return 0, 8, true // CTR, GCMCTR
}

// TestModeKLRegsCleared: after every kernel, on success (also for zero
// blocks) and on a rejected handle, the vector registers it uses are zero
// and the others untouched.
func TestModeKLRegsCleared(t *testing.T) {
	klmRequire(t, true)
	sentinel := [16]byte(bytes.Repeat([]byte{0xA5}, 16))
	for _, c := range klmCases() {
		good := klmNewKeys(t, c.keyLen, 0, 0)
		bad := klmNewKeys(t, c.keyLen, 0, 0)
		bad.h[20] ^= 4
		for _, tc := range []struct {
			name string
			k    *klmKeys
			n    int
			ok   bool
		}{{"ok", good, 11, true}, {"ok 0 blocks", good, 0, true}, {"rejected", bad, 11, false}} {
			src := klRand(t, 16*tc.n)
			dst := make([]byte, len(src))
			st, _ := klmState(t, c.kind)
			got := st
			var aux [16]byte
			var regs [16][16]byte
			ok := klmRegsCall(t, c, tc.k, dst, src, &got, &aux, &regs)
			if ok != tc.ok {
				t.Errorf("%v %s: returned %v", c, tc.name, ok)
			}
			if ok {
				want, wantSt, wantAux := klmRef(t, c.kind, tc.k, src, st, true)
				if !bytes.Equal(dst, want) || got != wantSt || aux != wantAux {
					t.Errorf("%v %s: wrong result through the probe", c, tc.name)
				}
			}
			lo, hi, x15 := klmUsedRegs(c.kind)
			for r := range regs {
				want := sentinel
				if r >= lo && r <= hi || r == 15 && x15 {
					want = [16]byte{}
				}
				if regs[r] != want {
					t.Errorf("%v %s: X%d = %x after return, want %x", c, tc.name, r, regs[r], want)
				}
			}
		}
	}
}

// TestModeKLNoWide runs every kernel without kernel.ModeWide: under klemu's
// no-wide profile (AESKLE without WIDE_KL) a WIDE opcode would be #UD.
func TestModeKLNoWide(t *testing.T) {
	klmRequire(t, false)
	for _, c := range klmCases() {
		if c.wide {
			continue
		}
		k := klmNewKeys(t, c.keyLen, 0, 0)
		klmExpect(t, "no kernel.ModeWide", c, k, 21, true)
	}
}

// klmParseCase parses "KIND:KEYBITS:wide|single" (the KLMODES_INNER
// encoding of a klmCase; KIND is the index in klmNames).
func klmParseCase(t *testing.T, s string) klmCase {
	var kind, bits int
	var form string
	if n, err := fmt.Sscanf(strings.ReplaceAll(s, ":", " "), "%d %d %s", &kind, &bits, &form); n != 3 || err != nil ||
		kind < 0 || kind >= int(klmKinds) || bits != 128 && bits != 256 {
		t.Fatalf("bad case %q in %s", s, klmInnerEnv)
	}
	return klmCase{klmKind(kind), bits / 8, form == "wide"}
}

func (c klmCase) env() string {
	form := "single"
	if c.wide {
		form = "wide"
	}
	return fmt.Sprintf("%d:%d:%s", c.kind, c.keyLen*8, form)
}
