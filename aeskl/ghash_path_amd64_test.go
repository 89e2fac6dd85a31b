//go:build amd64 && !purego

package aeskl

import (
	"crypto/cipher"
	"testing"
)

// TestGHASHFollowsSealedPath: forcing a sealed path forces GCM's GHASH onto
// the same width (one CPU decision for every kernel).
func TestGHASHFollowsSealedPath(t *testing.T) {
	s := detect()
	if !s.PCLMULQDQ || !s.SSSE3 {
		t.Skip("no PCLMULQDQ: GCM uses the Go GHASH")
	}
	for p, name := range sealedPathNames {
		t.Run(name, func(t *testing.T) {
			if !sealedPathUsable(s, p) {
				t.Skipf("this CPU cannot run the %s path", name)
			}
			c, err := New(make([]byte, 16), WithImplementation(AESNISealed), withSealedPath(p))
			if err != nil {
				t.Fatal(err)
			}
			a, err := cipher.NewGCM(c)
			if err != nil {
				t.Fatal(err)
			}
			if wide := a.(*gcm).gh.t.Wide(); wide != (p != sealedAESNI) {
				t.Errorf("sealed path %s: GHASH wide = %v", name, wide)
			}
		})
	}
}
