//go:build !linux

package guardtest

import "testing"

// Buffer skips t: guard-page buffers are made on Linux only.
func Buffer(t testing.TB, n int, end bool) []byte {
	t.Helper()
	t.Skip("SKIPPED: guard-page buffers are made on Linux only")
	return nil
}
