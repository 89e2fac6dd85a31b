//go:build !aeskl_testrng

package fallback

import "crypto/rand"

// randomFill fills b from crypto/rand, which writes straight into it (see
// GenericEncodeRandom) and never fails.
func randomFill(b []byte) bool {
	rand.Read(b)
	return true
}
