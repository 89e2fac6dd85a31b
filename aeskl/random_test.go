package aeskl

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// randomBlock is the fixed block the NewRandom tests encrypt.
var randomBlock = []byte("one fixed block!")

// TestNewRandom: on every implementation, NewRandom's ciphers encrypt a
// fixed block differently from call to call (a new key each time, with or
// without entropy), decrypt what they encrypt, keep their restrictions;
// NewXTSRandom likewise. Bad sizes and entropy of the wrong length are
// refused, WithEntropy is refused by New, and where the key is drawn by
// assembly a routine allowed no source returns ErrRandomSource and no
// Cipher.
func TestNewRandom(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(8*n), func(t *testing.T) {
			forEachOnce(t, n, func(t *testing.T, v variant) {
				seen := map[string]bool{}
				for i := 0; i < 3; i++ {
					opts := append([]Option(nil), v.opts...)
					if i == 2 {
						opts = append(opts, WithEntropy(make([]byte, n)))
					}
					c, err := NewRandom(n, opts...)
					if err != nil {
						t.Fatal(err)
					}
					if c.Implementation() != v.impl {
						t.Fatalf("Implementation() = %v", c.Implementation())
					}
					ct := make([]byte, 16)
					c.Encrypt(ct, randomBlock)
					if seen[string(ct)] {
						t.Fatalf("call %d: the same ciphertext as an earlier call: the same key", i)
					}
					seen[string(ct)] = true
					pt := make([]byte, 16)
					c.Decrypt(pt, ct)
					if !bytes.Equal(pt, randomBlock) {
						t.Fatalf("decryption gives %x", pt)
					}
				}
				c, err := NewRandom(n, append(v.opts, WithRestrictions(NoDecrypt))...)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.DecryptBlocks(make([]byte, 16), randomBlock); !errors.Is(err, ErrInvalidHandle) {
					t.Errorf("a NoDecrypt random handle decrypted: %v", err)
				}
				if v.impl != Generic {
					c, err := NewRandom(n, append(v.opts, withRandSources(0))...)
					if !errors.Is(err, ErrRandomSource) || c != nil {
						t.Errorf("no random source allowed: %v, Cipher %v", err, c != nil)
					}
				}
			})
		})
	}
	t.Run("xts", func(t *testing.T) {
		forEachOnce(t, 32, func(t *testing.T, v variant) {
			var first []byte
			for i := 0; i < 2; i++ {
				x, err := NewXTSRandom(64, append(v.opts, WithEntropy(make([]byte, 64)))...)
				if err != nil {
					t.Fatal(err)
				}
				ct := make([]byte, 32)
				if err := x.Encrypt(ct, bytes.Repeat(randomBlock, 2), 7); err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(ct, first) {
					t.Fatal("two NewXTSRandom encrypt a sector alike: the same keys")
				}
				first = ct
				pt := make([]byte, 32)
				if err := x.Decrypt(pt, ct, 7); err != nil || !bytes.Equal(pt, bytes.Repeat(randomBlock, 2)) {
					t.Fatalf("round trip: %v", err)
				}
			}
		})
	})
	t.Run("refused", func(t *testing.T) {
		if klemutest.Inner() {
			t.Skip("the run outside the emulator covers this")
		}
		if _, err := NewRandom(20); !errors.As(err, new(KeySizeError)) {
			t.Errorf("NewRandom(20): %v", err)
		}
		if _, err := NewXTSRandom(40); err == nil {
			t.Error("NewXTSRandom(40): no error")
		}
		if _, err := NewRandom(32, WithEntropy(make([]byte, 16))); err == nil {
			t.Error("16 bytes of entropy for a 32-byte key: no error")
		}
		if _, err := NewXTSRandom(64, WithEntropy(make([]byte, 32))); err == nil {
			t.Error("32 bytes of entropy for a 64-byte XTS key: no error")
		}
		if _, err := New(make([]byte, 16), WithEntropy(make([]byte, 16))); err == nil {
			t.Error("New accepted WithEntropy")
		}
		if _, err := NewXTS(make([]byte, 32), WithEntropy(make([]byte, 32))); err == nil {
			t.Error("NewXTS accepted WithEntropy")
		}
		if _, err := NewRandom(16, WithRestrictions(NoEncrypt|NoDecrypt)); err == nil {
			t.Error("NewRandom accepted a handle restricted both ways")
		}
	})
}
