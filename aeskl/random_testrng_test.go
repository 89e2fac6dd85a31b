//go:build aeskl_testrng

package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/subtle"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/crypto/xts"

	"github.com/go-keylocker/keylocker/internal/kernel"
	"github.com/go-keylocker/keylocker/internal/testrng"
)

// testRNGBuild: this test binary has the aeskl_testrng tag (the random
// routines draw from internal/testrng's source).
const testRNGBuild = true

// TestRandomTestSource checks, with the deterministic source of this
// build, on every implementation (Key Locker under klemu), that
// NewRandom's key is exactly the source's words (little-endian) XOR the
// entropy, against crypto/aes; that the retry discipline falls back from
// RDSEED to RDRAND as the model in internal/testrng does; that a source that
// fails every try gives ErrRandomSource and no Cipher; and that
// NewXTSRandom's data and tweak keys are the next words, against
// x/crypto/xts.
func TestRandomTestSource(t *testing.T) {
	both := kernel.RandRDSEED | kernel.RandRDRAND
	for _, n := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(8*n), func(t *testing.T) {
			forEachOnce(t, n, func(t *testing.T, v variant) {
				ent := randBytes(n)
				for _, c := range []struct {
					name    string
					st      testrng.State
					entropy []byte
					ok      bool
				}{
					{"rdseed", testrng.State{X: 1234}, nil, true},
					{"rdseed-with-entropy", testrng.State{X: 1234}, ent, true},
					{"rdrand-after-rdseed-gives-up", testrng.State{X: 77, SeedFail: 1 << 40}, ent, true},
					{"all-ones-retried", testrng.State{X: 77, Ones: 3}, nil, true},
					{"both-give-up", testrng.State{X: 77, SeedFail: 1 << 40, RandFail: 1 << 40}, nil, false},
				} {
					model := c.st
					want := make([]byte, n)
					for i := 0; i < n/8; i++ {
						w, _ := testrng.Draw(&model, both)
						for j := 0; j < 8; j++ {
							want[8*i+j] = byte(w >> (8 * j))
						}
					}
					if c.entropy != nil {
						subtle.XORBytes(want, want, c.entropy)
					}
					opts := append([]Option(nil), v.opts...)
					if c.entropy != nil {
						opts = append(opts, WithEntropy(c.entropy))
					}
					testrng.Source = c.st
					ci, err := NewRandom(n, opts...)
					got := testrng.Source
					if !c.ok {
						if !errors.Is(err, ErrRandomSource) || ci != nil {
							t.Errorf("%s: %v, Cipher %v", c.name, err, ci != nil)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%s: %v", c.name, err)
					}
					if got.Seeds != model.Seeds || got.Rands != model.Rands || got.X != model.X {
						t.Errorf("%s: drew %+v, the model %+v", c.name, got, model)
					}
					ref, _ := aes.NewCipher(want)
					wantCT, gotCT := make([]byte, 16), make([]byte, 16)
					ref.Encrypt(wantCT, randomBlock)
					ci.Encrypt(gotCT, randomBlock)
					if !bytes.Equal(gotCT, wantCT) {
						t.Errorf("%s: the Cipher's key is not the source's words XOR the entropy", c.name)
					}
				}
			})
		})
	}
	t.Run("xts", func(t *testing.T) {
		forEachOnce(t, 32, func(t *testing.T, v variant) {
			ent := randBytes(64)
			testrng.Source = testrng.State{X: 4321}
			x, err := NewXTSRandom(64, append(v.opts, WithEntropy(ent))...)
			if err != nil {
				t.Fatal(err)
			}
			key := testrng.Key(4321, 64)
			subtle.XORBytes(key, key, ent)
			ref, err := xts.NewCipher(aes.NewCipher, key)
			if err != nil {
				t.Fatal(err)
			}
			src := bytes.Repeat(randomBlock, 4)
			got, want := make([]byte, len(src)), make([]byte, len(src))
			if err := x.Encrypt(got, src, 9); err != nil {
				t.Fatal(err)
			}
			ref.Encrypt(want, src, 9)
			if !bytes.Equal(got, want) {
				t.Error("NewXTSRandom's keys are not the source's next 8 words XOR the entropy")
			}
		})
	})
}
