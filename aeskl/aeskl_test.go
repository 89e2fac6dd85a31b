package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/quick"

	"github.com/go-keylocker/keylocker/internal/handle"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func mustNew(t testing.TB, v variant, key []byte, opts ...Option) *Cipher {
	t.Helper()
	c, err := New(key, append(append([]Option(nil), v.opts...), opts...)...)
	if err != nil {
		t.Fatalf("New(%d-byte key, %s): %v", len(key), v.name, err)
	}
	if got := c.Implementation(); got != v.impl {
		t.Fatalf("Implementation() = %v, want %v", got, v.impl)
	}
	return c
}

// FIPS-197 appendix C and SP 800-38A F.1 (ECB) known answers.
var kats = []struct {
	name, key, pt, ct string
}{
	{"FIPS-197 C.1", "000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a"},
	{"FIPS-197 C.2", "000102030405060708090a0b0c0d0e0f1011121314151617", "00112233445566778899aabbccddeeff", "dda97ca4864cdfe06eaf70a0ec0d7191"},
	{"FIPS-197 C.3", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089"},
	{"SP 800-38A F.1.1", "2b7e151628aed2a6abf7158809cf4f3c",
		"6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
		"3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf 43b1cd7f598ece23881b00e3ed030688 7b0c785e27e8ad3f8223207104725dd4"},
	{"SP 800-38A F.1.3", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
		"6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
		"bd334f1d6e45f25ff712a214571fa5cc 974104846d0ad3ad7734ecb3ecee4eef ef7afd2270e2e60adce0ba2face6444e 9a4b41ba738d6c72fb16691603c18e0e"},
	{"SP 800-38A F.1.5", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		"6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
		"f3eed1bdb5d2a03c064b5a7e3db181f8 591ccb10d410ed26dc5ba74a31362870 b6ed21b99ca6f4f9f153e7b1beafed1d 23304b7a39f9f3ff067d8d8f9e24ecc7"},
}

func TestKnownAnswers(t *testing.T) {
	for _, kat := range kats {
		key, pt, ct := unhex(kat.key), unhex(kat.pt), unhex(kat.ct)
		t.Run(kat.name, func(t *testing.T) {
			forEach(t, len(key), func(t *testing.T, v variant) {
				c := mustNew(t, v, key)
				defer c.Close()
				got := make([]byte, len(pt))
				c.Encrypt(got, pt)
				if !bytes.Equal(got[:16], ct[:16]) {
					t.Errorf("Encrypt = %x, want %x", got[:16], ct[:16])
				}
				c.Decrypt(got, ct)
				if !bytes.Equal(got[:16], pt[:16]) {
					t.Errorf("Decrypt = %x, want %x", got[:16], pt[:16])
				}
				if err := c.EncryptBlocks(got, pt); err != nil || !bytes.Equal(got, ct) {
					t.Errorf("EncryptBlocks = %x, %v; want %x", got, err, ct)
				}
				if err := c.DecryptBlocks(got, ct); err != nil || !bytes.Equal(got, pt) {
					t.Errorf("DecryptBlocks = %x, %v; want %x", got, err, pt)
				}
			})
		})
	}
}

// TestBulkAgainstCryptoAES checks every block count from 0 to 40 (every
// WIDE tail), a large run, in place and out of place, for each key size.
func TestBulkAgainstCryptoAES(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				key := randBytes(keyLen)
				ref, _ := aes.NewCipher(key)
				c := mustNew(t, v, key)
				defer c.Close()
				for _, n := range append(seq(0, 40), 200) {
					src := randBytes(16 * n)
					want := make([]byte, len(src))
					for i := 0; i < len(src); i += 16 {
						ref.Encrypt(want[i:], src[i:])
					}
					dst := make([]byte, len(src)+16)
					rand.Read(dst)
					tail := bytes.Clone(dst[len(src):])
					if err := c.EncryptBlocks(dst, src); err != nil {
						t.Fatalf("n=%d: %v", n, err)
					}
					if !bytes.Equal(dst[:len(src)], want) {
						t.Fatalf("n=%d: EncryptBlocks differs from crypto/aes", n)
					}
					if !bytes.Equal(dst[len(src):], tail) {
						t.Fatalf("n=%d: EncryptBlocks wrote past len(src)", n)
					}
					// In place, back again.
					buf := bytes.Clone(want)
					if err := c.DecryptBlocks(buf, buf); err != nil || !bytes.Equal(buf, src) {
						t.Fatalf("n=%d: in-place DecryptBlocks: %v", n, err)
					}
					if err := c.EncryptBlocks(buf, buf); err != nil || !bytes.Equal(buf, want) {
						t.Fatalf("n=%d: in-place EncryptBlocks: %v", n, err)
					}
				}
			})
		})
	}
}

func seq(a, b int) []int {
	var s []int
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
}

// TestQuick is a testing/quick differential against crypto/aes over random
// keys and lengths.
func TestQuick(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				f := func(keySeed [32]byte, data []byte, dec bool) bool {
					key := keySeed[:keyLen]
					data = data[:len(data)/16*16]
					ref, _ := aes.NewCipher(key)
					c := mustNew(t, v, key)
					defer c.Close()
					want := make([]byte, len(data))
					got := make([]byte, len(data))
					for i := 0; i < len(data); i += 16 {
						if dec {
							ref.Decrypt(want[i:], data[i:])
						} else {
							ref.Encrypt(want[i:], data[i:])
						}
					}
					var err error
					if dec {
						err = c.DecryptBlocks(got, data)
					} else {
						err = c.EncryptBlocks(got, data)
					}
					if len(data) >= 16 {
						one := make([]byte, 16)
						if dec {
							c.Decrypt(one, data)
						} else {
							c.Encrypt(one, data)
						}
						if !bytes.Equal(one, want[:16]) {
							return false
						}
					}
					return err == nil && bytes.Equal(got, want)
				}
				if err := quick.Check(f, &quick.Config{MaxCount: 50}); err != nil {
					t.Error(err)
				}
			})
		})
	}
}

func TestRestrictions(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				key := randBytes(keyLen)
				ref, _ := aes.NewCipher(key)
				pt := randBytes(16 * 11)
				ct := make([]byte, len(pt))
				for i := 0; i < len(pt); i += 16 {
					ref.Encrypt(ct[i:], pt[i:])
				}

				noEnc := mustNew(t, v, key, WithRestrictions(NoEncrypt))
				out := bytes.Clone(pt)
				if err := noEnc.EncryptBlocks(out, pt); !errors.Is(err, ErrInvalidHandle) {
					t.Errorf("NoEncrypt handle encrypted: %v", err)
				}
				if !bytes.Equal(out, make([]byte, len(out))) {
					t.Errorf("refused EncryptBlocks left output %x, want zeros", out[:16])
				}
				expectPanic(t, ErrInvalidHandle, func() { noEnc.Encrypt(out, pt) })
				if !bytes.Equal(out[:16], make([]byte, 16)) {
					t.Errorf("refused Encrypt left output %x", out[:16])
				}
				if err := noEnc.DecryptBlocks(out, ct); err != nil || !bytes.Equal(out, pt) {
					t.Errorf("NoEncrypt handle does not decrypt: %v", err)
				}

				noDec := mustNew(t, v, key, WithRestrictions(NoDecrypt))
				out = bytes.Clone(ct)
				if err := noDec.DecryptBlocks(out, ct); !errors.Is(err, ErrInvalidHandle) {
					t.Errorf("NoDecrypt handle decrypted: %v", err)
				}
				if !bytes.Equal(out, make([]byte, len(out))) {
					t.Errorf("refused DecryptBlocks left output %x, want zeros", out[:16])
				}
				expectPanic(t, ErrInvalidHandle, func() { noDec.Decrypt(out, ct) })
				if err := noDec.EncryptBlocks(out, pt); err != nil || !bytes.Equal(out, ct) {
					t.Errorf("NoDecrypt handle does not encrypt: %v", err)
				}
				if _, err := New(key, append(v.opts, WithRestrictions(NoEncrypt|NoDecrypt))...); err == nil {
					t.Error("New accepted a handle restricted both ways")
				}
			})
		})
	}
}

// TestTamperedHandle flips bits in the handle's metadata, tag and wrapped
// key: every operation must then fail with ErrInvalidHandle and zero its
// output (the plaintext must never come out as ciphertext).
func TestTamperedHandle(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen*8), func(t *testing.T) {
			forEach(t, keyLen, func(t *testing.T, v variant) {
				c := mustNew(t, v, randBytes(keyLen))
				size := 48
				if keyLen != 16 {
					size = 64
				}
				for _, bit := range []int{3, 8 * 3, 8*3 + 1, 8 * 15, 8*16 + 5, 8*31 + 7, 8 * 32, 8*size - 1} {
					flipHandleBit(c, bit)
					src := randBytes(16 * 9)
					dst := bytes.Clone(src)
					if err := c.EncryptBlocks(dst, dst); !errors.Is(err, ErrInvalidHandle) {
						t.Errorf("bit %d: EncryptBlocks: %v", bit, err)
					}
					if !bytes.Equal(dst, make([]byte, len(dst))) {
						t.Errorf("bit %d: output not zeroed", bit)
					}
					copy(dst, src)
					if err := c.DecryptBlocks(dst, src); !errors.Is(err, ErrInvalidHandle) || !bytes.Equal(dst, make([]byte, len(dst))) {
						t.Errorf("bit %d: DecryptBlocks: %v", bit, err)
					}
					copy(dst, src)
					expectPanic(t, ErrInvalidHandle, func() { c.Encrypt(dst, src) })
					if !bytes.Equal(dst[:16], make([]byte, 16)) {
						t.Errorf("bit %d: Encrypt output not zeroed", bit)
					}
					flipHandleBit(c, bit)
				}
				// Untampered again: works.
				if err := c.EncryptBlocks(make([]byte, 32), make([]byte, 32)); err != nil {
					t.Errorf("restored handle: %v", err)
				}
			})
		})
	}
}

func expectPanic(t *testing.T, want any, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("no panic, want %v", want)
			return
		}
		if e, ok := want.(error); ok {
			if err, ok := r.(error); !ok || !errors.Is(err, e) {
				t.Errorf("panic %v, want %v", r, want)
			}
			return
		}
		if s, ok := r.(string); !ok || !strings.Contains(s, want.(string)) {
			t.Errorf("panic %v, want %q", r, want)
		}
	}()
	f()
}

func TestBadInput(t *testing.T) {
	for _, n := range []int{0, 1, 15, 17, 20, 31, 33, 64} {
		// NewCipher returns exactly what crypto/aes.NewCipher returns.
		_, want := aes.NewCipher(make([]byte, n))
		_, err := NewCipher(make([]byte, n))
		if err != want {
			t.Errorf("NewCipher(%d bytes): %#v, want %#v as crypto/aes", n, err, want)
		}
		if kse, ok := err.(aes.KeySizeError); !ok || int(kse) != n {
			t.Errorf("NewCipher(%d bytes): %#v is not aes.KeySizeError(%d)", n, err, n)
		}
		// New returns KeySizeError, which errors.As finds as both types.
		_, err = New(make([]byte, n))
		var mine KeySizeError
		if !errors.As(err, &mine) || int(mine) != n {
			t.Errorf("New(%d bytes): %v, want KeySizeError(%d)", n, err, n)
		}
		std := aes.KeySizeError(-1)
		if !errors.As(err, &std) || int(std) != n {
			t.Errorf("New(%d bytes): errors.As(aes.KeySizeError) = %d, want %d", n, std, n)
		}
		if !errors.As(fmt.Errorf("wrapped: %w", err), &std) || int(std) != n {
			t.Errorf("New(%d bytes), wrapped: errors.As(aes.KeySizeError) does not find it", n)
		}
		if errors.As(err, new(interface{ Timeout() bool })) {
			t.Errorf("KeySizeError.As accepted an unrelated target")
		}
	}
	if KeySizeError(5).Error() != "aeskl: invalid key size 5" {
		t.Error(KeySizeError(5).Error())
	}
	forEach(t, 16, func(t *testing.T, v variant) {
		c := mustNew(t, v, randBytes(16))
		buf := make([]byte, 64)
		expectPanic(t, "input not full block", func() { c.Encrypt(buf, buf[:15]) })
		expectPanic(t, "output not full block", func() { c.Decrypt(buf[:15], buf) })
		expectPanic(t, "invalid buffer overlap", func() { c.Encrypt(buf[1:], buf) })
		if err := c.EncryptBlocks(buf, buf[:17]); err == nil {
			t.Error("EncryptBlocks accepted 17 bytes")
		}
		if err := c.DecryptBlocks(buf[:16], buf[:32]); err == nil {
			t.Error("DecryptBlocks accepted a short dst")
		}
		if err := c.EncryptBlocks(buf[16:], buf[:32]); err == nil {
			t.Error("EncryptBlocks accepted inexact overlap")
		}
		if err := c.EncryptBlocks(nil, nil); err != nil {
			t.Error(err)
		}
		c.Close()
		if handleOf(c) != (handle.Handle{}) {
			t.Error("Close did not wipe the handle")
		}
		expectPanic(t, "closed Cipher", func() { c.Encrypt(buf, buf) })
		expectPanic(t, "closed Cipher", func() { c.EncryptBlocks(buf, buf) })
		c.Close() // twice is harmless
	})
	if _, err := New(make([]byte, 16), WithImplementation(Implementation(99))); err == nil {
		t.Error("unknown implementation accepted")
	}
	if _, err := New(make([]byte, 24), WithImplementation(KeyLocker)); err == nil {
		t.Error("Key Locker accepted an AES-192 key")
	}
	if _, err := New(make([]byte, 16), WithRestrictions(1)); err == nil {
		t.Error("CPL0/unknown restriction accepted")
	}
}

// TestConcurrent uses one Cipher from 64 goroutines at once (run with -race).
func TestConcurrent(t *testing.T) {
	forEach(t, 32, func(t *testing.T, v variant) {
		key := randBytes(32)
		ref, _ := aes.NewCipher(key)
		c := mustNew(t, v, key)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := 0; g < 64; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := mrand.New(mrand.NewPCG(uint64(g), 1))
				for i := 0; i < 4; i++ {
					n := 1 + r.IntN(20)
					src := randBytes(16 * n)
					dst := make([]byte, len(src))
					if err := c.EncryptBlocks(dst, src); err != nil {
						errs <- err
						return
					}
					want := make([]byte, 16)
					ref.Encrypt(want, src[16*(n-1):])
					if !bytes.Equal(dst[16*(n-1):], want) {
						errs <- fmt.Errorf("goroutine %d: wrong result", g)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// TestManyCiphers creates and closes many Ciphers.
func TestManyCiphers(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		pt := make([]byte, 16)
		for i := 0; i < 200; i++ {
			key := randBytes(16)
			c := mustNew(t, v, key)
			ref, _ := aes.NewCipher(key)
			got, want := make([]byte, 16), make([]byte, 16)
			c.Encrypt(got, pt)
			ref.Encrypt(want, pt)
			if !bytes.Equal(got, want) {
				t.Fatal("mismatch")
			}
			c.Close()
		}
	})
}

func TestImplementationString(t *testing.T) {
	want := map[Implementation]string{KeyLockerWide: "keylocker-wide", KeyLocker: "keylocker", AESNISealed: "aesni-sealed", Generic: "generic"}
	for i, s := range want {
		if i.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(i), i.String(), s)
		}
		if p, err := ParseImplementation(s); err != nil || p != i {
			t.Errorf("ParseImplementation(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParseImplementation("aes"); err == nil {
		t.Error("ParseImplementation accepted junk")
	}
}

// TestNewKeyEscapes pins the property SECURITY.md relies on: New's key
// argument escapes, so the compiler puts a caller's key buffer on the heap
// (which never moves), not on a goroutine stack that growth can copy.
func TestNewKeyEscapes(t *testing.T) {
	fixed := make([]byte, 16)
	base := testing.AllocsPerRun(20, func() {
		c, _ := New(fixed, WithImplementation(Generic))
		c.Close()
	})
	withLocal := testing.AllocsPerRun(20, func() {
		k := make([]byte, 16)
		c, _ := New(k, WithImplementation(Generic))
		c.Close()
	})
	if withLocal != base+1 {
		t.Errorf("a caller's 16-byte key buffer costs %v allocations, want 1: New's key no longer escapes and a key may sit on a movable stack", withLocal-base)
	}
}
