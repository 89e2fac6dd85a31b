//go:build amd64 && !purego

package sealed

import (
	"bytes"
	"crypto/aes"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
	"github.com/go-keylocker/keylocker/internal/asm/ghash"
	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// The fused GCM kernel runs on the zmm path only.
func gcmRequireZmm(t *testing.T) {
	t.Helper()
	sealedRequireAESNI(t)
	x := cpu.X86
	if !(x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512VPCLMULQDQ && sealedHasVAES()) {
		t.Skip("SealedGCM runs on the zmm path only: this CPU lacks AVX-512 (F, BW, VL), VAES or VPCLMULQDQ")
	}
}

// gcmRef computes what SealedGCM must produce: the CTR output from
// inc32(j0), E(j0) and the GHASH state after acc0 and the ciphertext (with
// the xmm GHASH loop, another code path).
func gcmRef(key, src []byte, j0, acc0 [16]byte, hk *[16]byte, decrypt bool) (out []byte, mask, acc [16]byte) {
	b, _ := aes.NewCipher(key)
	b.Encrypt(mask[:], j0[:])
	out = make([]byte, len(src))
	ctr := j0
	var ks [16]byte
	for i := 0; i < len(src); i += 16 {
		binary.BigEndian.PutUint32(ctr[12:], binary.BigEndian.Uint32(ctr[12:])+1)
		b.Encrypt(ks[:], ctr[:])
		for j := range 16 {
			out[i+j] = src[i+j] ^ ks[j]
		}
	}
	var t ghash.GHASHTable
	ghash.GHASHInit(hk, &t, kernel.PathAESNI)
	acc = acc0
	if decrypt {
		ghash.GHASHUpdate(&t, &acc, src)
	} else {
		ghash.GHASHUpdate(&t, &acc, out)
	}
	return
}

// TestSealedGCM checks SealedGCM against crypto/aes and the xmm GHASH for
// every key size, both directions, 1-3 batches, separate and in place,
// with the counter's low word about to wrap (inc32 wraps mod 2^32).
func TestSealedGCM(t *testing.T) {
	gcmRequireZmm(t)
	region, _ := sealedRegion(t, nil)
	for _, n := range []int{16, 24, 32} {
		key, _, h, _ := smKeys(t, region, n)
		var hk [16]byte
		b, _ := aes.NewCipher(key)
		b.Encrypt(hk[:], hk[:])
		var tbl GHASHTable
		ghash.GHASHInit(&hk, &tbl, PathVAES512)
		for _, batches := range []int{1, 2, 3} {
			for _, flags := range []int{0, kernel.ModeDecrypt} {
				for _, inPlace := range []bool{false, true} {
					for _, wrap := range []bool{false, true} {
						what := fmt.Sprintf("AES-%d %d batches flags %d in place %v wrap %v", 8*n, batches, flags, inPlace, wrap)
						src := sealedRand(batches * GCMBatch)
						var j0, acc0 [16]byte
						copy(j0[:], sealedRand(16))
						copy(acc0[:], sealedRand(16))
						if wrap {
							binary.BigEndian.PutUint32(j0[12:], 0xffffffff-5)
						}
						want, wantMask, wantAcc := gcmRef(key, src, j0, acc0, &hk, flags != 0)
						dst := make([]byte, len(src)+1)[1:] // odd address
						if inPlace {
							dst = src
						}
						j, acc := j0, acc0
						var mask [16]byte
						if !SealedGCM(region, h, dst, src, &j, &mask, &tbl, &acc, flags, PathVAES512) {
							t.Fatalf("%s: refused", what)
						}
						if !bytes.Equal(dst, want) {
							t.Fatalf("%s: output differs", what)
						}
						if mask != wantMask || acc != wantAcc || j != j0 {
							t.Fatalf("%s: tag mask %v, GHASH %v, j0 kept %v", what, mask == wantMask, acc == wantAcc, j == j0)
						}
					}
				}
			}
		}
	}
}

// TestSealedGCMRejects: a changed handle, a no-encrypt handle, a short dst
// or another path: false, nothing written, *tagMask and *acc untouched;
// SealedGCM panics on a length that is not whole batches.
func TestSealedGCMRejects(t *testing.T) {
	gcmRequireZmm(t)
	region, _ := sealedRegion(t, nil)
	key := sealedRand(16)
	good := sealedWrap(t, region, key, 0)
	bad := *good
	bad[40] ^= 1
	noEnc := sealedWrap(t, region, key, handle.NoEncrypt)
	var tbl GHASHTable
	ghash.GHASHInit(new([16]byte), &tbl, PathVAES512)
	src := sealedRand(2 * GCMBatch)
	for _, c := range []struct {
		what string
		h    *Handle
		dst  int
	}{{"changed handle", &bad, len(src)}, {"no-encrypt handle", noEnc, len(src)}, {"short dst", good, len(src) - 16}} {
		dst := bytes.Repeat([]byte{sealedSentinel}, c.dst)
		var j0, mask, acc [16]byte
		mask[0], acc[0] = 1, 2
		for _, flags := range []int{0, kernel.ModeDecrypt} {
			if sealedGCM(region, c.h, dst, src, &j0, &mask, &tbl, &acc, flags, PathVAES512) {
				t.Fatalf("%s: accepted", c.what)
			}
			if !bytes.Equal(dst, bytes.Repeat([]byte{sealedSentinel}, c.dst)) || mask != [16]byte{1} || acc != [16]byte{2} {
				t.Fatalf("%s: refused but wrote", c.what)
			}
		}
	}
	dst := make([]byte, len(src))
	var j0, mask, acc [16]byte
	for _, path := range []int{PathAESNI, PathVAES256, 7} {
		if sealedGCM(region, good, dst, src, &j0, &mask, &tbl, &acc, 0, path) {
			t.Fatalf("path %d: accepted", path)
		}
	}
	for _, n := range []int{0, 16, GCMBatch + 16} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SealedGCM of %d bytes did not panic", n)
				}
			}()
			SealedGCM(region, good, dst, src[:n], &j0, &mask, &tbl, &acc, 0, PathVAES512)
		}()
	}
}

// TestSealedGCMRegsClear: after sealedGCM, for every key size, direction
// and with a good or a changed handle, Z0-Z31 are zero and neither the key
// nor a round key is left in the stack below the caller.
func TestSealedGCMRegsClear(t *testing.T) {
	gcmRequireZmm(t)
	asmtest.Escape(sealedGCM)
	region, _ := sealedRegion(t, nil)
	var tbl GHASHTable
	ghash.GHASHInit(new([16]byte), &tbl, PathVAES512)
	for _, n := range []int{16, 24, 32} {
		key, _, h, _ := smKeys(t, region, n)
		bad := *h
		bad[20] ^= 1
		rks := sealedExpand(key)
		for _, flags := range []int{0, kernel.ModeDecrypt} {
			for _, hh := range []*Handle{h, &bad} {
				what := fmt.Sprintf("AES-%d flags %d good %v", 8*n, flags, hh == h)
				src := sealedRand(2 * GCMBatch)
				dst := make([]byte, len(src))
				var j0, mask, acc [16]byte
				var out [48][64]byte
				w := append(append([]uint64{asmtest.Word(region), asmtest.Word(hh)}, asmtest.SliceWords(dst)...), asmtest.SliceWords(src)...)
				w = append(w, asmtest.Word(&j0), asmtest.Word(&mask), asmtest.Word(&tbl), asmtest.Word(&acc), uint64(flags), uint64(PathVAES512))
				f := callZ(t, asmtest.CallABI0Z, "sealedGCM", w, len(w)+1, &out)
				runtime.KeepAlive(region)
				runtime.KeepAlive(hh)
				runtime.KeepAlive(dst)
				runtime.KeepAlive(src)
				if ok := f[len(w)]&0xFF != 0; ok != (hh == h) {
					t.Fatalf("%s: returned %v", what, ok)
				}
				for r := 0; r < 32; r++ {
					if !bytes.Equal(out[r][:], make([]byte, 64)) && (hh == h || r < 16) {
						t.Fatalf("%s: Z%d not clear after return: %x", what, r, out[r])
					}
				}
				var flat []byte
				for i := range out[32:] {
					flat = append(flat, out[32+i][:]...)
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
