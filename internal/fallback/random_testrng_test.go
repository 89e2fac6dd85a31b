//go:build aeskl_testrng

package fallback

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/testrng"
)

const testRNGBuild = true

// TestGenericEncodeRandomTestSource: with the test source the handle holds
// exactly its words XOR the entropy; a failing source gives ErrRandom and
// leaves h untouched.
func TestGenericEncodeRandomTestSource(t *testing.T) {
	r, iw := testRegion(t)
	var ent [32]byte
	for i := range ent {
		ent[i] = byte(3*i + 1)
	}
	for _, n := range []int{16, 24, 32} {
		testrng.Source = testrng.State{X: 99}
		var h handle.Handle
		if err := GenericEncodeRandom(r, n, 0, &ent, &h); err != nil {
			t.Fatal(err)
		}
		if got, want := unwrapped(t, iw, &h, n), xorInto(testrng.Key(99, 32)[:n], ent[:]); !bytes.Equal(got, want) {
			t.Errorf("AES-%d: key %x, want %x", 8*n, got, want)
		}
		testrng.Source = testrng.State{X: 99, SeedFail: 1 << 40, RandFail: 1 << 40}
		h = handle.Handle{7}
		if err := GenericEncodeRandom(r, n, 0, &ent, &h); !errors.Is(err, ErrRandom) || h != (handle.Handle{7}) {
			t.Errorf("AES-%d: failing source: %v, h written: %v", 8*n, err, h != (handle.Handle{7}))
		}
	}
}

// unwrapped returns the key inside h.
func unwrapped(t *testing.T, iw *handle.IWKey, h *handle.Handle, n int) []byte {
	t.Helper()
	key, _, _, err := handle.Unwrap(iw, h[:handle.SizeForKeyType(handle.KeyType(n))])
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// xorInto returns a XOR b[:len(a)].
func xorInto(a, b []byte) []byte {
	out := bytes.Clone(a)
	subtle.XORBytes(out, out, b[:len(a)])
	return out
}
