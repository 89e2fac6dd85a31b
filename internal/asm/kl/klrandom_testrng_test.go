//go:build amd64 && !purego && aeskl_testrng

package kl

import (
	"bytes"
	"crypto/aes"
	"crypto/subtle"
	"regexp"
	"testing"

	"github.com/go-keylocker/keylocker/internal/kernel"
	"github.com/go-keylocker/keylocker/internal/testrng"
)

// randomForbidden: the test source's sequence reads testRNG (RIP-relative).
var randomForbidden = regexp.MustCompile(`%xmm(8|9|1[0-5])\b|%r1[2-5]`)

// TestKLEncodeRandomTestSource: with the test source, the handle holds
// exactly its words XOR the entropy, the tries follow the model
// (internal/testrng.Draw), and a source that fails every try gives false.
func TestKLEncodeRandomTestSource(t *testing.T) {
	klRequire(t, false)
	both := kernel.RandRDSEED | kernel.RandRDRAND
	var ent [32]byte
	copy(ent[:], klRand(t, 32))
	for _, bits := range []int{128, 256} {
		n := bits / 8
		for _, c := range []struct {
			name    string
			st      testrng.State
			sources int
			ok      bool
		}{
			{"rdseed", testrng.State{X: 5}, both, true},
			{"rdrand-after-rdseed-gives-up", testrng.State{X: 5, SeedFail: 1 << 40}, both, true},
			{"all-ones-retried", testrng.State{X: 5, Ones: 2}, both, true},
			{"both-give-up", testrng.State{X: 5, SeedFail: 1 << 40, RandFail: 1 << 40}, both, false},
		} {
			model := c.st
			want := make([]byte, n)
			for i := 0; i < n/8; i++ {
				w, _ := testrng.Draw(&model, c.sources)
				for j := 0; j < 8; j++ {
					want[8*i+j] = byte(w >> (8 * j))
				}
			}
			subtle.XORBytes(want, want, ent[:n])
			testrng.Source = c.st
			var h Handle
			_, ok := klEncodeRandom(bits, 0, &ent, c.sources, &h)
			if ok != c.ok {
				t.Fatalf("AES-%d %s: ok = %v", bits, c.name, ok)
			}
			if got := testrng.Source; got.Seeds != model.Seeds || got.Rands != model.Rands || got.X != model.X {
				t.Errorf("AES-%d %s: the routine drew %+v, the model %+v", bits, c.name, got, model)
			}
			if ok {
				klCheckRandomKey(t, bits, &h, want)
			} else if h != (Handle{}) {
				t.Errorf("AES-%d %s: h written on failure", bits, c.name)
			}
		}
	}
}

// klemuMustTestSource: under klemu the test source's test must pass too.
var klemuMustTestSource = []string{"TestKLEncodeRandomTestSource"}

// klCheckRandomKey checks that the handle h holds key: its encryption of a
// block is crypto/aes's.
func klCheckRandomKey(t *testing.T, bits int, h *Handle, key []byte) {
	t.Helper()
	enc := EncryptKL128
	if bits == 256 {
		enc = EncryptKL256
	}
	block := []byte("a fixed block...")
	got := make([]byte, 16)
	if !enc(h, got, block) {
		t.Fatalf("AES-%d: the handle is refused", bits)
	}
	ref, _ := aes.NewCipher(key)
	want := make([]byte, 16)
	ref.Encrypt(want, block)
	if !bytes.Equal(got, want) {
		t.Errorf("AES-%d: the handle does not hold the expected key %x", bits, key)
	}
}
