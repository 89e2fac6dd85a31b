// Package kernel defines, once, the constants that every implementation's
// kernels share: the mode flags passed to the CTR, CBC, XTS and GCM
// kernels, the data paths of the sealed assembly and GHASH, the wrapping
// key region's size, layout and type, and the GHASH table's layout. The
// assembly generators (internal/asm/_asm) import this package and write
// its values into the generated code; internal/fallback, the assembly
// packages and aeskl take them from here. It has no build tags and imports
// nothing.
package kernel

// Mode flags (the flags argument of the mode kernels).
const (
	// ModeKey256: an AES-256 handle (Key Locker: the AES*256KL forms).
	ModeKey256 = 1
	// ModeWide: Key Locker uses AES*WIDE*KL for each full group of 8 blocks.
	ModeWide = 2
	// ModeInc32: CTR increments only the low 32 bits of the counter,
	// mod 2^32 (GCM's inc32).
	ModeInc32 = 4
	// ModeDecrypt: XTS decrypts.
	ModeDecrypt = 8
)

// Data paths of the sealed assembly (and of GHASH): what aeskl's CPU
// decision passes down.
const (
	PathAESNI   = 0 // AES-NI on xmm, 8 blocks in flight
	PathVAES256 = 1 // VAES on ymm (VEX), 16 blocks in flight
	PathVAES512 = 2 // VAES on zmm (EVEX), 32 blocks in flight
)

// The software wrapping key region (internal/fallback): its size and the
// byte offsets of what it holds. The sealed assembly reads IK, EK's round
// keys and the POLYVAL powers at these offsets.
const (
	RegionSize    = 4096
	RegionIK      = 0   // 16 bytes: the POLYVAL key IK (H)
	RegionEK      = 16  // 32 bytes: the AES-256 wrapping key EK
	RegionRoundEK = 64  // 15 x 16 bytes: the AES-256 encryption round keys of EK (amd64)
	RegionHPowers = 304 // 8 x 16 bytes: H^1..H^8, RFC 8452 dot-powers (amd64)
	RegionRoundDK = 432 // 13 x 16 bytes: InvMixColumns of EK's round keys 1-13, the decryption round keys of the equivalent inverse cipher (amd64)
	RegionEnd     = 640 // end of the used bytes
)

// Region is the wrapping key region's bytes (internal/fallback creates and
// guards it; the sealed assembly reads it).
type Region [RegionSize]byte

// The CPU's random source, as the routines that draw a key inside
// themselves (aeskl.NewRandom) use it: the sources argument says which
// instructions the CPU has (the routine never executes another), and each
// 64-bit word is tried at most RandSeedTries times with RDSEED (PAUSE
// between tries), then at most RandRandTries times with RDRAND, before the
// routine gives up. A word of all ones with CF=1 counts as a failed try
// (the value a broken RDRAND returns forever).
const (
	RandRDSEED    = 1   // sources: RDSEED exists (CPUID.(EAX=07H,ECX=0):EBX[18])
	RandRDRAND    = 2   // sources: RDRAND exists (CPUID.01H:ECX[30])
	RandSeedTries = 100 // RDSEED tries per word
	RandRandTries = 10  // RDRAND tries per word
)
