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
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"github.com/go-keylocker/keylocker/internal/kernel"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
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
func smRun(k smKernel, region *Region, h, ht *Handle, dst, src []byte, st *smState, path int) bool {
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
func smKeys(t testing.TB, region *Region, n int) (key, tkey []byte, h, ht *Handle) {
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

// smExpectReject runs k and checks that it returns false, writes nothing
// and leaves the state untouched.
func smExpectReject(t *testing.T, what string, k smKernel, region *Region, h, ht *Handle, path, blocks int) {
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
// sealedModesRegsAfter; it returns the kernel's number (smProbeNames) and
// the offset of the result byte.
func smHookArgs(k smKernel, region *Region, h, ht *Handle, dst, src []byte, st *smState, path int) (int, [12]uint64, int) {
	p := func(x any) uint64 {
		asmtest.Escape(x) // a plain word below: the object must not be on the stack
		switch v := x.(type) {
		case *Region:
			return uint64(uintptr(unsafePointer(v)))
		case *Handle:
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
		asmtest.Escape(b)
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

// TestSealedModesRegsClear calls each kernel through asmtest.CallABI0Z,
// which dumps Z0-Z31 right after it returns, and the stack below, and checks that
// the vector registers are zero and that no key, round key or XTS tweak is
// left in the kernel's stack frame.
func TestSealedModesRegsClear(t *testing.T) {
	sealedRequireAESNI(t)
	if !cpu.X86.HasAVX512F {
		t.Skip("the register dump helper needs AVX-512F")
	}
	region, _ := sealedRegion(t, nil)
	type keySet struct {
		key, tkey  []byte
		h, ht, bad *Handle
		rks        [][16]byte
	}
	var sets []keySet
	for _, n := range []int{16, 24, 32} {
		key, tkey, h, ht := smKeys(t, region, n)
		bad := *h
		bad[20] ^= 1
		sets = append(sets, keySet{key, tkey, h, ht, &bad, append(sealedExpand(key), sealedExpand(tkey)...)})
	}
	// One subtest per kernel: a kernel whose argument frame the probe
	// cannot pass skips (see callZ), the others still run.
	for k := smKernel(0); k < smKernels; k++ {
		t.Run(smNames[k], func(t *testing.T) {
			for _, set := range sets {
				key, tkey, h, ht, rks, n := set.key, set.tkey, set.h, set.ht, set.rks, len(set.key)
				bad := set.bad
				for _, path := range sealedPaths() {
					for _, blocks := range []int{0, 1, 2, 8, 9, 17, 33, 100} {
						for _, hh := range []*Handle{h, bad} {
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
							ok := sealedModesRegsAfter(t, kn, &args, retOff, &out)
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
		})
	}
}
