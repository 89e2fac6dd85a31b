package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// The three data paths, one value each of path: every routine that runs
// blocks is written once, as functions of a *path, the way the Linux
// kernel's aes-xts-avx-x86_64.S instantiates one macro source for xmm, ymm
// and zmm. What differs between the paths is data here: the register
// width, where the rounds find their keys, the batches (registers per
// iteration, then the tail) and what the return paths must clear.
type path struct {
	name string
	id   int // the path argument (internal/kernel's Path*)
	vec  int // bytes per data register: 16 (xmm), 32 (ymm), 64 (zmm)
	// keys: the round keys of the batches: keysSpill (the schedule stored
	// in the stack area at R10, loaded or broadcast per round) or keysZ
	// (broadcast once into Z16-Z30, never in memory).
	keys keySrc
	// enc: the instruction encoding of the batches: legacy SSE (the AES-NI
	// path needs no AVX) or VEX/EVEX.
	enc encoding
	// ecbTail: the ECB stages after the main loop's 8 registers (see
	// stages).
	ecbTail []stage
	// modeTail: the mode kernels' batch after the main loop and before
	// single blocks (see blockLoop); zero on zmm, whose tail is masked
	// units of up to 4 blocks.
	modeTail stage
	// label: where the path starts in a routine (set per routine).
	label LabelRef
}

type encoding int

const (
	sse encoding = iota // legacy SSE: two operands, aligned memory only
	vex                 // VEX on xmm/ymm, EVEX on zmm and X16-X31
)

// keySrc is where a batch's rounds take their round keys.
type keySrc int

const (
	keysReg   keySrc = iota // X1-X15, the schedule right after expansion (slot s in X(s+1))
	keysSpill               // the spill area: slot s at 16*s(R10)
	keysZ                   // broadcast in Z16-Z30: slot s in Z(16+s)
)

// stage is one batch size of a path's block loop: regs data registers of
// size bytes, repeated while enough blocks are left (loop) or run once.
// last marks the final stage, entered with a nonzero count and taking the
// rest: one block (xmm: a loop of single blocks; ymm: one block in X0) or,
// on zmm, 1-3 blocks under a mask (masked).
type stage struct {
	regs   int
	size   int
	loop   bool
	last   bool
	masked bool
}

func (s stage) blocks() int { return s.regs * s.size / 16 }

var (
	// xmm: ECB 8 blocks per batch, then 4, then single blocks; the modes 8,
	// then 4, then single blocks.
	aesni = &path{name: "aesni", id: kernel.PathAESNI, vec: 16, keys: keysSpill, enc: sse,
		ecbTail:  []stage{{regs: 4, size: 16}, {regs: 1, size: 16, loop: true, last: true}},
		modeTail: stage{regs: 4, size: 16}}
	// ymm: ECB 16, then 8, pairs, one; the modes 16, then pairs, one.
	vaes256 = &path{name: "vaes256", id: kernel.PathVAES256, vec: 32, keys: keysSpill, enc: vex,
		ecbTail:  []stage{{regs: 4, size: 32}, {regs: 1, size: 32, loop: true}, {regs: 1, size: 16, last: true}},
		modeTail: stage{regs: 1, size: 32, loop: true}}
	// zmm: ECB 32, then 16, 4, then 1-3 under a mask; the modes 32, then
	// masked units of up to 4.
	vaes512 = &path{name: "vaes512", id: kernel.PathVAES512, vec: 64, keys: keysZ, enc: vex,
		ecbTail: []stage{{regs: 4, size: 64}, {regs: 1, size: 64, loop: true}, {regs: 1, size: 64, last: true, masked: true}}}
	paths = []*path{aesni, vaes256, vaes512}
)

// batchRegs is the number of data registers of every path's main loop.
const batchRegs = 8

// ecbStages returns the path's ECB block loop: the main batch, then the
// tail.
func (p *path) ecbStages() []stage {
	return append([]stage{{regs: batchRegs, size: p.vec, loop: true}}, p.ecbTail...)
}

// lanes is the number of blocks per data register.
func (p *path) lanes() int { return p.vec / 16 }

// main is the number of blocks of the main loop's batch.
func (p *path) main() int { return batchRegs * p.lanes() }

// one is the register a single block is processed in: X0, or Z0 on zmm
// (whose rounds take the Z keys).
func (p *path) one() VecPhysical {
	if p.keys == keysZ {
		return Z0
	}
	return X0
}

// usage is what the path's return paths clear (see epilogue).
func (p *path) usage() usage {
	switch p {
	case aesni:
		return usage{vec: 16, wipe: []span{spillSpan}}
	case vaes256:
		return usage{vec: 32, wipe: []span{spillSpan}}
	}
	return usage{vec: 64, mask: true}
}

// setup prepares the path's key source after the prologue: the schedule
// X1-X15 spilled to the 16-byte aligned stack area at R10, or broadcast
// into Z16-Z30.
func (p *path) setup(alignR10 bool) {
	if p.keys == keysZ {
		zbcast()
		return
	}
	if alignR10 {
		alignSpill()
	}
	spill()
}

// Registers by number and width.
var (
	xr = gen.X
	yr = gen.Y[:16] // the ymm path is VEX only (AVX2 CPUs without AVX-512)
	zr = gen.Z
	vr = gen.Vec
)

// regs returns registers 0..n-1 at size bytes.
func regs(n, size int) []VecPhysical {
	r := make([]VecPhysical, n)
	for i := range r {
		r[i] = vr(i, size)
	}
	return r
}

func size(r VecPhysical) int { return int(r.Size()) }

// evex reports whether an operation on r needs an EVEX-only mnemonic
// (a zmm register or X16-X31/Y16-Y31).
func evex(rs ...Op) bool {
	for _, o := range rs {
		if r, ok := o.(VecPhysical); ok && (size(r) == 64 || int(r.PhysicalIndex()) >= 16) {
			return true
		}
	}
	return false
}

// imm returns n as the shortest unsigned immediate avo accepts.
func imm(n int) Constant {
	if n < 128 {
		return U8(n)
	}
	return U32(n)
}

// ---------------------------------------------------------------------------
// Vector operations in an encoding. Memory operands of SSE instructions must
// be 16-byte aligned, so unaligned data goes through a register (X8).

func load(e encoding, m Mem, r VecPhysical) {
	switch {
	case e == sse:
		MOVOU(m, r)
	case size(r) == 64:
		VMOVDQU64(m, r)
	default:
		VMOVDQU(m, r)
	}
}

func store(e encoding, r VecPhysical, m Mem) {
	switch {
	case e == sse:
		MOVOU(r, m)
	case size(r) == 64:
		VMOVDQU64(r, m)
	default:
		VMOVDQU(r, m)
	}
}

// xorInto: dst ^= src (a register or, except on SSE, memory).
func xorInto(e encoding, src Op, dst VecPhysical) {
	switch {
	case e == sse:
		PXOR(src, dst)
	case evex(src, dst):
		VPXORD(src, dst, dst)
	default:
		VPXOR(src, dst, dst)
	}
}

// xorData: dst ^= the unaligned data at m (SSE: through X8).
func xorData(e encoding, m Mem, dst VecPhysical) {
	if e == sse {
		MOVOU(m, X8)
		PXOR(X8, dst)
		return
	}
	xorInto(e, m, dst)
}

// loadRegs / storeRegs: the registers from / to consecutive memory at base.
func loadRegs(e encoding, base Register, rs []VecPhysical) {
	for i, r := range rs {
		load(e, Mem{Base: base, Disp: i * size(r)}, r)
	}
}

func storeRegs(e encoding, base Register, rs []VecPhysical) {
	for i, r := range rs {
		store(e, r, Mem{Base: base, Disp: i * size(r)})
	}
}

// ---------------------------------------------------------------------------
// AES rounds.

type aesOp int

const (
	opXor     aesOp = iota // AddRoundKey (the first round)
	opEnc                  // AESENC
	opEncLast              // AESENCLAST
	opDec                  // AESDEC (equivalent inverse cipher)
	opDecLast              // AESDECLAST
)

// aes applies op with the round key k to the block(s) in dst.
func aes(e encoding, op aesOp, k Op, dst VecPhysical) {
	if op == opXor {
		xorInto(e, k, dst)
		return
	}
	if e == sse {
		[]func(Op, Op){nil, AESENC, AESENCLAST, AESDEC, AESDECLAST}[op](k, dst)
		return
	}
	[]func(Op, Op, Op){nil, VAESENC, VAESENCLAST, VAESDEC, VAESDECLAST}[op](k, dst, dst)
}

// batch is a set of data registers and where their rounds take the keys.
// With add (keysZ only), the first round (opXor) XORs add[i] into regs[i]
// along with the round key, in one VPTERNLOGD.
type batch struct {
	enc  encoding
	keys keySrc
	regs []VecPhysical
	add  []VecPhysical
}

// batch returns the batch of the path with the given data registers.
func (p *path) batch(rs ...VecPhysical) batch { return batch{enc: p.enc, keys: p.keys, regs: rs} }

// regBatch is one block in X0 with the schedule still in X1-X15 (SSE).
var regBatch = batch{enc: sse, keys: keysReg, regs: []VecPhysical{X0}}

// round applies op with round key slot s to every register of b.
func (b batch) round(op aesOp, s int) {
	r0 := b.regs[0]
	switch b.keys {
	case keysReg:
		aes(b.enc, op, xr[s+1], r0)
	case keysZ:
		k := vr(16+s, size(r0))
		for i, r := range b.regs {
			if op == opXor && b.add != nil {
				VPTERNLOGD(U8(0x96), b.add[i], k, r)
				continue
			}
			aes(b.enc, op, k, r)
		}
	case keysSpill:
		m := spillSlot(s)
		switch {
		case size(r0) == 16 && len(b.regs) == 1:
			aes(b.enc, op, m, r0)
		case size(r0) == 16:
			MOVO(m, X8)
			for _, r := range b.regs {
				aes(b.enc, op, X8, r)
			}
		default:
			VBROADCASTI128(m, Y8)
			for _, r := range b.regs {
				aes(b.enc, op, Y8, r)
			}
		}
	}
}

// keySize is an AES key size. The schedule is right-aligned in the slots
// 0-14 (registers X1-X15 after expansion): round key i of a key with r
// rounds is in slot first+i, first = 14-r, so the last round key is always
// slot 14 and every key size shares the rounds from slot 5 on.
type keySize struct {
	bits   int
	kt     int // key type in the handle's metadata (internal/handle)
	first  int // slot of round key 0
	blocks int // key blocks in the handle: 1 (AES-128) or 2
}

func (k *keySize) String() string { return fmt.Sprint(k.bits) }

// common is the first slot every key size uses.
const common = 5

// cryptKS runs every round of key size k (known when generating).
func (b batch) cryptKS(decrypt bool, k *keySize) {
	if decrypt {
		b.decCommon()
		b.decPrefix(k)
		return
	}
	b.encPrefix(k)
	b.encCommon()
}

func (b batch) encPrefix(k *keySize) {
	b.round(opXor, k.first)
	for s := k.first + 1; s < common; s++ {
		b.round(opEnc, s)
	}
}

func (b batch) encCommon() {
	for s := common; s < 14; s++ {
		b.round(opEnc, s)
	}
	b.round(opEncLast, 14)
}

func (b batch) decCommon() {
	b.round(opXor, 14)
	for s := 13; s >= common; s-- {
		b.round(opDec, s)
	}
}

func (b batch) decPrefix(k *keySize) {
	for s := common - 1; s > k.first; s-- {
		b.round(opDec, s)
	}
	b.round(opDecLast, k.first)
}

// crypt runs every round, the key size taken from R11 at run time: the
// rounds that differ are dispatched, the common ones are shared.
func (b batch) crypt(decrypt bool) {
	if decrypt {
		b.decCommon()
		byKeyType(roundOrder, "", b.decPrefix)
		return
	}
	byKeyType(roundOrder, "", b.encPrefix)
	b.encCommon()
}

// byKeyType dispatches on the key type in R11: CMPQ R11, $AES256; JEQ;
// JA (AES-192), AES-128 falling through. body runs for each key size in
// order (order[0] must be AES-128) and continues at join: a new label
// after the last body if join is empty, else the given one, which every
// body jumps to.
func byKeyType(order []*keySize, join LabelRef, body func(k *keySize)) {
	if order[0] != kAES128 {
		panic("byKeyType: AES-128 must come first")
	}
	lbl := map[*keySize]LabelRef{kAES256: label("k256_"), kAES192: label("k192_")}
	end := join
	if end == "" {
		end = label("kdone")
	}
	CMPQ(R11, U8(kAES256.kt))
	JEQ(lbl[kAES256])
	JA(lbl[kAES192])
	for i, k := range order {
		if i > 0 {
			Label(string(lbl[k]))
		}
		body(k)
		if join != "" || i < len(order)-1 {
			JMP(end)
		}
	}
	if join == "" {
		Label(string(end))
	}
}
