//go:build amd64 && !purego && aeskl_testrng

package sealed

import (
	"bytes"
	"crypto/subtle"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel"
	"github.com/go-keylocker/keylocker/internal/testrng"
)

// TestSealedEncodeRandomTestSource: with the test source, the wrapped key
// is exactly its words XOR the entropy, the retry discipline is the model's
// (internal/testrng.Draw) and a source that fails every try gives false.
func TestSealedEncodeRandomTestSource(t *testing.T) {
	sealedRequireAESNI(t)
	region, iw := sealedRegion(t, nil)
	both := kernel.RandRDSEED | kernel.RandRDRAND
	ent := [32]byte{}
	copy(ent[:], sealedRand(32))
	for _, n := range []int{16, 24, 32} {
		for _, c := range []struct {
			name    string
			st      testrng.State
			sources int
			ok      bool
		}{
			{"rdseed", testrng.State{X: 11}, both, true},
			{"rdseed-after-99-failures", testrng.State{X: 11, SeedFail: kernel.RandSeedTries - 1}, both, true},
			{"rdrand-after-rdseed-gives-up", testrng.State{X: 11, SeedFail: 1 << 40}, both, true},
			{"rdrand-only", testrng.State{X: 11}, kernel.RandRDRAND, true},
			{"all-ones-retried", testrng.State{X: 11, Ones: 5}, both, true},
			{"both-give-up", testrng.State{X: 11, SeedFail: 1 << 40, RandFail: 1 << 40}, both, false},
		} {
			model := c.st
			want := make([]byte, n)
			okModel := true
			for i := 0; i < n/8; i++ {
				w, ok := testrng.Draw(&model, c.sources)
				okModel = okModel && ok
				for j := 0; j < 8; j++ {
					want[8*i+j] = byte(w >> (8 * j))
				}
			}
			subtle.XORBytes(want, want, ent[:n])
			if okModel != c.ok {
				t.Fatalf("%s: the model says %v", c.name, okModel)
			}
			testrng.Source = c.st
			var h Handle
			ok := SealedEncodeRandom(region, n, 0, &ent, c.sources, &h)
			got := testrng.Source
			if ok != c.ok {
				t.Fatalf("AES-%d %s: ok = %v", 8*n, c.name, ok)
			}
			if got.Seeds != model.Seeds || got.Rands != model.Rands || got.X != model.X {
				t.Errorf("AES-%d %s: the routine drew %+v, the model %+v", 8*n, c.name, got, model)
			}
			if !ok {
				if h != (Handle{}) {
					t.Errorf("AES-%d %s: h written on failure", 8*n, c.name)
				}
				continue
			}
			key, _, _, err := handle.Unwrap(iw, h[:handle.SizeForKeyType(handle.KeyType(n))])
			if err != nil || !bytes.Equal(key, want) {
				t.Errorf("AES-%d %s: key %x, want %x (%v)", 8*n, c.name, key, want, err)
			}
		}
	}
}
