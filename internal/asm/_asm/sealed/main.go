// Command sealed writes internal/asm/sealed's assembly and its Go
// declarations: the sealed software fallback of Key Locker, AES-NI and VAES
// routines that take a Key Locker handle, unwrap it in registers with the
// process wrapping key region and keep the key schedule in vector registers
// (and a stack area they wipe). With -part ecb it writes SealedInit,
// sealedEncodeKey, SealedEncrypt and SealedDecrypt (sealed_amd64.s/.go),
// with -part modes the mode kernels sealedCTR, SealedCBCEncrypt,
// SealedCBCDecrypt, SealedXTS, SealedXTSSectors, sealedGCM and
// sealedGCMMessages (sealedmodes_amd64.s/.go), with -part random
// sealedEncodeRandom (sealedrandom_amd64.s/.go: the key drawn from
// RDSEED/RDRAND inside the routine) and with -part random-test the same
// routine drawing from the test source of builds with the aeskl_testrng
// tag (sealedrandom_testrng_amd64.s/.go). Run it through go generate in
// internal/asm/sealed.
//
// One source for every variant: the xmm (AES-NI, SSE), ymm (VAES, VEX) and
// zmm (VAES, EVEX) paths are values of path (vec.go), the key sizes values
// of keySize, encryption or decryption a parameter, the batch sizes data of
// the path (stages); every return path's register clearing and stack wipe
// is epilogue. The region layout comes from internal/kernel, the handle
// format from internal/handle.
package main

import (
	"flag"
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

var part = flag.String("part", "ecb", "what to write: ecb (SealedInit, sealedEncodeKey, SealedEncrypt, SealedDecrypt), modes (the mode kernels), random or random-test (sealedEncodeRandom)")

func main() {
	flag.Parse()
	switch *part {
	case "random":
		ConstraintExpr("amd64,!purego,!aeskl_testrng")
	case "random-test":
		ConstraintExpr("amd64,!purego,aeskl_testrng")
	default:
		ConstraintExpr("amd64,!purego")
	}
	gen.DeclareArrayType("Handle", 64)
	gen.DeclareArrayType("Region", kernel.RegionSize)
	gen.DeclareArrayType("GHASHTable", kernel.GHASHTableSize)
	// A struct in the sealed package; only its pointer is passed.
	gen.DeclareArrayType("GCMMessage", kernel.GCMMsgSize)
	keyConsts()
	switch *part {
	case "ecb":
		sealedInit()
		encodeKey()
		ecb(false)
		ecb(true)
	case "random", "random-test":
		encodeRandom(*part == "random-test")
	case "modes":
		modeConsts()
		ctr()
		cbcEncrypt()
		cbcDecrypt()
		xts()
		xtsSectors()
		gcm()
		gcmMessages()
	default:
		log.Fatalf("sealed: unknown -part %q", *part)
	}
	Generate()
}

// regionArg is the type of the region argument (the package declares
// Region as an alias of fallback.Region).
var regionArg = "*Region"

// spillFrame is the frame of the routines that spill the schedule: the
// 240-byte area plus up to 15 bytes to align it.
const spillFrame = 256

var nlab int

// label returns a fresh label (labels are function-scoped; the counter
// only keeps names distinct).
func label(prefix string) LabelRef {
	nlab++
	return LabelRef(fmt.Sprintf("%s%d", prefix, nlab))
}

func here(l LabelRef) { Label(string(l)) }

// loopAlign is the alignment of every loop head (the Go linker aligns
// functions to 32 bytes): the loops' speed then does not depend on the
// size of the code before them.
const loopAlign = 32

// loopHead places l, a loop head, at a multiple of loopAlign (PCALIGN pads
// with NOPs, run once on entering the loop). The zero-width NOP before the
// PCALIGN takes any label placed just before the loop head: a jump whose
// target is a PCALIGN itself makes the Go 1.26 assembler loop forever
// (its span pass does not reset the PCALIGN's list of forward jumps; a
// NOP in front is the known workaround).
func loopHead(l LabelRef) {
	NOP()
	gen.Raw("PCALIGN", U8(loopAlign))
	here(l)
}

// result is what a return path stores in the bool result.
type result int

const (
	noResult result = iota
	resFalse
	resTrue
)

func retMem() Mem {
	b, err := ReturnIndex(0).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// usage is what a return path must clear: the vector registers (vec: 0
// none, 16 X0-X15 with PXOR, no AVX needed; 32 VZEROALL, which zeroes
// Z0-Z15 entirely; 64 VZEROALL and Z16-Z31), the mask register K1, and
// spans of the stack area at R10 (zeroed with X0, zero by then).
type usage struct {
	vec  int
	mask bool
	wipe []span
}

// arm emits the arm hook: the first thing every key-holding routine does.
func arm() {
	gen.Hook("sigArm", "Before any key byte is loaded: arm the signal-frame check.")
}

// epilogue writes a return path; every return of every routine is written
// by it. At entry (if set) it clears what u says, then at bare (if set: an entry for paths
// that have nothing to clear) runs after (stores from general registers),
// stores res and returns through the signal-frame check hook, which comes
// after every vector register is zero.
func epilogue(entry LabelRef, u usage, bare LabelRef, after func(), res result) {
	if entry != "" {
		here(entry)
	}
	if u.vec > 0 || u.mask || len(u.wipe) > 0 {
		Comment("Zero every vector register used, then the stack area.")
	}
	if u.mask {
		KXORW(K1, K1, K1)
	}
	switch u.vec {
	case 16:
		gen.Clear(gen.XRange(0, 15)...)
	case 32:
		VZEROALL()
	case 64:
		VZEROALL()
		for _, z := range zr[16:] {
			VPXORD(z, z, z)
		}
	}
	for _, s := range u.wipe {
		for off := s.lo; off < s.hi; off += 16 {
			MOVO(X0, Mem{Base: R10, Disp: off})
		}
	}
	if bare != "" {
		here(bare)
	}
	if after != nil {
		after()
	}
	switch res {
	case resFalse:
		MOVB(U8(0), retMem())
	case resTrue:
		MOVB(U8(1), retMem())
	}
	gen.Hook("sigCheck", "Vector registers are zero: wipe the signal frame if a signal came.")
	RET()
}

// args loads the arguments every block routine shares: region (DI), h
// (SI), dst (DX, its length in R9), src (BX, CX) and, if path, the path
// (R8).
func args(h string, path bool) {
	Load(Param("region"), RDI)
	if h != "" {
		Load(Param(h), RSI)
	}
	Load(Param("dst").Base(), RDX)
	Load(Param("dst").Len(), R9)
	Load(Param("src").Base(), RBX)
	Load(Param("src").Len(), RCX)
	if path {
		Load(Param("path"), R8)
	}
}

// checkLen rejects len(dst) < len(src) (jump to early) and turns CX into
// blocks.
func checkLen(early LabelRef) {
	CMPQ(R9, RCX)
	JB(early)
	SHRQ(U8(4), RCX)
}

// dispatchPaths jumps to the wide paths' labels (the AES-NI path, and any
// other path value, falls through).
func dispatchPaths(ps ...*path) {
	for _, p := range ps {
		p.label = label(p.name + "_")
		CMPQ(R8, U8(p.id))
		JEQ(p.label)
	}
}

// advance moves the src and dst cursors by n bytes.
func advance(n int) {
	ADDQ(imm(n), RBX)
	ADDQ(imm(n), RDX)
}
