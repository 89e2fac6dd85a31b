//go:build amd64 && !purego

package asm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"github.com/go-keylocker/keylocker/internal/kernel"

	"golang.org/x/crypto/xts"
	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
)

// Tests of the sealed mode kernels (sealedmodes_amd64.s) against
// crypto/aes, crypto/cipher and golang.org/x/crypto/xts, on every path the
// CPU can run.

// smKernel names one kernel and direction for the table-driven tests.
type smKernel int

const (
	smCTR smKernel = iota
	smCTR32
	smGCM
	smCBCEnc
	smCBCDec
	smXTSEnc
	smXTSDec
	smXTSEncNoTweakKey // XTS with hTweak == nil
	smKernels
)

var smNames = []string{"ctr", "ctr-inc32", "gcmctr", "cbc-enc", "cbc-dec", "xts-enc", "xts-dec", "xts-enc-plain-tweak"}

func (k smKernel) encrypt() bool { return k != smCBCDec && k != smXTSDec }

// smState is the state a kernel reads and updates.
type smState struct {
	s    [16]byte // ctr, iv, tweak, j0
	mask [16]byte // GCM tag mask
}

// smRun runs kernel k with the sealed asm.
func smRun(k smKernel, region *[4096]byte, h, ht *[64]byte, dst, src []byte, st *smState, path int) bool {
	switch k {
	case smCTR:
		return SealedCTR(region, h, dst, src, &st.s, 0, path)
	case smCTR32:
		return SealedCTR(region, h, dst, src, &st.s, kernel.ModeInc32|kernel.ModeKey256|kernel.ModeWide, path)
	case smGCM:
		return SealedGCMCTR(region, h, dst, src, &st.s, &st.mask, 0, path)
	case smCBCEnc:
		return SealedCBCEncrypt(region, h, dst, src, &st.s, 0, path)
	case smCBCDec:
		return SealedCBCDecrypt(region, h, dst, src, &st.s, kernel.ModeDecrypt, path)
	case smXTSEnc:
		return SealedXTS(region, h, ht, dst, src, &st.s, 0, path)
	case smXTSDec:
		return SealedXTS(region, h, ht, dst, src, &st.s, kernel.ModeDecrypt, path)
	case smXTSEncNoTweakKey:
		return SealedXTS(region, h, nil, dst, src, &st.s, 0, path)
	}
	panic("kernel")
}

func smInc(c *[16]byte, inc32 bool) {
	if inc32 {
		binary.BigEndian.PutUint32(c[12:], binary.BigEndian.Uint32(c[12:])+1)
		return
	}
	for i := 15; i >= 0; i-- {
		c[i]++
		if c[i] != 0 {
			return
		}
	}
}

// smRefCTR is CTR with a hand-written increment (inc32 or full).
func smRefCTR(b cipher.Block, dst, src []byte, ctr *[16]byte, inc32 bool) {
	var ks [16]byte
	for i := 0; i+16 <= len(src); i += 16 {
		b.Encrypt(ks[:], ctr[:])
		for j := 0; j < 16; j++ {
			dst[i+j] = src[i+j] ^ ks[j]
		}
		smInc(ctr, inc32)
	}
}

// smRefXTS is XTS with the (already encrypted) tweak t.
func smRefXTS(b cipher.Block, dst, src []byte, t *[16]byte, decrypt bool) {
	var x [16]byte
	for i := 0; i+16 <= len(src); i += 16 {
		for j := range x {
			x[j] = src[i+j] ^ t[j]
		}
		if decrypt {
			b.Decrypt(x[:], x[:])
		} else {
			b.Encrypt(x[:], x[:])
		}
		for j := range x {
			dst[i+j] = x[j] ^ t[j]
		}
		kerneltest.XTSDouble(t)
	}
}

// smRef computes what kernel k must produce from the plain keys (key, and
// tkey for XTS) with the standard library (and x/crypto/xts where the
// tweak is a sector number).
func smRef(t testing.TB, k smKernel, key, tkey []byte, src []byte, st *smState) []byte {
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	n := len(src) / 16 * 16
	out := make([]byte, n)
	src = src[:n]
	switch k {
	case smCTR:
		if n > 0 {
			cipher.NewCTR(b, st.s[:]).XORKeyStream(out, src)
		}
		for i := 0; i < n/16; i++ {
			smInc(&st.s, false)
		}
	case smCTR32:
		smRefCTR(b, out, src, &st.s, true)
	case smGCM:
		b.Encrypt(st.mask[:], st.s[:])
		c := st.s
		smInc(&c, true)
		smRefCTR(b, out, src, &c, true)
	case smCBCEnc:
		if n > 0 {
			cipher.NewCBCEncrypter(b, st.s[:]).CryptBlocks(out, src)
			copy(st.s[:], out[n-16:])
		}
	case smCBCDec:
		if n > 0 {
			cipher.NewCBCDecrypter(b, st.s[:]).CryptBlocks(out, src)
			copy(st.s[:], src[n-16:])
		}
	case smXTSEnc, smXTSDec:
		// x/crypto/xts for the sector-number tweak (low 8 bytes), then
		// the tweak update by the own reference.
		tb, _ := aes.NewCipher(tkey)
		var tw [16]byte
		tb.Encrypt(tw[:], st.s[:])
		if n > 0 && bytes.Equal(st.s[8:], make([]byte, 8)) {
			xc, err := xts.NewCipher(aes.NewCipher, append(append([]byte(nil), key...), tkey...))
			if err != nil {
				t.Fatal(err)
			}
			sector := binary.LittleEndian.Uint64(st.s[:8])
			if k == smXTSDec {
				xc.Decrypt(out, src, sector)
			} else {
				xc.Encrypt(out, src, sector)
			}
			mine := make([]byte, n)
			t2 := tw
			smRefXTS(b, mine, src, &t2, k == smXTSDec)
			if !bytes.Equal(mine, out) {
				t.Fatal("the XTS reference differs from x/crypto/xts")
			}
		}
		smRefXTS(b, out, src, &tw, k == smXTSDec)
		st.s = tw
	case smXTSEncNoTweakKey:
		smRefXTS(b, out, src, &st.s, false)
	}
	return out
}

// smKeys wraps a data key (and a tweak key with NoDecrypt) of n bytes.
func smKeys(t testing.TB, region *[4096]byte, n int) (key, tkey []byte, h, ht *[64]byte) {
	key = sealedRand(n)
	tkey = sealedRand(n)
	return key, tkey, sealedWrap(t, region, key, 0), sealedWrap(t, region, tkey, handle.NoDecrypt)
}

func smRandState(k smKernel) smState {
	var st smState
	copy(st.s[:], sealedRand(16))
	if k == smXTSEnc || k == smXTSDec {
		if mrand.IntN(2) == 0 {
			// A sector number: x/crypto/xts cross-check.
			clear(st.s[8:])
		}
	}
	return st
}

func TestSealedModes(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	saved := *region
	for _, path := range sealedPaths() {
		for _, n := range []int{16, 24, 32} {
			key, tkey, h, ht := smKeys(t, region, n)
			for k := smKernel(0); k < smKernels; k++ {
				for _, blocks := range sealedCounts() {
					name := fmt.Sprintf("%s/AES-%d/%s/%d", sealedPathNames[path], 8*n, smNames[k], blocks)
					src := sealedRand(16*blocks + 16)
					src = src[:16*blocks+mrand.IntN(16)] // a partial tail: ignored
					st0 := smRandState(k)
					wantSt := st0
					want := smRef(t, k, key, tkey, src, &wantSt)
					// Out of place, dst longer: the rest untouched.
					dst := bytes.Repeat([]byte{sealedSentinel}, len(src)+32)
					st := st0
					if !smRun(k, region, h, ht, dst, src, &st, path) {
						t.Fatalf("%s: rejected", name)
					}
					if !bytes.Equal(dst[:16*blocks], want) {
						t.Fatalf("%s: out of place: wrong output", name)
					}
					for i, b := range dst[16*blocks:] {
						if b != sealedSentinel {
							t.Fatalf("%s: dst[%d] written past the blocks", name, 16*blocks+i)
						}
					}
					if st != wantSt {
						t.Fatalf("%s: state %x, want %x", name, st, wantSt)
					}
					// In place.
					buf := append([]byte(nil), src...)
					st = st0
					if !smRun(k, region, h, ht, buf, buf, &st, path) {
						t.Fatalf("%s: in place: rejected", name)
					}
					if !bytes.Equal(buf[:16*blocks], want) || !bytes.Equal(buf[16*blocks:], src[16*blocks:]) {
						t.Fatalf("%s: in place: wrong output", name)
					}
					if st != wantSt {
						t.Fatalf("%s: in place: state %x, want %x", name, st, wantSt)
					}
				}
			}
		}
	}
	if *region != saved {
		t.Error("the region was modified")
	}
}

// TestSealedModesChain: two calls (the second continuing from the state the
// first left) give what one call gives. XTS continues with hTweak == nil.
func TestSealedModesChain(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	for _, path := range sealedPaths() {
		for _, n := range []int{16, 24, 32} {
			_, _, h, ht := smKeys(t, region, n)
			for _, k := range []smKernel{smCTR, smCTR32, smCBCEnc, smCBCDec, smXTSEnc, smXTSDec} {
				for iter := 0; iter < 8; iter++ {
					blocks := mrand.IntN(200)
					split := mrand.IntN(blocks + 1)
					src := sealedRand(16 * blocks)
					st0 := smRandState(k)
					one := make([]byte, len(src))
					st1 := st0
					if !smRun(k, region, h, ht, one, src, &st1, path) {
						t.Fatal("rejected")
					}
					two := make([]byte, len(src))
					st2 := st0
					ok := smRun(k, region, h, ht, two[:16*split], src[:16*split], &st2, path)
					k2 := k
					if k == smXTSEnc {
						k2 = smXTSEncNoTweakKey
					}
					var ok2 bool
					if k == smXTSDec {
						ok2 = SealedXTS(region, h, nil, two[16*split:], src[16*split:], &st2.s, kernel.ModeDecrypt, path)
					} else {
						ok2 = smRun(k2, region, h, ht, two[16*split:], src[16*split:], &st2, path)
					}
					if !ok || !ok2 || !bytes.Equal(one, two) || st1 != st2 {
						t.Fatalf("%s AES-%d %s: %d blocks split at %d: two calls differ from one", sealedPathNames[path], 8*n, smNames[k], blocks, split)
					}
				}
			}
		}
	}
}

// TestSealedModesCounterWrap: counters near the 32-, 64- and 128-bit
// boundaries, full increment vs crypto/cipher.NewCTR, inc32 and GCM vs the
// hand-written reference.
func TestSealedModesCounterWrap(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	key := sealedRand(16)
	h := sealedWrap(t, region, key, 0)
	type start struct{ hi, lo uint64 }
	var starts []start
	for _, d := range []uint64{1, 2, 5, 8, 16, 31, 32, 33, 40} {
		starts = append(starts,
			start{0x0123456789abcdef, 1<<32 - d},
			start{0x0123456789abcdef, 0xfedcba98_00000000 - d},
			start{0x0123456789abcdef, -d},
			start{^uint64(0), -d},
		)
	}
	for _, path := range sealedPaths() {
		for _, s := range starts {
			for _, k := range []smKernel{smCTR, smCTR32, smGCM} {
				for _, blocks := range []int{1, 7, 9, 40, 77} {
					var st0 smState
					binary.BigEndian.PutUint64(st0.s[:8], s.hi)
					binary.BigEndian.PutUint64(st0.s[8:], s.lo)
					src := sealedRand(16 * blocks)
					wantSt := st0
					want := smRef(t, k, key, nil, src, &wantSt)
					dst := make([]byte, len(src))
					st := st0
					if !smRun(k, region, h, nil, dst, src, &st, path) || !bytes.Equal(dst, want) || st != wantSt {
						t.Fatalf("%s %s from %016x%016x, %d blocks: wrong (state %x, want %x)", sealedPathNames[path], smNames[k], s.hi, s.lo, blocks, st, wantSt)
					}
				}
			}
		}
	}
}

// smExpectReject runs k and checks that it returns false, writes nothing
// and leaves the state untouched.
func smExpectReject(t *testing.T, what string, k smKernel, region *[4096]byte, h, ht *[64]byte, path, blocks int) {
	t.Helper()
	src := sealedRand(16 * blocks)
	dst := bytes.Repeat([]byte{sealedSentinel}, 16*blocks)
	st0 := smRandState(k)
	st := st0
	if smRun(k, region, h, ht, dst, src, &st, path) {
		t.Fatalf("%s: accepted", what)
	}
	for i, b := range dst {
		if b != sealedSentinel {
			t.Fatalf("%s: rejected but dst[%d] written", what, i)
		}
	}
	if st != st0 {
		t.Fatalf("%s: rejected but the state changed", what)
	}
}

func TestSealedModesRestrictions(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	paths := sealedPaths()
	for _, n := range []int{16, 24, 32} {
		key := sealedRand(n)
		tkey := sealedRand(n)
		for r := uint32(0); r < 8; r++ {
			h := sealedWrap(t, region, key, r)
			for k := smKernel(0); k < smKernels; k++ {
				path := paths[int(r)%len(paths)]
				// The data handle restricted, the tweak handle not.
				ht := sealedWrap(t, region, tkey, 0)
				enc := k.encrypt()
				forbidden := r&handle.CPL0Only != 0 || enc && r&handle.NoEncrypt != 0 || !enc && r&handle.NoDecrypt != 0
				what := fmt.Sprintf("AES-%d r=%d %s data handle", 8*n, r, smNames[k])
				if forbidden {
					smExpectReject(t, what, k, region, h, ht, path, 9)
				} else {
					src := sealedRand(16 * 9)
					dst := make([]byte, len(src))
					st := smRandState(k)
					wantSt := st
					want := smRef(t, k, key, tkey, src, &wantSt)
					if !smRun(k, region, h, ht, dst, src, &st, path) || !bytes.Equal(dst, want) || st != wantSt {
						t.Fatalf("%s: wrong", what)
					}
				}
				if k != smXTSEnc && k != smXTSDec {
					continue
				}
				// The tweak handle restricted: it is always used to encrypt.
				hd := sealedWrap(t, region, key, 0)
				ht = sealedWrap(t, region, tkey, r)
				what = fmt.Sprintf("AES-%d r=%d %s tweak handle", 8*n, r, smNames[k])
				if r&(handle.CPL0Only|handle.NoEncrypt) != 0 {
					smExpectReject(t, what, k, region, hd, ht, path, 9)
				} else {
					src := sealedRand(16 * 9)
					dst := make([]byte, len(src))
					st := smRandState(k)
					wantSt := st
					want := smRef(t, k, key, tkey, src, &wantSt)
					if !smRun(k, region, hd, ht, dst, src, &st, path) || !bytes.Equal(dst, want) || st != wantSt {
						t.Fatalf("%s: wrong", what)
					}
				}
			}
		}
	}
}

func TestSealedModesTamper(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	paths := sealedPaths()
	for _, n := range []int{16, 24, 32} {
		_, _, h, ht := smKeys(t, region, n)
		size := handle.SizeForKeyType(handle.KeyType(n))
		for bit := 0; bit < 8*size; bit++ {
			path := paths[bit%len(paths)]
			blocks := []int{0, 1, 9, 40, 70}[bit%5]
			k := smKernel(bit % int(smKernels))
			h2 := *h
			h2[bit/8] ^= 1 << (bit % 8)
			smExpectReject(t, fmt.Sprintf("AES-%d bit %d %s %s", 8*n, bit, sealedPathNames[path], smNames[k]), k, region, &h2, ht, path, blocks)
			// The tweak handle of XTS.
			kx := []smKernel{smXTSEnc, smXTSDec}[bit%2]
			ht2 := *ht
			ht2[bit/8] ^= 1 << (bit % 8)
			smExpectReject(t, fmt.Sprintf("AES-%d tweak handle bit %d %s %s", 8*n, bit, sealedPathNames[path], smNames[kx]), kx, region, h, &ht2, path, blocks)
		}
		// Another wrapping key (a reboot).
		other, _ := sealedRegion(t, nil)
		for _, path := range paths {
			for k := smKernel(0); k < smKernels; k++ {
				smExpectReject(t, fmt.Sprintf("AES-%d foreign IWKey %s %s", 8*n, sealedPathNames[path], smNames[k]), k, other, h, ht, path, 33)
			}
			// Only the tweak handle foreign.
			_, _, _, htOther := smKeys(t, other, n)
			smExpectReject(t, fmt.Sprintf("AES-%d foreign tweak handle %s", 8*n, sealedPathNames[path]), smXTSEnc, region, h, htOther, path, 33)
		}
	}
}

func TestSealedModesShortDst(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	_, _, h, ht := smKeys(t, region, 16)
	for k := smKernel(0); k < smKernels; k++ {
		src := sealedRand(48)
		dst := bytes.Repeat([]byte{sealedSentinel}, 47)
		st0 := smRandState(k)
		st := st0
		if smRun(k, region, h, ht, dst, src, &st, PathAESNI) {
			t.Fatalf("%s: len(dst) < len(src) accepted", smNames[k])
		}
		if !bytes.Equal(dst, bytes.Repeat([]byte{sealedSentinel}, 47)) || st != st0 {
			t.Fatalf("%s: dst or state written", smNames[k])
		}
	}
}

// TestSealedModesUnknownPath: a path value other than 0-2 runs the AES-NI path.
func TestSealedModesUnknownPath(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	key, tkey, h, ht := smKeys(t, region, 24)
	for _, path := range []int{-1, 3, 1 << 40} {
		for k := smKernel(0); k < smKernels; k++ {
			src := sealedRand(16 * 19)
			dst := make([]byte, len(src))
			st := smRandState(k)
			wantSt := st
			want := smRef(t, k, key, tkey, src, &wantSt)
			if !smRun(k, region, h, ht, dst, src, &st, path) || !bytes.Equal(dst, want) || st != wantSt {
				t.Fatalf("path %d %s: wrong", path, smNames[k])
			}
		}
	}
}

// smHookArgs lays out the argument words of kernel k for
// sealedModesRegsAfter; it returns the hook's kernel number and the offset of
// the result byte.
func smHookArgs(k smKernel, region *[4096]byte, h, ht *[64]byte, dst, src []byte, st *smState, path int) (int, [12]uint64, int) {
	p := func(x any) uint64 {
		switch v := x.(type) {
		case *[4096]byte:
			return uint64(uintptr(unsafePointer(v)))
		case *[64]byte:
			return uint64(uintptr(unsafePointer(v)))
		case *[16]byte:
			return uint64(uintptr(unsafePointer(v)))
		}
		panic("type")
	}
	sl := func(b []byte) (uint64, uint64, uint64) {
		if len(b) == 0 {
			b = make([]byte, 0, 1)
		}
		return uint64(uintptr(unsafePointer(&b[:1][0]))), uint64(len(b)), uint64(cap(b))
	}
	var a [12]uint64
	d0, d1, d2 := sl(dst)
	s0, s1, s2 := sl(src)
	switch k {
	case smCTR, smCTR32, smGCM:
		flags := 0
		if k == smCTR32 {
			flags = kernel.ModeInc32
		}
		var mask uint64
		if k == smGCM {
			mask = p(&st.mask)
		}
		a = [12]uint64{p(region), p(h), d0, d1, d2, s0, s1, s2, p(&st.s), mask, uint64(flags), uint64(path)}
		return 0, a, 96
	case smCBCEnc, smCBCDec:
		a = [12]uint64{p(region), p(h), d0, d1, d2, s0, s1, s2, p(&st.s), 0, uint64(path)}
		if k == smCBCEnc {
			return 1, a, 88
		}
		return 2, a, 88
	default:
		flags := 0
		if k == smXTSDec {
			flags = kernel.ModeDecrypt
		}
		var tw uint64
		if k != smXTSEncNoTweakKey {
			tw = p(ht)
		}
		a = [12]uint64{p(region), p(h), tw, d0, d1, d2, s0, s1, s2, p(&st.s), uint64(flags), uint64(path)}
		return 3, a, 96
	}
}

// TestSealedModesRegsClear calls each kernel from an assembly helper that
// dumps Z0-Z31 right after it returns, and the stack below, and checks that
// the vector registers are zero and that no key, round key or XTS tweak is
// left in the kernel's stack frame.
func TestSealedModesRegsClear(t *testing.T) {
	sealedRequireAESNI(t)
	if !cpu.X86.HasAVX512F {
		t.Skip("the register dump helper needs AVX-512F")
	}
	region, _ := sealedRegion(t, nil)
	for _, n := range []int{16, 24, 32} {
		key, tkey, h, ht := smKeys(t, region, n)
		rks := append(sealedExpand(key), sealedExpand(tkey)...)
		bad := *h
		bad[20] ^= 1
		for _, path := range sealedPaths() {
			for k := smKernel(0); k < smKernels; k++ {
				for _, blocks := range []int{0, 1, 2, 8, 9, 17, 33, 100} {
					for _, hh := range []*[64]byte{h, &bad} {
						var out [48][64]byte
						for i := range out {
							for j := range out[i] {
								out[i][j] = sealedSentinel
							}
						}
						src := sealedRand(16 * blocks)
						dst := make([]byte, len(src))
						st := smRandState(k)
						st0 := st
						what := fmt.Sprintf("AES-%d %s %s %d blocks, good handle %v", 8*n, sealedPathNames[path], smNames[k], blocks, hh == h)
						kn, args, retOff := smHookArgs(k, region, hh, ht, dst, src, &st, path)
						ok := sealedModesRegsAfter(kn, &args, retOff, &out)
						if ok != (hh == h) {
							t.Fatalf("%s: returned %v", what, ok)
						}
						// SSE code leaves the upper lanes as the caller had
						// them: X0-X15 must be zero; after the ymm path
						// (VZEROALL) all of Z0-Z15, after the zmm path Z0-Z31.
						regs, width := 16, 16
						if ok && blocks > 0 && path == PathVAES256 && k != smCBCEnc {
							width = 64
						}
						if ok && blocks > 0 && path == PathVAES512 {
							regs, width = 32, 64
						}
						for r := 0; r < regs; r++ {
							if !bytes.Equal(out[r][:width], make([]byte, width)) {
								t.Fatalf("%s: Z%d not clear after return: %x", what, r, out[r])
							}
						}
						flat := make([]byte, 0, 1024)
						for i := range out[32:] {
							flat = append(flat, out[32+i][:]...)
						}
						for i, rk := range rks {
							if bytes.Contains(flat, rk[:8]) {
								t.Fatalf("%s: round key %d left on the stack", what, i)
							}
						}
						if bytes.Contains(flat, key[n-8:]) || bytes.Contains(flat, tkey[n-8:]) {
							t.Fatalf("%s: key left on the stack", what)
						}
						if k == smXTSEnc || k == smXTSDec {
							tb, _ := aes.NewCipher(tkey)
							var tw [16]byte
							tb.Encrypt(tw[:], st0.s[:])
							if bytes.Contains(flat, tw[:8]) {
								t.Fatalf("%s: XTS tweak left on the stack", what)
							}
							if ok && blocks > 1 {
								kerneltest.XTSDouble(&tw)
								if bytes.Contains(flat, tw[:8]) {
									t.Fatalf("%s: XTS tweak 1 left on the stack", what)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestSealedModesRandom: random kernel, key size, path, length, alignment,
// in place or not, against the references.
func TestSealedModesRandom(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	paths := sealedPaths()
	type keys struct {
		key, tkey []byte
		h, ht     *[64]byte
	}
	var ks []keys
	for _, n := range []int{16, 24, 32} {
		k, tk, h, ht := smKeys(t, region, n)
		ks = append(ks, keys{k, tk, h, ht})
	}
	for iter := 0; iter < 400; iter++ {
		k := smKernel(mrand.IntN(int(smKernels)))
		kk := ks[mrand.IntN(len(ks))]
		path := paths[mrand.IntN(len(paths))]
		blocks := mrand.IntN(300)
		off := mrand.IntN(16)
		src := sealedRand(16*blocks + off)[off:]
		st0 := smRandState(k)
		wantSt := st0
		want := smRef(t, k, kk.key, kk.tkey, src, &wantSt)
		st := st0
		var got []byte
		if mrand.IntN(2) == 0 {
			got = append([]byte(nil), src...)
			if !smRun(k, region, kk.h, kk.ht, got, got, &st, path) {
				t.Fatal("rejected")
			}
		} else {
			got = make([]byte, len(src)+5)[5:]
			if !smRun(k, region, kk.h, kk.ht, got, src, &st, path) {
				t.Fatal("rejected")
			}
		}
		if !bytes.Equal(got, want) || st != wantSt {
			t.Fatalf("%s %s AES-%d %d blocks: wrong", smNames[k], sealedPathNames[path], 8*len(kk.key), blocks)
		}
	}
}
