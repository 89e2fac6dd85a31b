package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// The kernel conformance suite: one set of checks of the block kernels
// (ECB, CTR, CTR with inc32, CBC, XTS, GCM's counter mode) run on every
// implementation and every path that can run here (forEach: Key Locker
// WIDE and non-WIDE, under klemu where the CPU has none; the aes-ni,
// vaes-ymm and vaes-zmm sealed paths; generic), against references built
// on crypto/aes. The per-package tests check what is particular to one
// implementation (register hygiene, instruction counts, layouts).

// ckKind is one kernel.
type ckKind int

const (
	ckECBEnc ckKind = iota
	ckECBDec
	ckCTR
	ckCTR32
	ckCBCEnc
	ckCBCDec
	ckXTSEnc
	ckXTSDec
	ckGCM
)

var ckNames = [...]string{"ECBEncrypt", "ECBDecrypt", "CTR", "CTR-inc32", "CBCEncrypt", "CBCDecrypt", "XTSEncrypt", "XTSDecrypt", "GCMCTR"}

func (k ckKind) String() string { return ckNames[k] }

func (k ckKind) encrypts() bool { return k != ckECBDec && k != ckCBCDec && k != ckXTSDec }

// ckKeys is a backend with its data and tweak handles.
type ckKeys struct {
	b          backend
	key, tkey  []byte
	h, ht      *handle.Handle
	block, tbk cipher.Block
}

func ckNewKeys(t testing.TB, v variant, keyLen int, r uint32) *ckKeys {
	t.Helper()
	var cfg config
	for _, o := range v.opts {
		o(&cfg)
	}
	b, err := chooseBackend(keyLen, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	k := &ckKeys{b: b, key: ckRand(keyLen), tkey: ckRand(keyLen), h: new(handle.Handle), ht: new(handle.Handle)}
	b.encodeKey(k.key, r, k.h)
	b.encodeKey(k.tkey, 0, k.ht) // unrestricted: the data handle decides
	k.block, _ = aes.NewCipher(k.key)
	k.tbk, _ = aes.NewCipher(k.tkey)
	return k
}

func ckRand(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// run calls the kernel on the backend. st is the state (counter, IV, tweak,
// J0); aux receives GCM's tag mask. tweakEnc: XTS encrypts *st with the
// tweak handle first.
func (k *ckKeys) run(kind ckKind, dst, src []byte, st, aux *[16]byte, tweakEnc bool) bool {
	b := &k.b
	switch kind {
	case ckECBEnc:
		return b.encrypt(k.h, dst, src)
	case ckECBDec:
		return b.decrypt(k.h, dst, src)
	case ckCTR:
		return b.ctr(k.h, dst, src, st, b.flags)
	case ckCTR32:
		return b.ctr(k.h, dst, src, st, b.flags|modeInc32)
	case ckCBCEnc:
		return b.cbcEncrypt(k.h, dst, src, st, b.flags)
	case ckCBCDec:
		return b.cbcDecrypt(k.h, dst, src, st, b.flags)
	case ckXTSEnc, ckXTSDec:
		var ht *handle.Handle
		if tweakEnc {
			ht = k.ht
		}
		f := b.flags
		if kind == ckXTSDec {
			f |= modeDecrypt
		}
		return b.xts(k.h, ht, dst, src, st, f)
	case ckGCM:
		return b.gcmCTR(k.h, dst, src, st, aux, b.flags)
	}
	panic("unknown kernel")
}

// ckAdd adds n to the big-endian counter c over all 128 bits (inc32: the
// low 32 bits only, mod 2^32).
func ckAdd(c [16]byte, n uint64, inc32 bool) [16]byte {
	if inc32 {
		v := uint32(c[12])<<24 | uint32(c[13])<<16 | uint32(c[14])<<8 | uint32(c[15])
		v += uint32(n)
		c[12], c[13], c[14], c[15] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		return c
	}
	for i := 15; i >= 0 && n != 0; i-- {
		s := uint64(c[i]) + n&0xFF
		c[i] = byte(s)
		n = n>>8 + s>>8
	}
	return c
}

// ref computes the kernel's output and the state after it with crypto/aes.
func (k *ckKeys) ref(kind ckKind, src []byte, st [16]byte, tweakEnc bool) (out []byte, st2, aux [16]byte) {
	out = make([]byte, len(src))
	n := len(src) / 16
	c := k.block
	switch kind {
	case ckECBEnc, ckECBDec:
		for i := 0; i < n; i++ {
			if kind == ckECBEnc {
				c.Encrypt(out[16*i:], src[16*i:])
			} else {
				c.Decrypt(out[16*i:], src[16*i:])
			}
		}
		return out, st, aux
	case ckCTR, ckCTR32, ckGCM:
		ctr := st
		if kind == ckGCM {
			c.Encrypt(aux[:], st[:])
			ctr = ckAdd(st, 1, true)
		}
		for i := 0; i < n; i++ {
			var ks [16]byte
			c.Encrypt(ks[:], ctr[:])
			for j := range ks {
				out[16*i+j] = src[16*i+j] ^ ks[j]
			}
			ctr = ckAdd(ctr, 1, kind != ckCTR)
		}
		if kind == ckGCM {
			return out, st, aux
		}
		return out, ctr, aux
	case ckCBCEnc, ckCBCDec:
		if kind == ckCBCEnc {
			cipher.NewCBCEncrypter(c, st[:]).CryptBlocks(out, src)
		} else {
			cipher.NewCBCDecrypter(c, st[:]).CryptBlocks(out, src)
		}
		if n > 0 {
			last := out
			if kind == ckCBCDec {
				last = src
			}
			copy(st2[:], last[len(last)-16:])
		} else {
			st2 = st
		}
		return out, st2, aux
	case ckXTSEnc, ckXTSDec:
		T := st
		if tweakEnc {
			k.tbk.Encrypt(T[:], T[:])
		}
		for i := 0; i < n; i++ {
			var x [16]byte
			for j := range x {
				x[j] = src[16*i+j] ^ T[j]
			}
			if kind == ckXTSEnc {
				c.Encrypt(x[:], x[:])
			} else {
				c.Decrypt(x[:], x[:])
			}
			for j := range x {
				out[16*i+j] = x[j] ^ T[j]
			}
			kerneltest.XTSDouble(&T)
		}
		return out, T, aux
	}
	panic("unknown kernel")
}

var ckKinds = []ckKind{ckECBEnc, ckECBDec, ckCTR, ckCTR32, ckCBCEnc, ckCBCDec, ckXTSEnc, ckXTSDec, ckGCM}

// ckBlockCounts crosses every batch boundary of every path: 8 blocks (Key
// Locker WIDE, aes-ni), 16 (ymm) and 32 (zmm), and their tails.
var ckBlockCounts = func() []int {
	var ns []int
	for n := 0; n <= 40; n++ {
		ns = append(ns, n)
	}
	return append(ns, 47, 48, 63, 64, 65, 95, 96, 127, 128, 129, 257)
}()

func ckKeyLens(v variant) []int {
	if v.impl == KeyLocker || v.impl == KeyLockerWide {
		return []int{16, 32}
	}
	return []int{16, 24, 32}
}

// TestKernelConformance checks every kernel against the reference for every
// block count, key size, implementation and path; in place and at odd
// addresses; the state it leaves; and that two calls chain like one.
func TestKernelConformance(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		for _, keyLen := range ckKeyLens(v) {
			k := ckNewKeys(t, v, keyLen, 0)
			for _, kind := range ckKinds {
				t.Run(fmt.Sprintf("%d/%v", keyLen*8, kind), func(t *testing.T) {
					for _, n := range ckBlockCounts {
						ckCheck(t, k, kind, n)
					}
				})
			}
		}
	})
}

func ckCheck(t *testing.T, k *ckKeys, kind ckKind, n int) {
	t.Helper()
	src := ckRand(16 * n)
	var st0 [16]byte
	copy(st0[:], ckRand(16))
	if kind == ckCTR32 || kind == ckGCM {
		st0[12], st0[13] = 0xFF, 0xFF // the low 32 bits wrap within the run
	}
	tweakEnc := n%2 == 0
	want, wantSt, wantAux := k.ref(kind, src, st0, tweakEnc)

	// Separate buffers, dst one block longer: the extra block stays untouched.
	dst := bytes.Repeat([]byte{0xEE}, len(src)+16)
	st, aux := st0, [16]byte{}
	if !k.run(kind, dst[:len(src)], src, &st, &aux, tweakEnc) {
		t.Fatalf("%d blocks: kernel returned false", n)
	}
	if !bytes.Equal(dst[:len(src)], want) {
		t.Fatalf("%d blocks: output differs from the reference", n)
	}
	if !bytes.Equal(dst[len(src):], bytes.Repeat([]byte{0xEE}, 16)) {
		t.Fatalf("%d blocks: wrote past the end of the data", n)
	}
	if st != wantSt || kind == ckGCM && aux != wantAux {
		t.Fatalf("%d blocks: state %x (aux %x), want %x (%x)", n, st, aux, wantSt, wantAux)
	}

	// In place, at an odd address.
	buf := make([]byte, len(src)+1)
	io := buf[1:]
	copy(io, src)
	st, aux = st0, [16]byte{}
	if !k.run(kind, io, io, &st, &aux, tweakEnc) || !bytes.Equal(io, want) || st != wantSt {
		t.Fatalf("%d blocks: in place at an odd address differs from the reference", n)
	}

	// Two calls chain like one (GCMCTR takes J0 each time: not chained).
	if kind == ckGCM || n < 2 {
		return
	}
	cut := 16 * (n / 3)
	st = st0
	dst = make([]byte, len(src))
	ok := k.run(kind, dst[:cut], src[:cut], &st, &aux, tweakEnc)
	ok = ok && k.run(kind, dst[cut:], src[cut:], &st, &aux, false)
	if !ok || !bytes.Equal(dst, want) || st != wantSt {
		t.Fatalf("%d blocks split at block %d: differs from one call", n, cut/16)
	}
}

// TestKernelCounterWrap: the 128-bit counter carries from the low into the
// high half and wraps at 2^128; inc32 wraps its low 32 bits only.
func TestKernelCounterWrap(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		k := ckNewKeys(t, v, 16, 0)
		for _, c := range []struct {
			kind ckKind
			st   string
		}{
			{ckCTR, "0000000000000001fffffffffffffff8"},
			{ckCTR, "fffffffffffffffffffffffffffffffa"},
			{ckCTR32, "0123456789abcdef01234567fffffffa"},
			{ckGCM, "0123456789abcdef01234567fffffffa"},
		} {
			var st0 [16]byte
			fmt.Sscanf(c.st, "%x", &st0)
			src := ckRand(16 * 40)
			want, wantSt, _ := k.ref(c.kind, src, st0, false)
			dst := make([]byte, len(src))
			st, aux := st0, [16]byte{}
			if !k.run(c.kind, dst, src, &st, &aux, false) || !bytes.Equal(dst, want) || st != wantSt {
				t.Errorf("%v from %s: differs from the reference (state %x, want %x)", c.kind, c.st, st, wantSt)
			}
		}
	})
}

// TestKernelRejects: a handle whose restriction forbids the kernel's
// direction, or that was changed in any byte, makes every kernel return
// false; the state is left as it was.
func TestKernelRejects(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		for _, keyLen := range ckKeyLens(v) {
			s := detect()
			for _, r := range []Restriction{NoEncrypt, NoDecrypt} {
				if why := unavailable(s, v.impl, keyLen, r); why != "" {
					t.Logf("%v: %s", r, why)
					continue
				}
				k := ckNewKeys(t, v, keyLen, uint32(r))
				for _, kind := range ckKinds {
					forbidden := kind.encrypts() == (r == NoEncrypt)
					ckExpect(t, fmt.Sprintf("%d/%v/%v", keyLen*8, kind, r), k, kind, !forbidden)
				}
			}
			k := ckNewKeys(t, v, keyLen, 0)
			size := 48
			if keyLen != 16 {
				size = 64
			}
			for pos := 0; pos < size; pos += 5 {
				saved := *k.h
				k.h[pos] ^= 0x10
				for _, kind := range ckKinds {
					ckExpect(t, fmt.Sprintf("%d/%v/handle byte %d changed", keyLen*8, kind, pos), k, kind, false)
				}
				*k.h = saved
				// The XTS tweak handle is checked too (it encrypts the tweak).
				saved = *k.ht
				k.ht[pos] ^= 0x10
				for _, kind := range []ckKind{ckXTSEnc, ckXTSDec} {
					ckExpect(t, fmt.Sprintf("%d/%v/tweak handle byte %d changed", keyLen*8, kind, pos), k, kind, false)
				}
				*k.ht = saved
			}
			// A handle made under another wrapping key (Key Locker: the CPU's
			// IWKey; the software implementations: the process's region) is
			// refused: a second backend of the same implementation shares it,
			// so wrap under handle.Wrap with a fresh IWKey instead.
			if v.impl == AESNISealed || v.impl == Generic {
				foreign, err := handle.Wrap(new(handle.IWKey), 0, k.key)
				if err != nil {
					t.Fatal(err)
				}
				saved := *k.h
				copy(k.h[:], foreign)
				for _, kind := range ckKinds {
					ckExpect(t, fmt.Sprintf("%d/%v/another wrapping key", keyLen*8, kind), k, kind, false)
				}
				*k.h = saved
			}
		}
	})
}

func ckExpect(t *testing.T, what string, k *ckKeys, kind ckKind, wantOK bool) {
	t.Helper()
	src := ckRand(16 * 19)
	dst := make([]byte, len(src))
	var st0, aux [16]byte
	copy(st0[:], ckRand(16))
	st := st0
	ok := k.run(kind, dst, src, &st, &aux, true)
	if ok != wantOK {
		t.Errorf("%s: kernel returned %v, want %v", what, ok, wantOK)
	}
	// A handle refused at its first use leaves dst as it was (nothing of
	// what the kernel computed, nor src, reaches the output).
	if !ok && !bytes.Equal(dst, make([]byte, len(dst))) {
		t.Errorf("%s: refused, but dst was written", what)
	}
	if !ok && kind != ckGCM && st != st0 {
		t.Errorf("%s: refused, but the state changed", what)
	}
}

// TestKernelXTSSectors: the sectors kernel equals XTS per sector with the
// sector number as the tweak, for several sector sizes and counts, across
// the 2^64 wrap of the sector number, in place too; a rejected handle
// (either one) makes it return false.
func TestKernelXTSSectors(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		// Under the emulator every Key Locker instruction traps: keep the
		// runs short there (up to 16 KiB, two sector numbers).
		emulated := klemutest.Inner() && (v.impl == KeyLocker || v.impl == KeyLockerWide)
		firsts := []uint64{0, 1 << 40, ^uint64(0) - 1}
		if emulated {
			firsts = firsts[1:]
		}
		for _, keyLen := range ckKeyLens(v) {
			k := ckNewKeys(t, v, keyLen, 0)
			for _, size := range []int{16, 48, 512, 528, 1040, 4096} {
				for _, count := range []int{0, 1, 2, 3, 9, 33, 65} {
					if emulated && size*count > 16<<10 {
						continue
					}
					for j, first := range firsts {
						// Consecutive sector numbers, and dm-crypt's 512-byte IV
						// units for larger sectors (stride 8).
						stride := uint64(1 + 7*(j%2))
						for _, dec := range []bool{false, true} {
							kind, f := ckXTSEnc, k.b.flags
							if dec {
								kind, f = ckXTSDec, f|modeDecrypt
							}
							src := ckRand(size * count)
							var want []byte
							for i := 0; i < count; i++ {
								st := sectorTweak(first + uint64(i)*stride)
								out, _, _ := k.ref(kind, src[i*size:(i+1)*size], st, true)
								want = append(want, out...)
							}
							dst := make([]byte, len(src))
							if !k.b.xtsSectors(k.h, k.ht, dst, src, first, stride, size, f) || !bytes.Equal(dst, want) {
								t.Fatalf("%d/%v: %d sectors of %d bytes from %d by %d: differs from XTS per sector", keyLen*8, kind, count, size, first, stride)
							}
							if !k.b.xtsSectors(k.h, k.ht, src, src, first, stride, size, f) || !bytes.Equal(src, want) {
								t.Fatalf("%d/%v: in place differs", keyLen*8, kind)
							}
						}
					}
				}
			}
			src := ckRand(3 * 512)
			dst := make([]byte, len(src))
			for _, which := range []*handle.Handle{k.h, k.ht} {
				saved := *which
				which[40] ^= 1
				if k.b.xtsSectors(k.h, k.ht, dst, src, 7, 1, 512, k.b.flags) {
					t.Errorf("%d: a changed handle was accepted", keyLen*8)
				}
				*which = saved
			}
		}
	})
}
