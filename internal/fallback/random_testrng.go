//go:build aeskl_testrng

package fallback

import (
	"encoding/binary"

	"github.com/go-keylocker/keylocker/internal/kernel"
	"github.com/go-keylocker/keylocker/internal/testrng"
)

// randomFill fills b (a multiple of 8 bytes) from the test source of builds
// with the aeskl_testrng tag, word by word as the assembly draws them
// (little-endian, both instructions allowed); false if a word could not be
// drawn.
func randomFill(b []byte) bool {
	for i := 0; i < len(b); i += 8 {
		w, ok := testrng.Draw(&testrng.Source, kernel.RandRDSEED|kernel.RandRDRAND)
		if !ok {
			return false
		}
		binary.LittleEndian.PutUint64(b[i:], w)
	}
	return true
}
