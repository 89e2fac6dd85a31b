package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
	"golang.org/x/crypto/xts"
)

// TestDispatch proves that crypto/cipher hands an aeskl Cipher's modes to
// its own optimized methods (ctrAble, cbcEncAble, cbcDecAble, gcmAble).
func TestDispatch(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		c := mustNew(t, v, randBytes(16))
		iv := make([]byte, 16)
		if s := cipher.NewCTR(c, iv); fmt.Sprintf("%T", s) != "*aeskl.ctrStream" {
			t.Errorf("cipher.NewCTR gave %T", s)
		}
		if m := cipher.NewCBCEncrypter(c, iv); fmt.Sprintf("%T", m) != "*aeskl.cbc" {
			t.Errorf("cipher.NewCBCEncrypter gave %T", m)
		}
		if m := cipher.NewCBCDecrypter(c, iv); fmt.Sprintf("%T", m) != "*aeskl.cbc" {
			t.Errorf("cipher.NewCBCDecrypter gave %T", m)
		}
		for _, mk := range []func() (cipher.AEAD, error){
			func() (cipher.AEAD, error) { return cipher.NewGCM(c) },
			func() (cipher.AEAD, error) { return cipher.NewGCMWithNonceSize(c, 8) },
			func() (cipher.AEAD, error) { return cipher.NewGCMWithTagSize(c, 12) },
		} {
			if a, err := mk(); err != nil || fmt.Sprintf("%T", a) != "*aeskl.gcm" {
				t.Errorf("cipher.NewGCM* gave %T, %v", a, err)
			}
		}
	})
}

// SP 800-38A F.2.1 (CBC-AES128) and F.5.1 (CTR-AES128), F.5.5 (CTR-AES256).
func TestModeKnownAnswers(t *testing.T) {
	pt := unhex("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710")
	key128 := unhex("2b7e151628aed2a6abf7158809cf4f3c")
	key256 := unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
	cbcIV := unhex("000102030405060708090a0b0c0d0e0f")
	cbcCT := unhex("7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2 73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7")
	ctrIV := unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
	ctr128 := unhex("874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff 5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee")
	ctr256 := unhex("601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5 2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6")
	// IEEE 1619 vector 1 (as in x/crypto/xts): zero keys, sector 0.
	xtsCT := unhex("917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e")
	t.Run("128", func(t *testing.T) {
		forEach(t, 16, func(t *testing.T, v variant) {
			c := mustNew(t, v, key128)
			got := make([]byte, len(pt))
			cipher.NewCBCEncrypter(c, cbcIV).CryptBlocks(got, pt)
			if !bytes.Equal(got, cbcCT) {
				t.Errorf("CBC encrypt = %x", got)
			}
			cipher.NewCBCDecrypter(c, cbcIV).CryptBlocks(got, cbcCT)
			if !bytes.Equal(got, pt) {
				t.Errorf("CBC decrypt = %x", got)
			}
			cipher.NewCTR(c, ctrIV).XORKeyStream(got, pt)
			if !bytes.Equal(got, ctr128) {
				t.Errorf("CTR-128 = %x", got)
			}
			x, err := NewXTS(make([]byte, 32), v.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got = make([]byte, 32)
			if err := x.Encrypt(got, make([]byte, 32), 0); err != nil || !bytes.Equal(got, xtsCT) {
				t.Errorf("XTS IEEE 1619 vector 1 = %x, %v", got, err)
			}
		})
	})
	t.Run("256", func(t *testing.T) {
		forEach(t, 32, func(t *testing.T, v variant) {
			c := mustNew(t, v, key256)
			got := make([]byte, len(pt))
			cipher.NewCTR(c, ctrIV).XORKeyStream(got, pt)
			if !bytes.Equal(got, ctr256) {
				t.Errorf("CTR-256 = %x", got)
			}
		})
	})
}

// modeLengths covers every tail around the 8-block WIDE groups and some
// larger sizes (not for Key Locker under the emulator, where each
// instruction costs tens of microseconds; the conformance suite,
// kernel_conformance_test.go, runs the kernels up to 257 blocks there).
func modeLengths(v variant) []int {
	var l []int
	for n := 0; n <= 40*16+15; n += 7 {
		l = append(l, n)
	}
	for n := 0; n <= 40; n++ {
		l = append(l, 16*n)
	}
	if emulated(v) {
		return append(l, 1000)
	}
	// 2*chunk+33 crosses the per-call chunking of every mode.
	return append(l, 4096, 8192+5, 70000, 2*chunk+33)
}

// emulated reports whether v runs its instructions in klemu.
func emulated(v variant) bool {
	return (v.impl == KeyLocker || v.impl == KeyLockerWide) && klemutest.Inner()
}

func TestCTRAgainstCryptoCipher(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				key := randBytes(keyLen)
				ref, _ := aes.NewCipher(key)
				c := mustNew(t, v, key)
				r := mrand.New(mrand.NewPCG(1, uint64(keyLen)))
				for _, n := range modeLengths(v) {
					iv := randBytes(16)
					if n%3 == 0 { // carry across the 64-bit halves
						copy(iv[8:], bytes.Repeat([]byte{0xff}, 8))
						iv[7] = 0xff
					}
					src := randBytes(n)
					want := make([]byte, n)
					cipher.NewCTR(ref, iv).XORKeyStream(want, src)
					got := make([]byte, n)
					s := cipher.NewCTR(c, iv)
					// Random splits exercise the partial-block state.
					for off := 0; off < n; {
						m := min(n-off, r.IntN(100))
						if r.IntN(4) == 0 {
							m = min(n-off, 16*r.IntN(20))
						}
						s.XORKeyStream(got[off:off+m], src[off:off+m])
						off += m
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("CTR of %d bytes differs from crypto/cipher", n)
					}
					// In place.
					cipher.NewCTR(c, iv).XORKeyStream(got, got)
					if !bytes.Equal(got, src) {
						t.Fatalf("in-place CTR of %d bytes", n)
					}
				}
			})
		})
	}
}

func TestCBCAgainstCryptoCipher(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				key := randBytes(keyLen)
				ref, _ := aes.NewCipher(key)
				c := mustNew(t, v, key)
				for _, n := range modeLengths(v) {
					n &^= 15
					iv, src := randBytes(16), randBytes(n)
					want := make([]byte, n)
					cipher.NewCBCEncrypter(ref, iv).CryptBlocks(want, src)
					got := make([]byte, n)
					enc := cipher.NewCBCEncrypter(c, iv)
					// Two calls chain like one.
					h := n / 32 * 16
					enc.CryptBlocks(got[:h], src[:h])
					enc.CryptBlocks(got[h:], src[h:])
					if !bytes.Equal(got, want) {
						t.Fatalf("CBC encryption of %d bytes differs", n)
					}
					dec := cipher.NewCBCDecrypter(c, iv)
					dec.CryptBlocks(got[:h], got[:h])
					dec.CryptBlocks(got[h:], got[h:])
					if !bytes.Equal(got, src) {
						t.Fatalf("in-place CBC decryption of %d bytes differs", n)
					}
				}
			})
		})
	}
}

func TestGCMAgainstCryptoCipher(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				key := randBytes(keyLen)
				ref, _ := aes.NewCipher(key)
				c := mustNew(t, v, key)
				r := mrand.New(mrand.NewPCG(2, uint64(keyLen)))
				for i, n := range modeLengths(v) {
					nonceSize := []int{12, 12, 8, 16, 1, 60}[i%6]
					tagSize := []int{16, 16, 16, 12, 13, 16, 15}[i%7]
					rg, _ := cipher.NewGCMWithNonceSize(ref, nonceSize)
					if tagSize != 16 {
						rg, _ = cipher.NewGCMWithTagSize(ref, tagSize)
						nonceSize = 12
					}
					var g cipher.AEAD
					var err error
					if tagSize != 16 {
						g, err = cipher.NewGCMWithTagSize(c, tagSize)
					} else {
						g, err = cipher.NewGCMWithNonceSize(c, nonceSize)
					}
					if err != nil {
						t.Fatal(err)
					}
					nonce, pt, ad := randBytes(nonceSize), randBytes(n), randBytes(r.IntN(70))
					if i%5 == 0 { // all-ones nonces (inc32 wraps: TestKernelCounterWrap)
						nonce = bytes.Repeat([]byte{0xff}, nonceSize)
					}
					want := rg.Seal(nil, nonce, pt, ad)
					got := g.Seal(nil, nonce, pt, ad)
					if !bytes.Equal(got, want) {
						t.Fatalf("GCM Seal of %d bytes (nonce %d, tag %d) differs", n, nonceSize, tagSize)
					}
					back, err := g.Open(got[:0], nonce, got, ad)
					if err != nil || !bytes.Equal(back, pt) {
						t.Fatalf("GCM Open in place of %d bytes: %v", n, err)
					}
					got = g.Seal(nil, nonce, pt, ad)
					got[r.IntN(len(got))] ^= 1 << r.IntN(8)
					out := make([]byte, n)
					copy(out, "sentinel")
					if _, err := g.Open(out[:0], nonce, got, ad); err == nil {
						t.Fatalf("GCM Open accepted a flipped bit (%d bytes)", n)
					}
					if !bytes.Equal(out, make([]byte, n)) {
						t.Fatalf("GCM Open left output after a tag mismatch")
					}
				}
			})
		})
	}
}

func TestXTSAgainstXCrypto(t *testing.T) {
	for _, keyLen := range []int{32, 48, 64} {
		t.Run(fmt.Sprint(keyLen*4), func(t *testing.T) {
			forEach(t, keyLen/2, func(t *testing.T, v variant) {
				key := randBytes(keyLen)
				ref, err := xts.NewCipher(aes.NewCipher, key)
				if err != nil {
					t.Fatal(err)
				}
				x, err := NewXTS(key, v.opts...)
				if err != nil {
					t.Fatal(err)
				}
				if x.Implementation() != v.impl {
					t.Fatalf("XTS runs on %v", x.Implementation())
				}
				for _, n := range modeLengths(v) {
					n &^= 15
					if n == 0 {
						continue
					}
					sector := mrand.Uint64()
					src := randBytes(n)
					want := make([]byte, n)
					ref.Encrypt(want, src, sector)
					got := make([]byte, n)
					if err := x.Encrypt(got, src, sector); err != nil || !bytes.Equal(got, want) {
						t.Fatalf("XTS encryption of %d bytes differs from x/crypto/xts: %v", n, err)
					}
					if err := x.Decrypt(got, got, sector); err != nil || !bytes.Equal(got, src) {
						t.Fatalf("in-place XTS decryption of %d bytes: %v", n, err)
					}
				}
				// Sectors: a run equals sector-by-sector x/crypto/xts.
				for _, size := range []int{512, 4096} {
					if size > 512 && emulated(v) {
						continue
					}
					src := randBytes(3 * size)
					want := make([]byte, len(src))
					for i := 0; i < 3; i++ {
						ref.Encrypt(want[i*size:(i+1)*size], src[i*size:(i+1)*size], 7+uint64(i))
					}
					got := make([]byte, len(src))
					if err := x.EncryptSectors(got, src, 7, size); err != nil || !bytes.Equal(got, want) {
						t.Fatalf("EncryptSectors(%d): %v", size, err)
					}
					if err := x.DecryptSectors(got, got, 7, size); err != nil || !bytes.Equal(got, src) {
						t.Fatalf("DecryptSectors(%d): %v", size, err)
					}
				}
				// Ciphertext stealing round trips for every tail.
				for n := 16; n < 16*20; n++ {
					var tw [16]byte
					binary.LittleEndian.PutUint64(tw[8:], uint64(n))
					src := randBytes(n)
					got := make([]byte, n)
					if err := x.EncryptTweak(got, src, tw); err != nil {
						t.Fatal(err)
					}
					if err := x.DecryptTweak(got, got, tw); err != nil || !bytes.Equal(got, src) {
						t.Fatalf("CTS round trip of %d bytes: %v", n, err)
					}
				}
			})
		})
	}
}

// TestModesRejectedHandle: with a tampered handle every mode fails loudly
// and no input reaches the output.
func TestModesRejectedHandle(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		c := mustNew(t, v, randBytes(16))
		g, err := cipher.NewGCM(c)
		if err != nil {
			t.Fatal(err)
		}
		sealed := g.Seal(nil, make([]byte, 12), []byte("attack at dawn, attack at dawn!!"), nil)
		x, err := NewXTS(randBytes(32), v.opts...)
		if err != nil {
			t.Fatal(err)
		}
		flipHandleBit(c, 20*8)
		flipHandleBit(x.data, 40*8)
		src := bytes.Repeat([]byte("secret plaintext"), 20)
		zero := make([]byte, len(src)+16)
		check := func(name string, dst []byte) {
			t.Helper()
			if !bytes.Equal(dst, zero[:len(dst)]) {
				t.Errorf("%s: output not zeroed", name)
			}
		}
		dst := bytes.Clone(src)
		expectPanic(t, ErrInvalidHandle, func() { cipher.NewCTR(c, make([]byte, 16)).XORKeyStream(dst, src) })
		check("CTR", dst)
		dst = bytes.Clone(src)
		expectPanic(t, ErrInvalidHandle, func() { cipher.NewCBCEncrypter(c, make([]byte, 16)).CryptBlocks(dst, src) })
		check("CBC encrypt", dst)
		dst = bytes.Clone(src)
		expectPanic(t, ErrInvalidHandle, func() { cipher.NewCBCDecrypter(c, make([]byte, 16)).CryptBlocks(dst, src) })
		check("CBC decrypt", dst)
		// In place: the plaintext itself is in the output buffer.
		out := append(bytes.Clone(src), make([]byte, 16)...)
		expectPanic(t, ErrInvalidHandle, func() { g.Seal(out[:0], make([]byte, 12), out[:len(src)], nil) })
		check("GCM Seal", out)
		opened := bytes.Clone(sealed)
		if _, err := g.Open(opened[:0], make([]byte, 12), opened, nil); !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("GCM Open: %v, want ErrInvalidHandle", err)
		}
		check("GCM Open", opened[:len(sealed)-16])
		if _, err := cipher.NewGCM(c); !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("NewGCM on a rejected handle: %v", err)
		}
		for _, n := range []int{16, 20, 40, len(src)} {
			dst = bytes.Clone(src[:n])
			if err := x.Encrypt(dst, src[:n], 1); !errors.Is(err, ErrInvalidHandle) {
				t.Errorf("XTS %d bytes: %v", n, err)
			}
			check("XTS", dst)
			dst = bytes.Clone(src[:n])
			if err := x.Decrypt(dst, dst, 1); !errors.Is(err, ErrInvalidHandle) {
				t.Errorf("in-place XTS decryption of %d bytes: %v", n, err)
			}
			check("XTS decrypt", dst)
		}
		// A rejected tweak handle alone.
		flipHandleBit(x.data, 40*8)
		flipHandleBit(x.tweak, 20*8)
		for _, n := range []int{16, 20, 200} {
			dst = bytes.Clone(src[:n])
			if err := x.Encrypt(dst, dst, 1); !errors.Is(err, ErrInvalidHandle) {
				t.Errorf("XTS with a rejected tweak handle, %d bytes: %v", n, err)
			}
			check("XTS tweak", dst)
		}
		dst = bytes.Clone(src)
		if err := x.DecryptSectors(dst, src, 0, 32); !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("XTS sectors: %v", err)
		}
		check("XTS sectors", dst)
	})
}

func TestModesRestrictions(t *testing.T) {
	forEach(t, 32, func(t *testing.T, v variant) {
		key := randBytes(64)
		full, err := NewXTS(key, v.opts...)
		if err != nil {
			t.Fatal(err)
		}
		decOnly, err := NewXTS(key, append(v.opts, WithRestrictions(NoEncrypt))...)
		if err != nil {
			t.Fatal(err)
		}
		src := randBytes(100)
		ct := make([]byte, 100)
		if err := full.Encrypt(ct, src, 9); err != nil {
			t.Fatal(err)
		}
		refused := bytes.Clone(src)
		if err := decOnly.Encrypt(refused, refused, 9); !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("decrypt-only XTS encrypted: %v", err)
		}
		if !bytes.Equal(refused, make([]byte, 100)) {
			t.Error("refused XTS encryption left output")
		}
		got := make([]byte, 100)
		if err := decOnly.Decrypt(got, ct, 9); err != nil || !bytes.Equal(got, src) {
			t.Errorf("decrypt-only XTS does not decrypt: %v", err)
		}
		c := mustNew(t, v, key[:32], WithRestrictions(NoDecrypt))
		dst := make([]byte, 32)
		copy(dst, src)
		expectPanic(t, ErrInvalidHandle, func() { cipher.NewCBCDecrypter(c, make([]byte, 16)).CryptBlocks(dst, dst) })
		if !bytes.Equal(dst, make([]byte, 32)) {
			t.Error("refused CBC decryption left output")
		}
		cipher.NewCTR(c, make([]byte, 16)).XORKeyStream(dst, src[:32]) // encryption direction: allowed
		if _, err := cipher.NewGCM(c); err != nil {
			t.Errorf("GCM on an encrypt-only handle: %v", err)
		}
	})
}

func TestModeMisuse(t *testing.T) {
	c, _ := New(randBytes(16), WithImplementation(Generic))
	expectPanic(t, "IV length", func() { cipher.NewCTR(c, make([]byte, 15)) })
	expectPanic(t, "IV length", func() { cipher.NewCBCEncrypter(c, make([]byte, 17)) })
	expectPanic(t, "IV length", func() { cipher.NewCBCDecrypter(c, nil) })
	buf := make([]byte, 64)
	expectPanic(t, "output smaller", func() { cipher.NewCTR(c, make([]byte, 16)).XORKeyStream(buf[:10], buf[:20]) })
	expectPanic(t, "overlap", func() { cipher.NewCTR(c, make([]byte, 16)).XORKeyStream(buf[1:], buf[:40]) })
	expectPanic(t, "not full blocks", func() { cipher.NewCBCEncrypter(c, make([]byte, 16)).CryptBlocks(buf, buf[:20]) })
	if _, err := cipher.NewGCMWithTagSize(c, 11); err == nil {
		t.Error("GCM accepted an 11-byte tag")
	}
	if _, err := cipher.NewGCMWithNonceSize(c, 0); err == nil {
		t.Error("GCM accepted an empty nonce")
	}
	g, _ := cipher.NewGCM(c)
	expectPanic(t, "nonce length", func() { g.Seal(nil, make([]byte, 8), nil, nil) })
	if _, err := g.Open(nil, make([]byte, 12), make([]byte, 15), nil); err == nil {
		t.Error("GCM opened a message shorter than the tag")
	}
	// An output over the tag overlaps the input inexactly (crypto/cipher
	// checks the whole input, tag included).
	sealed := append(g.Seal(nil, make([]byte, 12), make([]byte, 32), nil), make([]byte, 32)...)[:48]
	expectPanic(t, "overlap", func() { g.Open(sealed[32:32], make([]byte, 12), sealed, nil) })
	if _, err := NewXTS(make([]byte, 16)); err == nil {
		t.Error("NewXTS accepted a 16-byte key")
	}
	x, _ := NewXTS(randBytes(32), WithImplementation(Generic))
	if err := x.Encrypt(buf, buf[:15], 0); err == nil {
		t.Error("XTS accepted 15 bytes")
	}
	expectPanic(t, "smaller than input", func() { x.Encrypt(buf[:16], buf[:32], 0) })
	expectPanic(t, "overlap", func() { x.Encrypt(buf[1:33], buf[:32], 0) })
	if err := x.EncryptSectors(buf, buf[:48], 0, 32); err == nil {
		t.Error("EncryptSectors accepted a partial sector")
	}
	if err := x.EncryptSectors(buf, buf, 0, 24); err == nil {
		t.Error("EncryptSectors accepted a 24-byte sector")
	}
	x.Close()
	expectPanic(t, "closed", func() { x.Encrypt(buf, buf, 0) })
}

// TestNewCipherIsDropIn passes NewCipher where x/crypto/xts wants
// aes.NewCipher: the signature matches and the result agrees.
func TestNewCipherIsDropIn(t *testing.T) {
	key := randBytes(64)
	viaBlock, err := xts.NewCipher(NewCipher, key)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := xts.NewCipher(aes.NewCipher, key)
	src := randBytes(4096)
	got, want := make([]byte, 4096), make([]byte, 4096)
	viaBlock.Encrypt(got, src, 99)
	ref.Encrypt(want, src, 99)
	if !bytes.Equal(got, want) {
		t.Fatal("xts.NewCipher(aeskl.NewCipher) differs from xts.NewCipher(aes.NewCipher)")
	}
}

// TestXTSSectorsAgainstXCrypto: EncryptSectors and DecryptSectors (and
// their Stride forms) equal x/crypto/xts sector by sector, for runs that
// cross the groups of sector tweaks and the per-call limit (chunk), and for
// sectors larger than that limit (split inside the sector).
func TestXTSSectorsAgainstXCrypto(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		key := randBytes(32)
		ref, _ := xts.NewCipher(aes.NewCipher, key)
		x, err := NewXTS(key, v.opts...)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			size, count int
			stride      uint64
		}{{512, 33, 1}, {4096, 9, 8}, {512, 600, 1}, {4096, 70, 8}, {chunk * 2, 2, 3}}
		if klemutest.Inner() && (v.impl == KeyLocker || v.impl == KeyLockerWide) {
			cases = cases[:2] // every Key Locker instruction traps under the emulator
		}
		for _, c := range cases {
			first := mrand.Uint64()
			src := randBytes(c.size * c.count)
			want := make([]byte, len(src))
			for i := range c.count {
				ref.Encrypt(want[i*c.size:(i+1)*c.size], src[i*c.size:(i+1)*c.size], first+uint64(i)*c.stride)
			}
			got := make([]byte, len(src))
			enc, dec := x.EncryptSectors, x.DecryptSectors
			if c.stride != 1 {
				enc = func(dst, src []byte, first uint64, size int) error {
					return x.EncryptSectorsStride(dst, src, first, c.stride, size)
				}
				dec = func(dst, src []byte, first uint64, size int) error {
					return x.DecryptSectorsStride(dst, src, first, c.stride, size)
				}
			}
			if err := enc(got, src, first, c.size); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%d sectors of %d bytes by %d: differs from x/crypto/xts: %v", c.count, c.size, c.stride, err)
			}
			if err := dec(got, got, first, c.size); err != nil || !bytes.Equal(got, src) {
				t.Fatalf("%d sectors of %d bytes by %d: decryption in place: %v", c.count, c.size, c.stride, err)
			}
		}
	})
}
