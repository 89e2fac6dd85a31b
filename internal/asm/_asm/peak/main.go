// Command peak writes internal/asm/peak (peak_amd64.s, peak_amd64.go): the
// raw AES rate of each register width, the ceiling the sealed paths and
// `aeskl bench` measure themselves against.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
)

func main() {
	ConstraintExpr("amd64,!purego")
	TEXT("AES", NOSPLIT, "func(width, iters int)")
	Doc(gen.DocLines(`AES runs iters iterations of AES-128 encryption on 12 independent
blocks per lane set held in registers (12 xmm registers for width 16 with
legacy-SSE AESENC, 12 ymm for width 32 with VEX VAESENC, 12 zmm for width
64 with EVEX VAESENC), one round key in a register, 9 AESENC and one
AESENCLAST per block: each iteration encrypts 12*width bytes. Nothing is
loaded or stored: it measures the CPU's AES rate for that width, the
ceiling of any AES code of that width. It needs AES-NI (width 16), VAES
and AVX2 (32), VAES and AVX-512F (64); it zeroes the registers it used.
The data and the round key are zero: no key material is involved.`)...)
	Load(Param("iters"), RCX)
	Load(Param("width"), RAX)
	CMPQ(RAX, U8(32))
	JEQ(LabelRef("ymm"))
	JA(LabelRef("zmm"))
	x := gen.XRange(0, 11)
	loop("xmm", x, X15, func(k, r VecPhysical) { AESENC(k, r) }, func(k, r VecPhysical) { AESENCLAST(k, r) },
		func(r VecPhysical) { PXOR(r, r) })
	gen.Clear(append(x, X15)...)
	RET()
	Label("ymm")
	y := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}
	loop("ymm", y, Y15, func(k, r VecPhysical) { VAESENC(k, r, r) }, func(k, r VecPhysical) { VAESENCLAST(k, r, r) },
		func(r VecPhysical) { VPXOR(r, r, r) })
	VZEROALL()
	RET()
	Label("zmm")
	z := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11}
	loop("zmm", z, Z16, func(k, r VecPhysical) { VAESENC(k, r, r) }, func(k, r VecPhysical) { VAESENCLAST(k, r, r) },
		func(r VecPhysical) { VPXORQ(r, r, r) })
	VPXORQ(Z16, Z16, Z16)
	VZEROALL()
	RET()
	Generate()
}

// loop zeroes key and the data registers rs (with zero), then runs CX
// iterations of 9 rounds (enc) and a last round (last) on every register
// of rs with the round key key: the same loop for every register width.
func loop(name string, rs []VecPhysical, key VecPhysical, enc, last func(k, r VecPhysical), zero func(VecPhysical)) {
	zero(key)
	for _, r := range rs {
		zero(r)
	}
	Label(name + "loop")
	for round := 0; round < 9; round++ {
		for _, r := range rs {
			enc(key, r)
		}
	}
	for _, r := range rs {
		last(key, r)
	}
	DECQ(RCX)
	JNZ(LabelRef(name + "loop"))
}
