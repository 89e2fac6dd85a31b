package kernel

// The GHASH table (internal/asm/ghash's GHASHTable): its layout, read and
// written by the generated assembly at these byte offsets, and the values
// of its path word. The ghash package declares the table with these
// constants and its tests check the field offsets with unsafe.Offsetof.
const (
	// GHASHPowers: H^32 .. H^1 (times x, internal form), 16 bytes each,
	// at GHASHTablePow.
	GHASHPowers = 32
	// GHASHKarTerms: the Karatsuba middle terms of the last GHASHKarTerms
	// powers (H^8 .. H^1), 16 bytes each, at GHASHTableKar.
	GHASHKarTerms = 8

	GHASHTablePow  = 0                                // [GHASHPowers][16]byte
	GHASHTableKar  = GHASHTablePow + 16*GHASHPowers   // [GHASHKarTerms][16]byte
	GHASHTablePath = GHASHTableKar + 16*GHASHKarTerms // uint64: one of GHASHPath*
	GHASHTableSize = GHASHTablePath + 8               // the whole table
)

// Values of the GHASH table's path word: which loop GHASHUpdate runs.
const (
	GHASHPathXmm = 0 // PCLMULQDQ on xmm, 8 blocks per reduction
	GHASHPathZmm = 1 // VPCLMULQDQ on zmm (EVEX), 32 blocks per reduction
	GHASHPathYmm = 2 // VPCLMULQDQ on ymm (VEX), 16 blocks per reduction
)

// The message descriptor of the sealed multi-message GCM kernel
// (internal/asm/sealed's GCMMessage): its layout, read and written by the
// generated assembly at these byte offsets. The sealed package's tests
// check the field offsets with unsafe.Offsetof.
const (
	GCMMsgDst  = 0  // *byte: where the output goes
	GCMMsgSrc  = 8  // *byte: the input
	GCMMsgLen  = 16 // int: the bytes of the input (and the output)
	GCMMsgJ0   = 24 // [16]byte: the pre-counter block J0
	GCMMsgAcc  = 40 // [16]byte: in, the GHASH state; out, the tag
	GCMMsgLens = 56 // [16]byte: the length block
	GCMMsgSize = 72 // the whole descriptor
)
