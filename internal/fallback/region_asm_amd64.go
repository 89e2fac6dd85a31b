//go:build amd64 && !purego && keylocker_sealedinit

// TODO(fallback): drop the keylocker_sealedinit tag once internal/asm
// exports SealedInit (being written concurrently); until then the region's
// precomputation at 64..432 stays zero on amd64.

package fallback

import "github.com/go-keylocker/keylocker/internal/asm"

func init() { initPrecomp = asm.SealedInit }
