package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"golang.org/x/crypto/xts"
)

// The drop-in conformance checks: what any cipher.Block, cipher.Stream,
// cipher.BlockMode and cipher.AEAD must do for code written against
// crypto/cipher, checked on every implementation and every mode object, and
// on crypto/aes's own objects as a control (a check that crypto/aes fails
// would pin a quirk of aeskl, not the contract). XTS, which has no
// crypto/cipher interface, gets the same checks through its own methods.
//
//   - Only the output range is written: the bytes around it, and the spare
//     capacity of dst, stay as they were.
//   - The input (and the nonce, IV and additional data) is never modified.
//   - Exact overlap (in place) works; inexact overlap panics.
//   - Out-of-bound slices panic (dst or src shorter than the operation
//     needs, a partial block for a BlockMode) before anything is written,
//     and leave the state (CTR position, CBC chaining) as it was.
//   - The state is kept across calls: any split of the input gives the
//     result of one call.
//   - The results are crypto/aes and crypto/cipher's; for an AEAD every
//     call, failed Opens included, leaves every byte of its buffers as
//     crypto/cipher leaves them (a failed Open clears exactly what
//     crypto/cipher clears).
//
// The kernel conformance suite (kernel_conformance_test.go) checks the
// layer below on every block count and path; this one checks the public
// objects.

func TestDropInConformance(t *testing.T) {
	t.Run("crypto-aes-control", func(t *testing.T) {
		for _, keyLen := range []int{16, 24, 32} {
			ref, _ := aes.NewCipher(randBytes(keyLen))
			dropInChecks(t, fmt.Sprint(8*keyLen), ref, ref, false)
		}
	})
	forEachOnce(t, 16, func(t *testing.T, v variant) {
		for _, keyLen := range ckKeyLens(v) {
			key := randBytes(keyLen)
			ref, _ := aes.NewCipher(key)
			dropInChecks(t, fmt.Sprint(8*keyLen), mustNew(t, v, key), ref, true)
			xkey := randBytes(2 * keyLen)
			x, err := NewXTS(xkey, v.opts...)
			if err != nil {
				t.Fatal(err)
			}
			refX, _ := xts.NewCipher(aes.NewCipher, xkey)
			t.Run(fmt.Sprintf("%d/XTS", 8*keyLen), func(t *testing.T) { conformXTS(t, x, refX) })
		}
	})
}

// dropInChecks runs the checks on b and every mode object made from it,
// with the same objects made from ref as the reference; strict adds the
// promises aeskl makes beyond the contracts (conformAEAD).
func dropInChecks(t *testing.T, name string, b, ref cipher.Block, strict bool) {
	t.Run(name+"/Block", func(t *testing.T) { conformBlock(t, b, ref) })
	ivs := map[string][]byte{
		"random IV":          randBytes(16),
		"IV near 2^128 wrap": unhex("fffffffffffffffffffffffffffffffd"),
		"IV near 2^64 carry": unhex("0123456789abcdeffffffffffffffffe"),
		"IV near 2^32 carry": unhex("0123456789abcdef01234567fffffffe"),
	}
	for ivName, iv := range ivs {
		t.Run(name+"/CTR/"+ivName, func(t *testing.T) {
			conformStream(t, func() cipher.Stream { return cipher.NewCTR(b, iv) },
				func() cipher.Stream { return cipher.NewCTR(ref, iv) })
		})
	}
	iv := randBytes(16)
	t.Run(name+"/CBC-encrypter", func(t *testing.T) {
		conformBlockMode(t, func() cipher.BlockMode { return cipher.NewCBCEncrypter(b, iv) },
			func() cipher.BlockMode { return cipher.NewCBCEncrypter(ref, iv) })
	})
	t.Run(name+"/CBC-decrypter", func(t *testing.T) {
		conformBlockMode(t, func() cipher.BlockMode { return cipher.NewCBCDecrypter(b, iv) },
			func() cipher.BlockMode { return cipher.NewCBCDecrypter(ref, iv) })
	})
	for _, gc := range []struct {
		name string
		mk   func(cipher.Block) (cipher.AEAD, error)
	}{
		{"GCM", cipher.NewGCM},
		{"GCM-nonce-8", func(b cipher.Block) (cipher.AEAD, error) { return cipher.NewGCMWithNonceSize(b, 8) }},
		{"GCM-nonce-1", func(b cipher.Block) (cipher.AEAD, error) { return cipher.NewGCMWithNonceSize(b, 1) }},
		{"GCM-nonce-33", func(b cipher.Block) (cipher.AEAD, error) { return cipher.NewGCMWithNonceSize(b, 33) }},
		{"GCM-tag-12", func(b cipher.Block) (cipher.AEAD, error) { return cipher.NewGCMWithTagSize(b, 12) }},
		{"GCM-tag-15", func(b cipher.Block) (cipher.AEAD, error) { return cipher.NewGCMWithTagSize(b, 15) }},
	} {
		t.Run(name+"/"+gc.name, func(t *testing.T) {
			a, err := gc.mk(b)
			if err != nil {
				t.Fatal(err)
			}
			r, err := gc.mk(ref)
			if err != nil {
				t.Fatal(err)
			}
			conformAEAD(t, a, r, strict)
		})
	}
}

// panics runs f and returns what it panicked with, nil if it returned.
func panics(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// changedOutside returns the first index at which b differs from saved
// outside [lo, hi), or -1.
func changedOutside(b, saved []byte, lo, hi int) int {
	for i := range b {
		if (i < lo || i >= hi) && b[i] != saved[i] {
			return i
		}
	}
	return -1
}

// slicePair cuts a dst and a src out of one arena, so that overlaps and
// spare capacity can be expressed.
type slicePair struct {
	name     string
	dst, src func(a []byte) []byte
}

func conformBlock(t *testing.T, b, ref cipher.Block) {
	if b.BlockSize() != BlockSize {
		t.Errorf("BlockSize() = %d", b.BlockSize())
	}
	for _, dec := range []bool{false, true} {
		do, refDo, name := b.Encrypt, ref.Encrypt, "Encrypt"
		if dec {
			do, refDo, name = b.Decrypt, ref.Decrypt, "Decrypt"
		}
		src := randBytes(16)
		want := make([]byte, 16)
		refDo(want, src)

		// dst and src longer than a block, in one arena: only dst[:16] is
		// written, src[:16] is what is read, nothing else changes.
		a := randBytes(96)
		copy(a[56:72], src)
		saved := bytes.Clone(a)
		do(a[8:40], a[56:88])
		if !bytes.Equal(a[8:24], want) {
			t.Errorf("%s = %x, want %x", name, a[8:24], want)
		}
		if i := changedOutside(a, saved, 8, 24); i >= 0 {
			t.Errorf("%s changed byte %d outside dst[:16] (dst is a[8:40], src a[56:88])", name, i)
		}
		buf := bytes.Clone(src)
		do(buf, buf)
		if !bytes.Equal(buf, want) {
			t.Errorf("%s in place = %x, want %x", name, buf, want)
		}
		for _, m := range []slicePair{
			{"nil src", func(a []byte) []byte { return a[0:16] }, func([]byte) []byte { return nil }},
			{"15-byte src", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[32:47] }},
			{"nil dst", func([]byte) []byte { return nil }, func(a []byte) []byte { return a[32:48] }},
			{"15-byte dst with spare capacity", func(a []byte) []byte { return a[0:15] }, func(a []byte) []byte { return a[32:48] }},
			{"inexact overlap, dst 1 byte ahead", func(a []byte) []byte { return a[1:17] }, func(a []byte) []byte { return a[0:16] }},
			{"inexact overlap, dst 15 bytes behind", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[15:31] }},
		} {
			a := randBytes(64)
			saved := bytes.Clone(a)
			if panics(func() { do(m.dst(a), m.src(a)) }) == nil {
				t.Errorf("%s with %s: no panic", name, m.name)
			}
			if !bytes.Equal(a, saved) {
				t.Errorf("%s with %s: panicked after writing", name, m.name)
			}
		}
	}
}

func conformStream(t *testing.T, mk, ref func() cipher.Stream) {
	r := mrand.New(mrand.NewPCG(1, 2))
	src := randBytes(300)
	want := make([]byte, len(src))
	ref().XORKeyStream(want, src)
	const pre = 16
	for trial := 0; trial < 6; trial++ {
		s := mk()
		in := bytes.Clone(src)
		a := randBytes(pre + len(src) + 16) // dst is a[pre:...], with spare bytes after
		saved := bytes.Clone(a)
		var splits []int
		for off := 0; off < len(src); {
			m := r.IntN(40)
			if r.IntN(4) == 0 {
				m = 16 * r.IntN(6)
			}
			m = min(m, len(src)-off)
			extra := r.IntN(17) // dst longer than src: only len(src) bytes are written
			s.XORKeyStream(a[pre+off:pre+off+m+extra], in[off:off+m])
			splits = append(splits, m)
			off += m
			if i := changedOutside(a, saved, pre, pre+off); i >= 0 {
				t.Fatalf("splits %v: wrote byte %d, beyond the output so far", splits, i-pre)
			}
			if r.IntN(3) == 0 && off < len(src) {
				// Refused calls: they panic, write nothing and do not move
				// the position (the next calls continue the keystream).
				k := min(len(src)-off, 1+r.IntN(20))
				before := bytes.Clone(a)
				if panics(func() { s.XORKeyStream(a[pre+off:pre+off+k-1], in[off:off+k]) }) == nil {
					t.Fatalf("dst one byte shorter than src: no panic")
				}
				k = max(k, 2) // one byte of overlap at least
				sc := randBytes(k + 1)
				scSaved := bytes.Clone(sc)
				if panics(func() { s.XORKeyStream(sc[1:], sc[:k]) }) == nil {
					t.Fatalf("inexact overlap: no panic")
				}
				if !bytes.Equal(a, before) || !bytes.Equal(sc, scSaved) {
					t.Fatalf("a refused call wrote to a buffer")
				}
			}
		}
		if !bytes.Equal(a[pre:pre+len(src)], want) {
			t.Fatalf("splits %v (with refused calls between): keystream differs from one call of the reference", splits)
		}
		if !bytes.Equal(in, src) {
			t.Fatalf("the input was modified")
		}
	}
	// In place, in pieces, with empty and nil calls.
	s := mk()
	buf := bytes.Clone(src)
	s.XORKeyStream(nil, nil)
	s.XORKeyStream(make([]byte, 5), nil)
	for off := 0; off < len(buf); {
		m := min(len(buf)-off, r.IntN(50))
		s.XORKeyStream(buf[off:off+m], buf[off:off+m])
		off += m
	}
	if !bytes.Equal(buf, want) {
		t.Fatal("in place in pieces: differs from the reference")
	}
}

func conformBlockMode(t *testing.T, mk, ref func() cipher.BlockMode) {
	if bs := mk().BlockSize(); bs != BlockSize {
		t.Errorf("BlockSize() = %d", bs)
	}
	r := mrand.New(mrand.NewPCG(3, 4))
	src := randBytes(16 * 24)
	want := make([]byte, len(src))
	ref().CryptBlocks(want, src)
	const pre = 16
	for trial := 0; trial < 6; trial++ {
		m := mk()
		in := bytes.Clone(src)
		a := randBytes(pre + len(src) + 32)
		saved := bytes.Clone(a)
		var splits []int
		for off := 0; off < len(src); {
			n := min(16*r.IntN(6), len(src)-off)
			extra := r.IntN(33)
			m.CryptBlocks(a[pre+off:pre+off+n+extra], in[off:off+n])
			splits = append(splits, n/16)
			off += n
			if i := changedOutside(a, saved, pre, pre+off); i >= 0 {
				t.Fatalf("splits %v (blocks): wrote byte %d, beyond the output so far", splits, i-pre)
			}
			if r.IntN(3) == 0 && off < len(src) {
				// Refused calls: they panic, write nothing and leave the
				// chaining as it was. Their input is scratch.
				before := bytes.Clone(a)
				for _, bad := range []slicePair{
					{"a partial block", func(a []byte) []byte { return a[pre+off:] }, func([]byte) []byte { return randBytes(17) }},
					{"dst shorter than src", func(a []byte) []byte { return a[pre+off : pre+off+15] }, func([]byte) []byte { return randBytes(16) }},
					{"dst a block shorter than src", func(a []byte) []byte { return a[pre+off : pre+off+16] }, func([]byte) []byte { return randBytes(32) }},
					{"nil dst", func([]byte) []byte { return nil }, func([]byte) []byte { return randBytes(16) }},
				} {
					if panics(func() { m.CryptBlocks(bad.dst(a), bad.src(a)) }) == nil {
						t.Fatalf("%s: no panic", bad.name)
					}
				}
				sc := randBytes(17)
				scSaved := bytes.Clone(sc)
				if panics(func() { m.CryptBlocks(sc[1:], sc[:16]) }) == nil {
					t.Fatalf("inexact overlap: no panic")
				}
				if !bytes.Equal(a, before) || !bytes.Equal(sc, scSaved) {
					t.Fatalf("a refused call wrote to a buffer")
				}
			}
		}
		if !bytes.Equal(a[pre:pre+len(src)], want) {
			t.Fatalf("splits %v (blocks, with refused calls between): differs from one call of the reference", splits)
		}
		if !bytes.Equal(in, src) {
			t.Fatalf("the input was modified")
		}
	}
	// In place, and empty calls.
	m := mk()
	buf := bytes.Clone(src)
	m.CryptBlocks(nil, nil)
	m.CryptBlocks(buf[:0], buf[:0])
	m.CryptBlocks(buf[:32], buf[:32])
	m.CryptBlocks(buf[32:], buf[32:])
	if !bytes.Equal(buf, want) {
		t.Fatal("in place: differs from the reference")
	}
	// SetIV, where the reference has it, restarts the chaining the same way.
	type ivSetter interface{ SetIV([]byte) }
	if _, ok := ref().(ivSetter); ok {
		m, rm := mk(), ref()
		s, ok := m.(ivSetter)
		if !ok {
			t.Fatalf("%T has no SetIV, %T has", m, rm)
		}
		iv2 := randBytes(16)
		got, exp := make([]byte, 64), make([]byte, 64)
		m.CryptBlocks(got, src[:64])
		rm.CryptBlocks(exp, src[:64])
		s.SetIV(iv2)
		rm.(ivSetter).SetIV(iv2)
		m.CryptBlocks(got, src[64:128])
		rm.CryptBlocks(exp, src[64:128])
		if !bytes.Equal(got, exp) {
			t.Error("after SetIV: differs from the reference")
		}
		if panics(func() { s.SetIV(make([]byte, 15)) }) == nil {
			t.Error("SetIV with a 15-byte IV: no panic")
		}
	}
}

// aeadOp is one AEAD call on buffers cut out of an arena.
type aeadOp func(x cipher.AEAD, a []byte) ([]byte, error)

// aeadTwin runs op on a and on ref, each with its own copy of arena, and
// reports every difference: a panic on one side only, the error's presence,
// the result, and any byte of the arena afterwards outside [spareLo,
// spareHi), the spare capacity of the call's dst beyond its output, which
// the AEAD contract lets an implementation overwrite (crypto/cipher's GCM
// with a tag shorter than 16 bytes does). It returns what a did.
func aeadTwin(t *testing.T, what string, a, ref cipher.AEAD, arena []byte, spareLo, spareHi int, op aeadOp) (res []byte, panicked bool, after []byte, err error) {
	t.Helper()
	run := func(x cipher.AEAD) (res []byte, p any, after []byte, err error) {
		after = bytes.Clone(arena)
		p = panics(func() { res, err = op(x, after) })
		return
	}
	res, p, after, err := run(a)
	rres, rp, rafter, rerr := run(ref)
	switch {
	case (p == nil) != (rp == nil):
		t.Errorf("%s: panic %v, crypto/cipher: panic %v", what, p, rp)
	case (err == nil) != (rerr == nil):
		t.Errorf("%s: error %v, crypto/cipher: %v", what, err, rerr)
	case !bytes.Equal(res, rres) || (res == nil) != (rres == nil):
		t.Errorf("%s: result %x, crypto/cipher: %x", what, res, rres)
	default:
		if i := changedOutside(after, rafter, spareLo, spareHi); i >= 0 {
			t.Errorf("%s: the buffers afterwards differ from crypto/cipher's at byte %d", what, i)
		}
	}
	return res, p != nil, after, err
}

// conformAEAD checks a against ref. With strict, it also checks that a
// writes nothing but its output, not even in the spare capacity of dst
// (aeskl's promise, stronger than the AEAD contract and than crypto/cipher).
func conformAEAD(t *testing.T, a, ref cipher.AEAD, strict bool) {
	if a.NonceSize() != ref.NonceSize() || a.Overhead() != ref.Overhead() {
		t.Fatalf("NonceSize, Overhead = %d, %d; crypto/cipher: %d, %d", a.NonceSize(), a.Overhead(), ref.NonceSize(), ref.Overhead())
	}
	ns, ov := a.NonceSize(), a.Overhead()
	onlyOut := func(what string, after, before []byte, lo, hi int) {
		t.Helper()
		if i := changedOutside(after, before, lo, hi); strict && i >= 0 {
			t.Errorf("%s: changed byte %d outside the output [%d, %d)", what, i, lo, hi)
		}
	}
	for _, n := range []int{0, 1, 15, 16, 17, 63, 200} {
		for _, adLen := range []int{0, 1, 20} {
			what := fmt.Sprintf("%d bytes, %d of AD", n, adLen)
			// Arena: prefix | room for the output and 16 spare bytes | pt | ad | nonce.
			const prefix = 5
			ptOff := prefix + n + ov + 16
			adOff := ptOff + n
			nOff := adOff + adLen
			arena := randBytes(nOff + ns)
			pt := func(a []byte) []byte { return a[ptOff:adOff] }
			ad := func(a []byte) []byte { return a[adOff:nOff] }
			nonce := func(a []byte) []byte { return a[nOff : nOff+ns] }

			// Seal appends to dst, in its capacity.
			sealed, _, after, _ := aeadTwin(t, "Seal "+what, a, ref, arena, prefix+n+ov, ptOff, func(x cipher.AEAD, a []byte) ([]byte, error) {
				return x.Seal(a[:prefix:ptOff], nonce(a), pt(a), ad(a)), nil
			})
			if len(sealed) != prefix+n+ov || !bytes.Equal(sealed[:prefix], arena[:prefix]) {
				t.Fatalf("Seal %s: returned %d bytes, want dst (%d) followed by %d", what, len(sealed), prefix, n+ov)
			}
			onlyOut("Seal "+what, after, arena, prefix, prefix+n+ov)
			ct := bytes.Clone(sealed[prefix:])
			_, _, after, _ = aeadTwin(t, "Seal to nil "+what, a, ref, arena, 0, 0, func(x cipher.AEAD, a []byte) ([]byte, error) {
				return x.Seal(nil, nonce(a), pt(a), ad(a)), nil
			})
			onlyOut("Seal to nil "+what, after, arena, 0, 0)
			// In place: plaintext[:0] as dst.
			ipLo := ptOff - n - ov - 8
			ipArena := bytes.Clone(arena)
			copy(ipArena[ipLo:], pt(arena))
			_, _, after, _ = aeadTwin(t, "Seal in place "+what, a, ref, ipArena, ptOff-8, ptOff, func(x cipher.AEAD, a []byte) ([]byte, error) {
				p := a[ipLo : ipLo+n : ptOff]
				return x.Seal(p[:0], nonce(a), p, ad(a)), nil
			})
			onlyOut("Seal in place "+what, after, ipArena, ipLo, ipLo+n+ov)

			// Open, to a dst with spare capacity and in place.
			ctArena := append(append(bytes.Clone(arena), ct...), randBytes(n+8)...) // room for an output after the tag
			ctOff := len(arena)
			ctOf := func(a []byte) []byte { return a[ctOff : ctOff+len(ct)] }
			opened, _, after, err := aeadTwin(t, "Open "+what, a, ref, ctArena, prefix+n, ptOff, func(x cipher.AEAD, a []byte) ([]byte, error) {
				return x.Open(a[:prefix:ptOff], nonce(a), ctOf(a), ad(a))
			})
			if err != nil || !bytes.Equal(opened[prefix:], pt(arena)) {
				t.Fatalf("Open %s: %v", what, err)
			}
			onlyOut("Open "+what, after, ctArena, prefix, prefix+n)
			_, _, after, _ = aeadTwin(t, "Open in place "+what, a, ref, ctArena, ctOff+n, len(ctArena), func(x cipher.AEAD, a []byte) ([]byte, error) {
				c := ctOf(a)
				return x.Open(c[:0], nonce(a), c, ad(a))
			})
			onlyOut("Open in place "+what, after, ctArena, ctOff, ctOff+n)

			// Tampering: Open fails, returns nil and clears its output
			// range as crypto/cipher does.
			type tamper struct {
				name string
				f    func(a []byte)
			}
			tampers := []tamper{
				{"tag", func(a []byte) { ctOf(a)[n+ov-1] ^= 0x80 }},
				{"nonce", func(a []byte) { nonce(a)[0] ^= 1 }},
			}
			if n > 0 {
				tampers = append(tampers, tamper{"ciphertext", func(a []byte) { ctOf(a)[n/2] ^= 4 }})
			}
			if adLen > 0 {
				tampers = append(tampers, tamper{"additional data", func(a []byte) { ad(a)[adLen-1] ^= 2 }})
			}
			for _, tm := range tampers {
				bad := bytes.Clone(ctArena)
				tm.f(bad)
				for _, dst := range []struct {
					name           string
					f              func(a []byte) []byte
					lo, hi, sl, sh int // output range, spare range
				}{
					{"to a dst with room", func(a []byte) []byte { return a[:prefix:ptOff] }, prefix, prefix + n, prefix + n, ptOff},
					{"to a dst without room", func(a []byte) []byte { return a[:prefix:prefix] }, 0, 0, 0, 0},
					{"in place", func(a []byte) []byte { return ctOf(a)[:0] }, ctOff, ctOff + n, ctOff + n, len(bad)},
				} {
					w := "Open " + what + " with tampered " + tm.name + " " + dst.name
					res, p, after, err := aeadTwin(t, w, a, ref, bad, dst.sl, dst.sh, func(x cipher.AEAD, a []byte) ([]byte, error) {
						return x.Open(dst.f(a), nonce(a), ctOf(a), ad(a))
					})
					if err == nil || res != nil || p {
						t.Errorf("%s: %x, %v (panicked: %v), want an error", w, res, err, p)
					}
					if !bytes.Equal(after[dst.lo:dst.hi], make([]byte, dst.hi-dst.lo)) {
						t.Errorf("%s: the output range is not cleared", w)
					}
					onlyOut(w, after, bad, dst.lo, dst.hi)
				}
			}

			// Misuse: refused (a panic, or an error) as crypto/cipher
			// refuses it, before writing anything.
			type misuse struct {
				name string
				op   aeadOp
			}
			misuses := []misuse{
				{"Seal, nonce one byte short", func(x cipher.AEAD, a []byte) ([]byte, error) {
					return x.Seal(a[:prefix:ptOff], nonce(a)[1:], pt(a), ad(a)), nil
				}},
				{"Seal, nonce one byte long", func(x cipher.AEAD, a []byte) ([]byte, error) {
					return x.Seal(a[:prefix:ptOff], a[nOff-1:nOff+ns], pt(a), ad(a)), nil
				}},
				{"Open, nonce one byte short", func(x cipher.AEAD, a []byte) ([]byte, error) {
					return x.Open(a[:prefix:ptOff], nonce(a)[1:], ctOf(a), ad(a))
				}},
				{"Open, ciphertext shorter than the tag", func(x cipher.AEAD, a []byte) ([]byte, error) {
					return x.Open(a[:prefix:ptOff], nonce(a), ctOf(a)[n+1:], ad(a))
				}},
			}
			if n > 0 {
				misuses = append(misuses,
					misuse{"Seal, output one byte before the plaintext", func(x cipher.AEAD, a []byte) ([]byte, error) {
						return x.Seal(a[ptOff-1:ptOff-1], nonce(a), pt(a), nil), nil
					}},
					misuse{"Open, output one byte after the ciphertext's start", func(x cipher.AEAD, a []byte) ([]byte, error) {
						return x.Open(a[ctOff+1:ctOff+1], nonce(a), ctOf(a), nil)
					}},
					misuse{"Open, output over the tag", func(x cipher.AEAD, a []byte) ([]byte, error) {
						return x.Open(a[ctOff+n:ctOff+n], nonce(a), ctOf(a), ad(a))
					}})
			}
			if n > 0 && adLen > 0 {
				misuses = append(misuses,
					misuse{"Seal, output over the additional data", func(x cipher.AEAD, a []byte) ([]byte, error) {
						return x.Seal(a[adOff:adOff], nonce(a), a[:n], ad(a)), nil
					}},
					misuse{"Open, output over the additional data", func(x cipher.AEAD, a []byte) ([]byte, error) {
						return x.Open(a[adOff:adOff], nonce(a), ctOf(a), ad(a))
					}})
			}
			for _, m := range misuses {
				res, p, after, err := aeadTwin(t, m.name+" "+what, a, ref, ctArena, 0, 0, m.op)
				if !p && err == nil {
					t.Errorf("%s %s: accepted (%x)", m.name, what, res)
				}
				if !bytes.Equal(after, ctArena) {
					t.Errorf("%s %s: refused after writing", m.name, what)
				}
			}
		}
	}
}

func conformXTS(t *testing.T, x *XTS, ref *xts.Cipher) {
	for _, n := range []int{16, 17, 31, 32, 33, 48, 100, 261} {
		src := randBytes(n)
		a := randBytes(n + 40)
		saved := bytes.Clone(a)
		in := bytes.Clone(src)
		dst := a[8 : 8+n+16] // longer than src, with spare bytes after
		if err := x.Encrypt(dst, in, 42); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if i := changedOutside(a, saved, 8, 8+n); i >= 0 {
			t.Errorf("%d bytes: changed byte %d outside dst[:len(src)]", n, i-8)
		}
		if !bytes.Equal(in, src) {
			t.Errorf("%d bytes: the input was modified", n)
		}
		ct := bytes.Clone(a[8 : 8+n])
		if n%16 == 0 {
			want := make([]byte, n)
			ref.Encrypt(want, src, 42)
			if !bytes.Equal(ct, want) {
				t.Errorf("%d bytes: differs from x/crypto/xts", n)
			}
		}
		buf := bytes.Clone(src)
		if err := x.Encrypt(buf, buf, 42); err != nil || !bytes.Equal(buf, ct) {
			t.Errorf("%d bytes in place: %v", n, err)
		}
		if err := x.Decrypt(buf, buf, 42); err != nil || !bytes.Equal(buf, src) {
			t.Errorf("%d bytes: decryption in place does not give the input back: %v", n, err)
		}
		for _, dec := range []bool{false, true} {
			do := x.Encrypt
			if dec {
				do = x.Decrypt
			}
			for _, m := range []slicePair{
				{"dst one byte short", func(a []byte) []byte { return a[0 : n-1] }, func(a []byte) []byte { return a[n+8 : 2*n+8] }},
				{"inexact overlap", func(a []byte) []byte { return a[1 : n+1] }, func(a []byte) []byte { return a[0:n] }},
			} {
				a := randBytes(2*n + 8)
				saved := bytes.Clone(a)
				if panics(func() { do(m.dst(a), m.src(a), 1) }) == nil {
					t.Errorf("%d bytes, decrypt=%v, %s: no panic", n, dec, m.name)
				}
				if !bytes.Equal(a, saved) {
					t.Errorf("%d bytes, decrypt=%v, %s: panicked after writing", n, dec, m.name)
				}
			}
		}
	}
	short := randBytes(32)
	saved := bytes.Clone(short)
	if err := x.Encrypt(short[16:], short[:15], 0); err == nil || !bytes.Equal(short, saved) {
		t.Errorf("15 bytes: %v, or the output was written", err)
	}
	// Sectors: a run of sectors equals the sectors one by one and any
	// split of the run at sector boundaries.
	const size, count = 48, 6
	src := randBytes(size * count)
	want := make([]byte, len(src))
	for i := 0; i < count; i++ {
		if err := x.Encrypt(want[i*size:], src[i*size:(i+1)*size], 1<<40+uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, splits := range [][]int{{6}, {1, 5}, {2, 0, 3, 1}, {1, 1, 1, 1, 1, 1}} {
		got := make([]byte, len(src)+16)
		off := 0
		for _, k := range splits {
			if err := x.EncryptSectors(got[off*size:], src[off*size:(off+k)*size], 1<<40+uint64(off), size); err != nil {
				t.Fatal(err)
			}
			off += k
		}
		if !bytes.Equal(got[:len(src)], want) || !bytes.Equal(got[len(src):], make([]byte, 16)) {
			t.Errorf("EncryptSectors split %v: differs from Encrypt sector by sector", splits)
		}
		if err := x.DecryptSectors(got[:len(src)], got[:len(src)], 1<<40, size); err != nil || !bytes.Equal(got[:len(src)], src) {
			t.Errorf("DecryptSectors in place: %v", err)
		}
	}
}
