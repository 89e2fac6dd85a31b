// Package sealed is the sealed software fallback of Key Locker: AES-NI and
// VAES routines that take a Key Locker handle, unwrap it with the process
// wrapping key region and keep the AES key and its round keys in vector
// registers only (plus, for the AES-NI and ymm paths with many blocks, a
// stack area that is wiped before return). It is built on amd64 without
// the purego tag; elsewhere it is empty.
//
// A process-wide wrapping key lives in a 4096-byte region (see
// ARCHITECTURE.md, "internal/fallback: the wrapping key region"; the
// offsets are internal/kernel's Region*):
//
//	region[0:16]    IK, the POLYVAL key H
//	region[16:48]   EK, the AES-256 wrapping key
//	region[64:304]  the 15 AES-256 encryption round keys of EK (SealedInit)
//	region[304:432] H_1..H_8, H_1 = H, H_(k+1) = dot(H_k, H) (RFC 8452 dot),
//	                as little-endian 128-bit values (SealedInit)
//	region[432:640] InvMixColumns of EK's round keys 1-13: the decryption
//	                round keys of the equivalent inverse cipher (SealedInit)
//
// Handles are Key Locker handles (Intel KLS handle format 1.4, see
// internal/handle): metadata || tag || wrapped key, 48 bytes for AES-128 and
// 64 bytes for AES-256 and for the project's AES-192 key type 2. The routines
// produce and consume them so that, once a handle exists, the AES key and
// its key schedule exist only in vector registers while a routine runs
// (and, on the AES-NI and ymm paths when there is data to process (ECB:
// two or more blocks), in a stack area
// of the routine's own frame that is zeroed before it returns: the
// goroutine stack cannot move during an assembly call, which has no
// preemption point and cannot grow the stack).
//
// Signals: the kernel saves the vector registers into the signal frame on
// the thread's signal stack when it delivers a signal. Every routine here
// calls internal/asm's signal-frame hooks (through sigArm and sigCheck, see
// hooks_amd64.go): the arm hook on entry, before any key byte is loaded,
// and the check hook before each return, after every vector register is
// zero, so a frame taken during the call is zeroed before the routine
// returns. What remains: during a call, that frame (and the stack area
// above) holds the keys until the routine returns; the kernel's own copy
// of a thread's registers on a context switch is kernel memory; a debugger
// that stops the thread inside a call (ptrace, gcore) reads its registers.
// Go never preempts assembly asynchronously, so the Go runtime itself does
// not spill these registers.
//
// Register use (all ABI0): general registers AX, BX, CX, DX, SI, DI,
// R8-R14 (addresses, counts, the key type, the flags and the CTR counter:
// nothing secret); vector registers X0-X15 on every path, Y0-Y12 on the ymm
// path, Z0-Z31 and K1 on the zmm path. Every vector register a routine used
// is zero when it returns, on every return path: PXOR of X0-X15 on the
// AES-NI path and on rejection (no AVX needed), VZEROALL on the ymm path,
// VZEROALL plus VPXORD of Z16-Z31 on the zmm path. Each routine's
// declaration states its own contract. The region needs no particular
// alignment.
//
// The assembly (sealed_amd64.s: SealedInit, sealedEncodeKey, the ECB
// routines; sealedmodes_amd64.s: the mode kernels) and its Go declarations
// with their contracts (sealed_amd64.go, sealedmodes_amd64.go) are generated
// by the sealed command of the internal/asm/_asm module, which writes every
// path (xmm, ymm, zmm), key size and direction from one source; do not edit
// them. The Go wrappers and the path constants are in api_amd64.go.
package sealed

import (
	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// Handle is a handle in 64 bytes, as every layer of the project passes it.
type Handle = handle.Handle

// Region is the software wrapping key region (internal/fallback).
type Region = kernel.Region

//go:generate sh -c "cd ../_asm && go run ./sealed -part ecb -out ../sealed/sealed_amd64.s -stubs ../sealed/sealed_amd64.go -pkg sealed"
//go:generate sh -c "cd ../_asm && go run ./sealed -part modes -out ../sealed/sealedmodes_amd64.s -stubs ../sealed/sealedmodes_amd64.go -pkg sealed"
//go:generate sh -c "cd ../_asm && go run ./sealed -part random -out ../sealed/sealedrandom_amd64.s -stubs ../sealed/sealedrandom_amd64.go -pkg sealed"
//go:generate sh -c "cd ../_asm && go run ./sealed -part random-test -out ../sealed/sealedrandom_testrng_amd64.s -stubs ../sealed/sealedrandom_testrng_amd64.go -pkg sealed"
