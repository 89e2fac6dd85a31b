package fallback

import (
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
)

// TestGenericEncodeRandom: handles the reference unwraps, with the key
// type and restrictions asked for and a different key each time.
func TestGenericEncodeRandom(t *testing.T) {
	if testRNGBuild {
		t.Skip("this build has the aeskl_testrng tag: TestGenericEncodeRandomTestSource checks the exact keys instead")
	}
	r, iw := testRegion(t)
	var zero [32]byte
	for _, n := range []int{16, 24, 32} {
		seen := map[string]bool{}
		for i := 0; i < 4; i++ {
			var h handle.Handle
			if err := GenericEncodeRandom(r, n, handle.NoEncrypt, &zero, &h); err != nil {
				t.Fatal(err)
			}
			key, restr, kt, err := handle.Unwrap(iw, h[:handle.SizeForKeyType(handle.KeyType(n))])
			if err != nil || len(key) != n || restr != handle.NoEncrypt || kt != handle.KeyType(n) {
				t.Fatalf("AES-%d: %d-byte key, restrictions %d, key type %d, %v", 8*n, len(key), restr, kt, err)
			}
			if seen[string(key)] {
				t.Fatalf("AES-%d: the same key twice", 8*n)
			}
			seen[string(key)] = true
		}
	}
}
