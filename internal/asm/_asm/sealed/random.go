package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// encodeRandom writes sealedEncodeRandom: the wrap of sealedEncodeKey on a
// key drawn word by word from the CPU's random source (gen.RandomWord)
// into X1 (X2) and XORed there with the caller's entropy: the key never
// exists in memory.
func encodeRandom(test bool) {
	TEXT("sealedEncodeRandom", NOSPLIT, fmt.Sprintf("func(region %s, keyLen int, restrictions uint32, entropy *[32]byte, sources int, h *Handle) bool", regionArg))
	Pragma("noescape")
	source := "the CPU's random source (RDSEED, falling back to RDRAND)"
	if test {
		source = "the test source of builds with the aeskl_testrng tag (internal/testrng's State that the package variable testRNG points to, read in place of every RDSEED and RDRAND)"
	}
	Doc(gen.DocLines(fmt.Sprintf(docEncodeRandom, source, kernel.RandSeedTries, kernel.RandRDSEED,
		kernel.RandRandTries, kernel.RandRDRAND))...)
	arm()
	Load(Param("sources"), R8)
	Load(Param("entropy"), RAX)
	fail := label("fail")
	rr := gen.RandomRegs{Dst: R9, Count: R10, Sources: R8, State: R11, Tmp: RBX}
	wrapKey(func(k *keySize) {
		Commentf("AES-%d: %d random words into X1 (X2), XORed with the entropy.", k.bits, k.bits/64)
		for i := 0; i < k.bits/64; i++ {
			gen.RandomWord(rr, fail, test, fmt.Sprintf("%d_%d", k.bits, i))
			switch i {
			case 0:
				MOVQ(R9, X1)
			case 1:
				PINSRQ(U8(1), R9, X1)
			case 2:
				MOVQ(R9, X2) // the high half zero: AES-192's pad
			case 3:
				PINSRQ(U8(1), R9, X2)
			}
		}
		XORL(R9L, R9L)
		MOVOU(Mem{Base: RAX}, X7)
		PXOR(X7, X1)
		switch k {
		case kAES256:
			MOVOU(Mem{Base: RAX, Disp: 16}, X7)
			PXOR(X7, X2)
		case kAES192:
			MOVQ(Mem{Base: RAX, Disp: 16}, X7)
			PXOR(X7, X2)
		}
	}, resTrue)
	Comment("A word could not be drawn: nothing was stored.")
	epilogue(fail, usage{vec: 16}, "", func() { XORL(R9L, R9L) }, resFalse)
}
