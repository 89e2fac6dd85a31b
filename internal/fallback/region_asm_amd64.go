//go:build amd64 && !purego

package fallback

import "github.com/go-keylocker/keylocker/internal/asm"

// On amd64 the sealed AES-NI / VAES code needs the EK round keys and the
// POLYVAL key powers at region[64:432]; SealedInit computes them from IK/EK
// in registers, while the region is still writable.
func init() { initPrecomp = asm.SealedInit }
