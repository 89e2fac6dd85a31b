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
