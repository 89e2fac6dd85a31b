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
	"github.com/go-keylocker/keylocker/internal/guardtest"
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

// gcmKey wraps a random key of n bytes under region and returns it, its
// handle, its GHASH key H = E(0) and H's zmm table.
func gcmKey(t *testing.T, region *Region, n int) (key []byte, h *Handle, hk [16]byte, tbl GHASHTable) {
	t.Helper()
	key, _, h, _ = smKeys(t, region, n)
	b, _ := aes.NewCipher(key)
	b.Encrypt(hk[:], hk[:])
	ghash.GHASHInit(&hk, &tbl, PathVAES512)
	return key, h, hk, tbl
}

// gcmRef computes what SealedGCM must produce: the CTR output from
// inc32(j0), E(j0) and the GHASH state after acc0 and the ciphertext
// padded with zeros to whole blocks (with the xmm GHASH loop, another code
// path).
func gcmRef(key, src []byte, j0, acc0 [16]byte, hk *[16]byte, decrypt bool) (out []byte, mask, acc [16]byte) {
	b, _ := aes.NewCipher(key)
	b.Encrypt(mask[:], j0[:])
	out = make([]byte, len(src))
	ctr := j0
	var ks [16]byte
	for i := 0; i < len(src); i += 16 {
		binary.BigEndian.PutUint32(ctr[12:], binary.BigEndian.Uint32(ctr[12:])+1)
		b.Encrypt(ks[:], ctr[:])
		for j := 0; j < 16 && i+j < len(src); j++ {
			out[i+j] = src[i+j] ^ ks[j]
		}
	}
	var t ghash.GHASHTable
	ghash.GHASHInit(hk, &t, kernel.PathAESNI)
	acc = acc0
	ct := out
	if decrypt {
		ct = src
	}
	padded := make([]byte, (len(ct)+15)&^15)
	copy(padded, ct)
	ghash.GHASHUpdate(&t, &acc, padded)
	return
}

// gcmAbsorb absorbs whole blocks b into acc under the GHASH key hk (the
// xmm GHASH loop).
func gcmAbsorb(hk, acc *[16]byte, b []byte) {
	var t ghash.GHASHTable
	ghash.GHASHInit(hk, &t, kernel.PathAESNI)
	ghash.GHASHUpdate(&t, acc, b)
}

// TestSealedGCM checks SealedGCM against crypto/aes and the xmm GHASH for
// every key size, both directions, 1-3 batches, separate and in place,
// with the counter's low word about to wrap (inc32 wraps mod 2^32).
func TestSealedGCM(t *testing.T) {
	gcmRequireZmm(t)
	region, _ := sealedRegion(t, nil)
	for _, n := range []int{16, 24, 32} {
		key, h, hk, tbl := gcmKey(t, region, n)
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
						if !SealedGCM(region, h, dst, src, &j, &mask, &tbl, &acc, nil, flags, PathVAES512) {
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

// TestSealedGCMCounterBytes checks SealedGCM for every value of the
// counter's last byte, so that every batch start meets each case of the
// counter blocks: the batches whose blocks stay within the last byte and
// those that carry out of it, into a random next byte or through the low
// word's 0xffffff (inc32 wraps mod 2^32).
func TestSealedGCMCounterBytes(t *testing.T) {
	gcmRequireZmm(t)
	region, _ := sealedRegion(t, nil)
	key, h, hk, tbl := gcmKey(t, region, 16)
	src := sealedRand(3*GCMBatch + 5)
	for last := 0; last < 256; last++ {
		for _, wrap := range []bool{false, true} {
			var j0, acc0 [16]byte
			copy(j0[:], sealedRand(16))
			if wrap {
				binary.BigEndian.PutUint32(j0[12:], 0xffffff00)
			}
			j0[15] = byte(last)
			want, wantMask, wantAcc := gcmRef(key, src, j0, acc0, &hk, false)
			dst := make([]byte, len(src))
			j, acc := j0, acc0
			var mask [16]byte
			if !SealedGCM(region, h, dst, src, &j, &mask, &tbl, &acc, nil, 0, PathVAES512) {
				t.Fatalf("last byte %d wrap %v: refused", last, wrap)
			}
			if !bytes.Equal(dst, want) || mask != wantMask || acc != wantAcc {
				t.Fatalf("last byte %d wrap %v: output %v, tag mask %v, GHASH %v", last, wrap, bytes.Equal(dst, want), mask == wantMask, acc == wantAcc)
			}
		}
	}
}

// TestSealedGCMLengths checks SealedGCM on every length from 0 to two
// batches and 17 bytes (the tail: whole and partial registers and blocks,
// with and without batches before it) for every key size and direction,
// separate and in place, a third of them with the counter wrapping, half
// with a length block: the output, nothing written past it, E(j0) and the
// GHASH state.
func TestSealedGCMLengths(t *testing.T) {
	gcmRequireZmm(t)
	region, _ := sealedRegion(t, nil)
	for _, n := range []int{16, 24, 32} {
		key, h, hk, tbl := gcmKey(t, region, n)
		all := sealedRand(2*GCMBatch + 17)
		for size := 0; size <= len(all); size++ {
			for _, flags := range []int{0, kernel.ModeDecrypt} {
				for _, inPlace := range []bool{false, true} {
					what := fmt.Sprintf("AES-%d %d bytes flags %d in place %v", 8*n, size, flags, inPlace)
					buf := bytes.Repeat([]byte{sealedSentinel}, size+65)
					src := all[:size]
					if inPlace {
						copy(buf, src)
						src = buf[:size]
					}
					var j0, acc0 [16]byte
					copy(j0[:], all[size/2:])
					copy(acc0[:], all[size/3:])
					if size%3 == 0 { // the counter's low word wraps (inc32) inside the message
						binary.BigEndian.PutUint32(j0[12:], 0xffffffff-uint32(size%40))
					}
					want, wantMask, wantAcc := gcmRef(key, src, j0, acc0, &hk, flags != 0)
					// Every other size with a length block after the data.
					var lens *[16]byte
					if size%2 == 1 {
						lens = new([16]byte)
						copy(lens[:], all[size/4:])
						gcmAbsorb(&hk, &wantAcc, lens[:])
					}
					j, acc := j0, acc0
					var mask [16]byte
					if !SealedGCM(region, h, buf[:size], src, &j, &mask, &tbl, &acc, lens, flags, PathVAES512) {
						t.Fatalf("%s: refused", what)
					}
					if !bytes.Equal(buf[:size], want) {
						t.Fatalf("%s: output differs", what)
					}
					if !bytes.Equal(buf[size:], bytes.Repeat([]byte{sealedSentinel}, 65)) {
						t.Fatalf("%s: wrote past the output", what)
					}
					if mask != wantMask || acc != wantAcc || j != j0 {
						t.Fatalf("%s: tag mask %v, GHASH %v, j0 kept %v", what, mask == wantMask, acc == wantAcc, j == j0)
					}
				}
			}
		}
	}
}

// TestSealedGCMGuardPages: the tail's masked loads and stores touch
// nothing outside src and dst, with both against an inaccessible page on
// either side.
func TestSealedGCMGuardPages(t *testing.T) {
	gcmRequireZmm(t)
	region, _ := sealedRegion(t, nil)
	key, h, hk, tbl := gcmKey(t, region, 16)
	for _, end := range []bool{true, false} {
		for _, size := range []int{1, 15, 17, 63, 65, 100, 511, GCMBatch + 1, 2*GCMBatch + 100} {
			src := guardtest.Buffer(t, size, end)
			dst := guardtest.Buffer(t, size, end)
			copy(src, sealedRand(size))
			for _, flags := range []int{0, kernel.ModeDecrypt} {
				what := fmt.Sprintf("%d bytes flags %d at the end %v", size, flags, end)
				var j0, acc, mask [16]byte
				want, _, wantAcc := gcmRef(key, src, j0, acc, &hk, flags != 0)
				if !SealedGCM(region, h, dst, src, &j0, &mask, &tbl, &acc, nil, flags, PathVAES512) || !bytes.Equal(dst, want) || acc != wantAcc {
					t.Fatalf("%s: wrong", what)
				}
			}
		}
	}
}

// TestSealedGCMRejects: a changed handle, a no-encrypt handle, a short dst
// or another path: false, nothing written, *tagMask and *acc untouched;
// SealedGCM panics on a path other than the zmm one.
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
			if sealedGCM(region, c.h, dst, src, &j0, &mask, &tbl, &acc, new([16]byte), flags, PathVAES512) {
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
		if sealedGCM(region, good, dst, src, &j0, &mask, &tbl, &acc, nil, 0, path) {
			t.Fatalf("path %d: accepted", path)
		}
	}
	for _, path := range []int{PathAESNI, PathVAES256} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SealedGCM on path %d did not panic", path)
				}
			}()
			SealedGCM(region, good, dst, src, &j0, &mask, &tbl, &acc, nil, 0, path)
		}()
	}
}

// gcmCheckClear fails the test unless a zmm probe's registers (out[0:32])
// are zero after a GCM kernel returned (good: it ran; a refused handle
// leaves Z16-Z31 as the caller had them, the kernel never touched them)
// and the stack below the caller (out[32:]) holds no round key of rks and
// not the key's last 8 bytes.
func gcmCheckClear(t *testing.T, what string, out *[48][64]byte, good bool, key []byte, rks [][16]byte) {
	t.Helper()
	for r := 0; r < 32; r++ {
		if !bytes.Equal(out[r][:], make([]byte, 64)) && (good || r < 16) {
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
	if bytes.Contains(flat, key[len(key)-8:]) {
		t.Fatalf("%s: key left on the stack", what)
	}
}

// TestSealedGCMRegsClear: after sealedGCM, for every key size, direction,
// with or without a tail and with a good or a changed handle, Z0-Z31 are
// zero and neither the key
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
			for _, c := range []struct {
				hh   *Handle
				size int
			}{{h, 2 * GCMBatch}, {h, 2*GCMBatch + 100}, {h, 100}, {&bad, 2*GCMBatch + 100}} {
				hh := c.hh
				what := fmt.Sprintf("AES-%d flags %d %d bytes good %v", 8*n, flags, c.size, hh == h)
				src := sealedRand(c.size)
				dst := make([]byte, len(src))
				var j0, mask, acc, lens [16]byte
				var out [48][64]byte
				w := append(append([]uint64{asmtest.Word(region), asmtest.Word(hh)}, asmtest.SliceWords(dst)...), asmtest.SliceWords(src)...)
				w = append(w, asmtest.Word(&j0), asmtest.Word(&mask), asmtest.Word(&tbl), asmtest.Word(&acc), asmtest.Word(&lens), uint64(flags), uint64(PathVAES512))
				f := callZ(t, asmtest.CallABI0Z, "sealedGCM", w, len(w)+1, &out)
				runtime.KeepAlive(region)
				runtime.KeepAlive(hh)
				runtime.KeepAlive(dst)
				runtime.KeepAlive(src)
				runtime.KeepAlive(&lens)
				if ok := f[len(w)]&0xFF != 0; ok != (hh == h) {
					t.Fatalf("%s: returned %v", what, ok)
				}
				gcmCheckClear(t, what, &out, hh == h, key, rks)
			}
		}
	}
}
