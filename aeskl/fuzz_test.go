package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	mrand "math/rand/v2"
	"os"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel"
	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
	"golang.org/x/crypto/xts"
)

// Differential fuzz targets: each input runs on every implementation that
// runs here and is compared with crypto/aes, crypto/cipher or
// x/crypto/xts. The inputs choose what steers the code (lengths, split
// points, counters, sizes, tweaks, tampering); the bytes themselves come
// from a generator seeded by the input, since AES takes no branch on them.
// Seed corpora: testdata/fuzz/FuzzX. `go test` runs the seeds (inside
// klemu too, on Key Locker, through TestUnderKlemu); `.ci/run` fuzzes each
// target for a few seconds; README says how to fuzz for longer.

// fuzzVariants returns the implementations (and sealed paths) a target runs
// each input on: all that run here; inside the emulator only Key Locker
// (the run outside it covers the others).
func fuzzVariants(f *testing.F) []variant {
	s := detect()
	var vs []variant
	for _, v := range variants() {
		kl := v.impl == KeyLocker || v.impl == KeyLockerWide
		if why := unavailable(s, v.impl, 16, 0); why != "" {
			if kl && os.Getenv("KLEMU_PROFILE") == "full" {
				f.Fatalf("under klemu's full profile %v must be usable: %s", v.impl, why)
			}
			if kl && !klemutest.Inner() {
				why += "; TestUnderKlemu runs the seed corpus on it under the emulator"
			}
			f.Logf("%s is not fuzzed here: %s", v.name, why)
			continue
		}
		var cfg config
		for _, o := range v.opts {
			o(&cfg)
		}
		if v.impl == AESNISealed && cfg.sealedPath > 0 && !sealedPathUsable(s, cfg.sealedPath) {
			f.Logf("%s is not fuzzed here: this CPU cannot run the path", v.name)
			continue
		}
		if klemutest.Inner() && !kl {
			continue
		}
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		f.Skip("no implementation runs here")
	}
	return vs
}

// runsWith reports whether v takes a key of keyLen bytes (Key Locker has no
// AES-192).
func runsWith(v variant, keyLen int) bool { return unavailable(detect(), v.impl, keyLen, 0) == "" }

func fuzzRand(seed uint64) *mrand.Rand { return mrand.New(mrand.NewPCG(seed, 0x6b6579_6c6f636b)) }

func fill(r *mrand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

var fuzzKeyLens = [3]int{16, 24, 32}

// nextSplit returns the length of the next call of a split run: splits
// gives the lengths in turn (scaled by unit), zero-length calls included;
// once they are used up (or keep giving nothing), the rest in one call.
func nextSplit(splits []byte, i *int, unit, rest int) int {
	if *i >= len(splits) || *i >= 64 {
		return rest
	}
	b := splits[*i]
	*i++
	n := int(b&0x7f) * unit
	if b&0x80 != 0 {
		n = int(b&0x7f) / 8 * 16 // whole blocks, byte-granular streams included
	}
	return min(n, rest)
}

// FuzzECB: EncryptBlocks, DecryptBlocks, Encrypt and Decrypt against
// crypto/aes for any length (an error for a partial block); key lengths
// 0..65 with keySel >= 128 (NewCipher's error is crypto/aes's).
func FuzzECB(f *testing.F) {
	vs := fuzzVariants(f)
	f.Fuzz(func(t *testing.T, keySel uint8, seed uint64, n uint16, dec bool) {
		r := fuzzRand(seed)
		keyLen := fuzzKeyLens[keySel%3]
		if keySel >= 128 {
			keyLen = int(keySel-128) % 66
		}
		key := fill(r, keyLen)
		ref, refErr := aes.NewCipher(key)
		if _, err := NewCipher(key); err != refErr {
			t.Fatalf("NewCipher(%d-byte key): %v, crypto/aes: %v", keyLen, err, refErr)
		}
		if refErr != nil {
			return
		}
		src := fill(r, int(n)%(4096+17))
		whole := len(src) &^ 15
		want := make([]byte, whole)
		for i := 0; i < whole; i += 16 {
			if dec {
				ref.Decrypt(want[i:], src[i:])
			} else {
				ref.Encrypt(want[i:], src[i:])
			}
		}
		for _, v := range vs {
			if !runsWith(v, keyLen) {
				continue
			}
			c := mustNew(t, v, key)
			blocks, one := c.EncryptBlocks, c.Encrypt
			if dec {
				blocks, one = c.DecryptBlocks, c.Decrypt
			}
			dst := fill(r, len(src)+16)
			saved := bytes.Clone(dst)
			err := blocks(dst, src)
			switch {
			case len(src)%16 != 0:
				if err == nil || !bytes.Equal(dst, saved) {
					t.Fatalf("%s: %d bytes: %v; want an error and nothing written", v.name, len(src), err)
				}
			case err != nil || !bytes.Equal(dst[:whole], want):
				t.Fatalf("%s: %d bytes (decrypt %v): %v, or differs from crypto/aes", v.name, len(src), dec, err)
			case !bytes.Equal(dst[whole:], saved[whole:]):
				t.Fatalf("%s: %d bytes: wrote past the output", v.name, len(src))
			}
			buf := bytes.Clone(src[:whole])
			if err := blocks(buf, buf); err != nil || !bytes.Equal(buf, want) {
				t.Fatalf("%s: in place, %d bytes: %v, or differs", v.name, whole, err)
			}
			if whole > 0 {
				got := make([]byte, 16)
				one(got, src[whole-16:])
				if !bytes.Equal(got, want[whole-16:]) {
					t.Fatalf("%s: one block differs from crypto/aes", v.name)
				}
			}
			c.Close()
		}
	})
}

// FuzzCTR: CTR streams against crypto/cipher, with the input cut into
// calls at the given points, from counters just before the carry out of
// the low 32 and 64 bits and the wrap at 2^128.
func FuzzCTR(f *testing.F) {
	vs := fuzzVariants(f)
	f.Fuzz(func(t *testing.T, keySel uint8, seed, ivHi, ivLo uint64, near uint8, n uint16, splits []byte) {
		r := fuzzRand(seed)
		key := fill(r, fuzzKeyLens[keySel%3])
		switch near % 4 {
		case 1: // the low 64 bits about to carry into the high ones
			ivLo = ^uint64(0) - ivLo%300
		case 2: // the whole counter about to wrap at 2^128
			ivHi, ivLo = ^uint64(0), ^uint64(0)-ivLo%300
		case 3: // the low 32 bits about to carry into bit 32 (an inc32 would not)
			ivLo = ivLo&^0xffffffff | (0xffffffff - ivLo%300)
		}
		iv := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, ivHi), ivLo)
		src := fill(r, int(n)%4097)
		ref, _ := aes.NewCipher(key)
		want := make([]byte, len(src))
		cipher.NewCTR(ref, iv).XORKeyStream(want, src)
		for _, v := range vs {
			if !runsWith(v, len(key)) {
				continue
			}
			c := mustNew(t, v, key)
			inPlace := seed&1 != 0
			got := make([]byte, len(src)+8)
			if inPlace {
				copy(got, src)
			}
			s := cipher.NewCTR(c, iv)
			i := 0
			for off := 0; off < len(src); {
				m := nextSplit(splits, &i, 1, len(src)-off)
				in := src[off : off+m]
				if inPlace {
					in = got[off : off+m]
				}
				s.XORKeyStream(got[off:off+m], in)
				off += m
			}
			if !bytes.Equal(got[:len(src)], want) || !bytes.Equal(got[len(src):], make([]byte, 8)) {
				t.Fatalf("%s: %d bytes from IV %x split by %x (in place %v): differs from crypto/cipher", v.name, len(src), iv, splits, inPlace)
			}
			c.Close()
		}
	})
}

// FuzzCBC: CBC encryption and decryption against crypto/cipher, the
// blocks cut into calls at the given points (the chaining carries over).
func FuzzCBC(f *testing.F) {
	vs := fuzzVariants(f)
	f.Fuzz(func(t *testing.T, keySel uint8, seed uint64, blocks uint16, dec bool, splits []byte) {
		r := fuzzRand(seed)
		key := fill(r, fuzzKeyLens[keySel%3])
		iv := fill(r, 16)
		src := fill(r, 16*(int(blocks)%300))
		ref, _ := aes.NewCipher(key)
		mk := cipher.NewCBCEncrypter
		if dec {
			mk = cipher.NewCBCDecrypter
		}
		want := make([]byte, len(src))
		mk(ref, iv).CryptBlocks(want, src)
		for _, v := range vs {
			if !runsWith(v, len(key)) {
				continue
			}
			c := mustNew(t, v, key)
			inPlace := seed&1 != 0
			got := make([]byte, len(src)+16)
			if inPlace {
				copy(got, src)
			}
			m := mk(c, iv)
			i := 0
			for off := 0; off < len(src); {
				k := nextSplit(splits, &i, 16, len(src)-off) &^ 15
				in := src[off : off+k]
				if inPlace {
					in = got[off : off+k]
				}
				m.CryptBlocks(got[off:off+k], in)
				off += k
			}
			if !bytes.Equal(got[:len(src)], want) || !bytes.Equal(got[len(src):], make([]byte, 16)) {
				t.Fatalf("%s: %d blocks (decrypt %v) split by %x (in place %v): differs from crypto/cipher", v.name, len(src)/16, dec, splits, inPlace)
			}
			c.Close()
		}
	})
}

// FuzzGCM: Seal and Open against crypto/cipher for nonce sizes 0..64 and
// tag sizes 11..17 (the invalid ones refused by both), any plaintext and
// additional data length, to a fresh, an appended-to or the same buffer;
// then the message tampered with (tag, ciphertext, additional data, nonce,
// length): Open must fail, return nil and leave every byte of its buffers
// as crypto/cipher leaves them (it clears the same output).
func FuzzGCM(f *testing.F) {
	vs := fuzzVariants(f)
	f.Fuzz(func(t *testing.T, keySel uint8, seed uint64, nonceSize, tagSize uint8, ptLen, adLen uint16, tamper uint8, where uint16, dstMode uint8) {
		r := fuzzRand(seed)
		key := fill(r, fuzzKeyLens[keySel%3])
		ref, _ := aes.NewCipher(key)
		ns, ts := int(nonceSize)%65, 11+int(tagSize)%7
		mk := func(b cipher.Block) (cipher.AEAD, error) { return cipher.NewGCMWithNonceSize(b, ns) }
		if ts != 16 {
			ns = 12
			mk = func(b cipher.Block) (cipher.AEAD, error) { return cipher.NewGCMWithTagSize(b, ts) }
		}
		rg, refErr := mk(ref)
		nonce, pt, ad := fill(r, ns), fill(r, int(ptLen)%1100), fill(r, int(adLen)%300)
		for _, v := range vs {
			if !runsWith(v, len(key)) {
				continue
			}
			c := mustNew(t, v, key)
			g, err := mk(c)
			if (err == nil) != (refErr == nil) {
				t.Fatalf("%s: nonce size %d, tag size %d: %v, crypto/cipher: %v", v.name, ns, ts, err, refErr)
			}
			if err != nil {
				c.Close()
				continue
			}
			ov := g.Overhead()
			// Seal into an arena: dst prefix of 3 bytes, room for the output
			// and 16 spare bytes, then the plaintext, the AD, the nonce.
			n := len(pt)
			ptOff := 3 + n + ov + 16
			arena := append(append(append(append(fill(r, ptOff), pt...), ad...), nonce...), fill(r, n+ov+8)...)
			adOff, nOff := ptOff+n, ptOff+n+len(ad)
			ctOff := nOff + ns
			ptOf := func(a []byte) []byte { return a[ptOff:adOff] }
			adOf := func(a []byte) []byte { return a[adOff:nOff] }
			nonceOf := func(a []byte) []byte { return a[nOff:ctOff] }
			var sealed, after []byte
			var lo, hi int // Seal's output range in the arena
			switch dstMode % 3 {
			case 0:
				sealed, _, after, _ = aeadTwin(t, v.name+": Seal", g, rg, arena, 0, 0, func(x cipher.AEAD, a []byte) ([]byte, error) {
					return x.Seal(nil, nonceOf(a), ptOf(a), adOf(a)), nil
				})
			case 1:
				sealed, _, after, _ = aeadTwin(t, v.name+": Seal appending", g, rg, arena, 3+n+ov, ptOff, func(x cipher.AEAD, a []byte) ([]byte, error) {
					return x.Seal(a[:3:ptOff], nonceOf(a), ptOf(a), adOf(a)), nil
				})
				sealed = sealed[3:]
				lo, hi = 3, 3+n+ov
			case 2:
				sealed, _, after, _ = aeadTwin(t, v.name+": Seal in place", g, rg, arena, ctOff+n+ov, len(arena), func(x cipher.AEAD, a []byte) ([]byte, error) {
					p := a[ctOff : ctOff+n]
					copy(p, ptOf(a))
					return x.Seal(p[:0], nonceOf(a), p, adOf(a)), nil
				})
				lo, hi = ctOff, ctOff+n+ov
			}
			if i := changedOutside(after, arena, lo, hi); i >= 0 {
				t.Fatalf("%s: Seal changed byte %d outside its output [%d, %d)", v.name, i, lo, hi)
			}
			if len(sealed) != n+ov {
				t.Fatalf("%s: Seal gave %d bytes", v.name, len(sealed))
			}
			// Open the message (tampered or not) from the arena's end.
			msg := bytes.Clone(sealed)
			ctArena := append(bytes.Clone(arena[:ctOff]), append(msg, fill(r, 8)...)...)
			ctEnd := ctOff + len(msg)
			var what string
			switch tamper % 6 {
			case 1:
				what = "tag"
				ctArena[ctEnd-1-int(where)%ov] ^= 1 << (where % 8)
			case 2:
				if n > 0 {
					what = "ciphertext"
					ctArena[ctOff+int(where)%n] ^= 1 << (where % 8)
				}
			case 3:
				if len(ad) > 0 {
					what = "additional data"
					ctArena[adOff+int(where)%len(ad)] ^= 1 << (where % 8)
				}
			case 4:
				if ns > 0 {
					what = "nonce"
					ctArena[nOff+int(where)%ns] ^= 1 << (where % 8)
				}
			case 5:
				what = "length"
				ctEnd -= 1 + int(where)%len(msg)
			}
			var sl, sh int // Open's spare capacity of dst; lo, hi: its output range
			lo, hi = 0, 0
			open := func(x cipher.AEAD, a []byte) ([]byte, error) {
				switch dstMode / 3 % 3 {
				case 0:
					return x.Open(nil, nonceOf(a), a[ctOff:ctEnd], adOf(a))
				case 1:
					return x.Open(a[:3:ptOff], nonceOf(a), a[ctOff:ctEnd], adOf(a))
				}
				return x.Open(a[ctOff:ctOff], nonceOf(a), a[ctOff:ctEnd], adOf(a))
			}
			outLen := max(ctEnd-ctOff-ov, 0)
			switch dstMode / 3 % 3 {
			case 1:
				lo, hi, sl, sh = 3, 3+outLen, 3+outLen, ptOff
			case 2:
				lo, hi, sl, sh = ctOff, ctOff+outLen, ctOff+outLen, len(ctArena)
			}
			if ctEnd-ctOff < ov {
				lo, hi = 0, 0 // refused before any output exists
			}
			opened, _, after, err := aeadTwin(t, v.name+": Open", g, rg, ctArena, sl, sh, open)
			if what == "" {
				if err != nil || !bytes.Equal(opened[len(opened)-n:], pt) {
					t.Fatalf("%s: Open of an untampered message: %v", v.name, err)
				}
			} else {
				if err == nil || opened != nil {
					t.Fatalf("%s: Open accepted a message with a tampered %s", v.name, what)
				}
				if !bytes.Equal(after[lo:hi], make([]byte, hi-lo)) {
					t.Fatalf("%s: tampered %s: the output is not cleared", v.name, what)
				}
			}
			if i := changedOutside(after, ctArena, lo, hi); i >= 0 {
				t.Fatalf("%s: Open changed byte %d outside its output [%d, %d)", v.name, i, lo, hi)
			}
			c.Close()
		}
	})
}

// xtsRefSector is XTS with ciphertext stealing for a sector-number tweak,
// built from x/crypto/xts (which does whole blocks only): the last full
// block and the partial one are two more x/crypto/xts runs whose final
// block has the tweak T_{m-1} or T_m.
func xtsRefSector(ref *xts.Cipher, sector uint64, src []byte) []byte {
	m, r := len(src)/16, len(src)%16
	out := make([]byte, len(src))
	if r == 0 {
		ref.Encrypt(out, src, sector)
		return out
	}
	head := make([]byte, 16*m)
	ref.Encrypt(head, src[:16*m], sector) // C_0..C_{m-2}, then CC = E_{T_{m-1}}(P_{m-1})
	cc := head[16*(m-1):]
	run := make([]byte, 16*(m+1))
	copy(run[16*m:], src[16*m:])
	copy(run[16*m+r:], cc[r:])
	ref.Encrypt(run, run, sector) // block m: E_{T_m}(P_m || CC[r:])
	copy(out, head[:16*(m-1)])
	copy(out[16*(m-1):], run[16*m:])
	copy(out[16*m:], cc[:r])
	return out
}

// xtsRefTweak is XTS with ciphertext stealing for a full 16-byte tweak,
// from crypto/aes blocks (x/crypto/xts takes only a sector number).
func xtsRefTweak(k1, k2 cipher.Block, tweak [16]byte, src []byte) []byte {
	T := tweak
	k2.Encrypt(T[:], T[:])
	blk := func(dst, src []byte) {
		var x [16]byte
		for i := range x {
			x[i] = src[i] ^ T[i]
		}
		k1.Encrypt(x[:], x[:])
		for i := range x {
			dst[i] = x[i] ^ T[i]
		}
	}
	m, r := len(src)/16, len(src)%16
	out := make([]byte, len(src))
	full := m
	if r != 0 {
		full--
	}
	for i := 0; i < full; i++ {
		blk(out[16*i:], src[16*i:])
		kerneltest.XTSDouble(&T)
	}
	if r != 0 {
		var cc, pp [16]byte
		blk(cc[:], src[16*(m-1):])
		kerneltest.XTSDouble(&T)
		copy(pp[:], src[16*m:])
		copy(pp[r:], cc[r:])
		blk(out[16*(m-1):], pp[:])
		copy(out[16*m:], cc[:r])
	}
	return out
}

// FuzzXTS: XTS against x/crypto/xts for 16 bytes to 4 KiB (ciphertext
// stealing for the partial lengths), with sector numbers, full 16-byte
// tweaks, and runs of sectors of 16 bytes to 4 KiB across the 2^64 wrap
// of the sector number; decryption gives the input back.
func FuzzXTS(f *testing.F) {
	vs := fuzzVariants(f)
	f.Fuzz(func(t *testing.T, keySel uint8, seed uint64, n uint16, sector, tweakHi uint64, mode, sectorSel uint8) {
		r := fuzzRand(seed)
		key := fill(r, 2*fuzzKeyLens[keySel%3])
		half := len(key) / 2
		ref, _ := xts.NewCipher(aes.NewCipher, key)
		k1, _ := aes.NewCipher(key[:half])
		k2, _ := aes.NewCipher(key[half:])
		var tweak [16]byte
		binary.LittleEndian.PutUint64(tweak[:], sector)
		binary.LittleEndian.PutUint64(tweak[8:], tweakHi)
		length := 16 + int(n)%(4096-15)
		size := 16 * (1 + int(sectorSel)%32)
		if sectorSel >= 224 {
			size = 4096
		}
		if mode%3 == 2 {
			length = length / size * size
		}
		src := fill(r, length)
		var want []byte
		switch mode % 3 {
		case 0:
			want = xtsRefSector(ref, sector, src)
			// The two references agree where both apply.
			if alt := xtsRefTweak(k1, k2, sectorTweak(sector), src); !bytes.Equal(alt, want) {
				t.Fatalf("the references disagree on %d bytes", length)
			}
		case 1:
			want = xtsRefTweak(k1, k2, tweak, src)
		case 2:
			want = make([]byte, len(src))
			for off := 0; off < len(src); off += size {
				ref.Encrypt(want[off:off+size], src[off:off+size], sector+uint64(off/size))
			}
		}
		for _, v := range vs {
			if !runsWith(v, half) {
				continue
			}
			x, err := NewXTS(key, v.opts...)
			if err != nil {
				t.Fatal(err)
			}
			inPlace := seed&1 != 0
			got := make([]byte, len(src)+16)
			in := src
			if inPlace {
				copy(got, src)
				in = got[:len(src)]
			}
			back := bytes.Clone(want)
			var errEnc, errDec error
			switch mode % 3 {
			case 0:
				errEnc = x.Encrypt(got, in, sector)
				errDec = x.Decrypt(back, back, sector)
			case 1:
				errEnc = x.EncryptTweak(got, in, tweak)
				errDec = x.DecryptTweak(back, back, tweak)
			case 2:
				errEnc = x.EncryptSectors(got[:len(src)], in, sector, size)
				errDec = x.DecryptSectors(back, back, sector, size)
			}
			if errEnc != nil || errDec != nil {
				t.Fatalf("%s: %d bytes, mode %d: %v, %v", v.name, len(src), mode%3, errEnc, errDec)
			}
			if !bytes.Equal(got[:len(src)], want) {
				t.Fatalf("%s: %d bytes, mode %d, sector %d, size %d (in place %v): differs from the reference", v.name, len(src), mode%3, sector, size, inPlace)
			}
			if !bytes.Equal(got[len(src):], make([]byte, 16)) {
				t.Fatalf("%s: wrote past the output", v.name)
			}
			if !bytes.Equal(back, src) {
				t.Fatalf("%s: %d bytes, mode %d: decrypting the reference's ciphertext does not give the input", v.name, len(src), mode%3)
			}
			x.Close()
		}
	})
}

// FuzzHandle: what every implementation accepts as a handle, against the
// reference (internal/handle: the metadata rules and the unwrap, with
// crypto/aes for the result). A genuine handle changed in any byte it uses
// is refused by every implementation; one changed only in the bytes it does
// not use works. On the software implementations, whose wrapping key the
// test can read, forged handles with any metadata, key bytes and length
// block, correctly wrapped, are accepted exactly when the reference
// accepts them, with the reference's result. A refused handle writes
// nothing through the kernel and fails EncryptBlocks with ErrInvalidHandle
// and a zeroed output.
func FuzzHandle(f *testing.F) {
	vs := fuzzVariants(f)
	f.Fuzz(func(t *testing.T, keySel uint8, seed uint64, restrict uint8, flip []byte, forge bool, meta0, meta1 uint64, kbits uint16, dec bool) {
		r := fuzzRand(seed)
		key := fill(r, fuzzKeyLens[keySel%3])
		src := fill(r, 16*(1+int(kbits)%12))
		rs := []Restriction{0, NoEncrypt, NoDecrypt}[restrict%3]
		for _, v := range vs {
			kl := v.impl == KeyLocker || v.impl == KeyLockerWide
			if unavailable(detect(), v.impl, len(key), rs) != "" || kl && forge {
				continue // the test knows only the software wrapping key
			}
			var cfg config
			for _, o := range v.opts {
				o(&cfg)
			}
			b, err := chooseBackend(len(key), &cfg)
			if err != nil {
				t.Fatal(err)
			}
			var h handle.Handle
			b.encodeKey(key, uint32(rs), &h)
			var wantKey []byte // the key the reference unwraps, nil: refused
			if !forge {
				size := handle.SizeForKeyType(handle.KeyType(len(key)))
				changed := false
				for i := 0; i < len(flip) && i < len(h); i++ {
					h[i] ^= flip[i]
					changed = changed || i < size && flip[i] != 0
				}
				if allowed := rs == 0 || rs == NoEncrypt && dec || rs == NoDecrypt && !dec; !changed && allowed {
					wantKey = key
				}
			} else {
				iw := regionIWKey(b.region)
				var meta [16]byte
				binary.LittleEndian.PutUint64(meta[:], meta0)
				binary.LittleEndian.PutUint64(meta[8:], meta1)
				kb := make([]byte, 16*(1+int(kbits>>8)%2)) // the key, zero-padded
				copy(kb, key)
				copy(kb, flip) // the fuzzer's bytes over it, where it gave some
				h = wrapAny(&iw, meta, kb, uint64(kbits&0xff)<<1)
				n := len(kb) + 32
				if k, _, kt, err := handle.Unwrap(&iw, h[:n]); err == nil && handle.Check(h[:n], kt, !dec) == nil {
					wantKey = k
				}
			}
			dst := fill(r, len(src))
			saved := bytes.Clone(dst)
			var ok bool
			if dec {
				ok = b.decrypt(&h, dst, src)
			} else {
				ok = b.encrypt(&h, dst, src)
			}
			if ok != (wantKey != nil) {
				t.Fatalf("%s: handle %x (decrypt %v): accepted %v, the reference %v", v.name, h, dec, ok, wantKey != nil)
			}
			if !ok {
				if !bytes.Equal(dst, saved) {
					t.Fatalf("%s: a refused handle wrote through the kernel", v.name)
				}
				c := &Cipher{b: b}
				*c.words() = h
				out := bytes.Clone(src)
				var err error
				if dec {
					err = c.DecryptBlocks(out, out)
				} else {
					err = c.EncryptBlocks(out, out)
				}
				if !errors.Is(err, ErrInvalidHandle) || !bytes.Equal(out, make([]byte, len(out))) {
					t.Fatalf("%s: a refused handle through the public API: %v, output zeroed: %v", v.name, err, bytes.Equal(out, make([]byte, len(out))))
				}
				continue
			}
			ref, err := aes.NewCipher(wantKey)
			if err != nil {
				t.Fatalf("the reference unwrapped a %d-byte key", len(wantKey))
			}
			want := make([]byte, len(src))
			for i := 0; i < len(src); i += 16 {
				if dec {
					ref.Decrypt(want[i:], src[i:])
				} else {
					ref.Encrypt(want[i:], src[i:])
				}
			}
			if !bytes.Equal(dst, want) {
				t.Fatalf("%s: an accepted handle gives a result that differs from crypto/aes with the reference's key", v.name)
			}
		}
	})
}

// regionIWKey reads the software wrapping key (IK, EK) from the region.
func regionIWKey(r *kernel.Region) (iw handle.IWKey) {
	copy(iw.IK[:], r[kernel.RegionIK:])
	copy(iw.EK[:], r[kernel.RegionEK:kernel.RegionEK+32])
	return iw
}

// wrapAny wraps the key blocks kb (16 or 32 bytes) with any metadata and
// any key length in the length block, by the Key Locker wrap (internal/
// handle's format): the handle verifies whatever it says, and the
// reference decides what it means.
func wrapAny(iw *handle.IWKey, meta [16]byte, kb []byte, keyBits uint64) (h handle.Handle) {
	copy(h[:16], meta[:])
	var p handle.Polyval
	p.Init(&iw.IK)
	p.Update(meta[:])
	p.Update(kb)
	var l [16]byte
	binary.LittleEndian.PutUint64(l[:], 128)
	binary.LittleEndian.PutUint64(l[8:], keyBits)
	p.Update(l[:])
	s := p.Sum()
	s[15] &= 0x7F
	ek, _ := aes.NewCipher(iw.EK[:])
	ek.Encrypt(h[16:32], s[:])
	var ctr, ks [16]byte
	copy(ctr[:], h[16:32])
	ctr[15] |= 0x80
	base := binary.LittleEndian.Uint32(ctr[:4])
	for j := 0; 16*j < len(kb); j++ {
		binary.LittleEndian.PutUint32(ctr[:4], base+uint32(j))
		ek.Encrypt(ks[:], ctr[:])
		for i := range ks {
			h[32+16*j+i] = kb[16*j+i] ^ ks[i]
		}
	}
	return h
}
