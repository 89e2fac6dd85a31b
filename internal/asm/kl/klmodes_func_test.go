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

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"

	"github.com/go-keylocker/keylocker/internal/kernel"

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

func (k klmKind) xts() bool { return k == klmXTSEnc || k == klmXTSDec }

// klmKeys holds a data key and an XTS tweak key with their handles.
type klmKeys struct {
	key, tkey []byte
	h, ht     *Handle
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

// klmRegsCall runs the kernel through the klModeRegs probe.
func klmRegsCall(tb testing.TB, c klmCase, k *klmKeys, dst, src []byte, st, aux *[16]byte, regs *[16][16]byte) bool {
	ptr := asmtest.Word[Handle]
	flags := uint64(klmFlags(c.keyLen, c.wide))
	sl := asmtest.SliceWords
	var w []uint64
	var fn, ret int
	switch c.kind {
	case klmCTR, klmCTR32, klmCBCEnc, klmCBCDec:
		if c.kind == klmCTR32 {
			flags |= kernel.ModeInc32
		}
		fn = map[klmKind]int{klmCTR: 0, klmCTR32: 0, klmCBCEnc: 1, klmCBCDec: 2}[c.kind]
		w = append(append(append([]uint64{ptr(k.h)}, sl(dst)...), sl(src)...), asmtest.Word(st), flags)
		ret = 9
	case klmXTSEnc, klmXTSDec:
		if c.kind == klmXTSDec {
			flags |= kernel.ModeDecrypt
		}
		fn = 3
		w = append(append(append([]uint64{ptr(k.h), ptr(k.ht)}, sl(dst)...), sl(src)...), asmtest.Word(st), flags)
		ret = 10
	case klmGCM:
		fn = 4
		w = append(append(append([]uint64{ptr(k.h)}, sl(dst)...), sl(src)...),
			asmtest.Word(st), asmtest.Word(aux), flags)
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
