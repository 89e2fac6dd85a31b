//go:build amd64 && !purego

package fallback

import (
	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/asm"
)

// On amd64 the sealed AES-NI / VAES code needs the EK round keys and the
// POLYVAL key powers at region[64:432]; SealedInit computes them from IK/EK
// in registers, while the region is still writable. It uses AES-NI,
// PCLMULQDQ, SSSE3 and SSE4.1: on a CPU without them (where aeskl never picks
// the sealed path) the precomputation stays zero, which the generic code
// does not need.
func init() {
	if cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSSE3 && cpu.X86.HasSSE41 {
		initPrecomp = asm.SealedInit
	}
}
