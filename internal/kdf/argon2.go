// Package kdf derives keys from passphrases with Argon2 (RFC 9106,
// version 0x13) in memory that is wiped: golang.org/x/crypto/argon2 leaves
// its block array, every block of which follows from the passphrase, and
// its output to the garbage collector. Here the passphrase's copies, the
// blocks, the BLAKE2b states (blake2b.go: x/crypto/blake2b keeps its input
// buffer and copies its state for each Sum), every buffer of H0 and H',
// and the tag before it reaches dst live in one mapping of scratch memory
// (fallback.Scratch: apart from the Go heap, locked against swap, out of
// core dumps, zero in fork children, between guard pages, as far as the
// system grants it), which is wiped and unmapped before Argon2 returns. The
// tag goes to the caller's dst: the caller decides where it lives (scratch
// memory of its own, say) and wipes it.
//
// The compression function G, nearly all of the work, runs on the
// implementation the caller names (Impl; aeskl.Detect's Argon2 field is
// the project's choice for the CPU): AVX-512VL or AVX2 assembly
// (internal/asm/blamka), which keeps a block's words in vector registers
// and the scratch memory only, zeroes the registers before it returns and
// has a signal that interrupts it wiped from the signal stack as the AES
// routines do, or Go. What the Go compiler spills to the goroutines'
// stacks (the generic G's words between two rounds of the permutation;
// with every implementation, a BLAKE2b state and the word of the previous
// block that picks the reference block) is not wiped: no Go code can reach
// those. The memory is backed by transparent huge pages where Linux can
// give them without moving locked pages (see internal/fallback's
// huge_linux.go):
// Argon2 reads its blocks at random, and with 4 KiB pages nearly every
// read misses the TLB.
//
// The reference for the tests is golang.org/x/crypto/argon2 (and RFC
// 9106's test vectors); the package is not imported outside tests. Every
// test runs on every implementation the CPU can run.
package kdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/fallback"
)

// Mode is the Argon2 type (the y of RFC 9106).
type Mode int

// The Argon2 types.
const (
	Argon2d  Mode = 0
	Argon2i  Mode = 1
	Argon2id Mode = 2
)

const (
	argon2Version = 0x13
	syncPoints    = 4 // slices per lane
	blockWords    = 128
)

// An argonBlock is one 1024-byte block as 128 words (its bytes read
// little-endian).
type argonBlock [blockWords]uint64

// argonWork is the working memory of one Argon2 call besides the blocks;
// each lane has its own scratch blocks.
type argonWork struct {
	h    blake2b
	h0   [blake2bSize + 8]byte // H0, then the two words that make a lane's first blocks
	v    [blake2bSize]byte     // H' intermediate values
	out  [1024]byte            // H' output: a block's bytes
	last argonBlock            // the XOR of the lanes' last blocks
}

// argonLane is the scratch of one lane's goroutine.
type argonLane struct {
	tmp       argonBlock // the compression's working block
	addresses argonBlock // data-independent addressing: the current address block
	input     argonBlock // and the input block it is made from
}

// Argon2 writes the Argon2 tag of type mode of the password and salt (and,
// for RFC 9106's test vectors, a secret and associated data, else nil) to
// dst, which is the tag's length (at least 4 bytes): time passes over
// memory KiB with threads lanes, computed by up to threads goroutines. It
// needs time >= 1, threads >= 1 and memory >= 8*threads; the memory is
// rounded down to a multiple of 4*threads KiB, as RFC 9106 says. All its
// working memory is mapped for the call (scratch memory, see the package
// documentation) and wiped before it returns; it fails only if that memory
// cannot be mapped.
func Argon2(dst []byte, impl Impl, mode Mode, password, salt, secret, data []byte, time, memory uint32, threads uint8) error {
	_, err := Argon2Status(dst, impl, mode, password, salt, secret, data, time, memory, threads)
	return err
}

// UnlockedNote returns what to tell a user when the working memory of an
// Argon2 (name, "argon2id" or "argon2i", over memory KiB) got st and was
// not locked against swap: a sentence with its size and the reason, or ""
// when it was locked.
func UnlockedNote(name string, memory uint32, st fallback.MemoryStatus) string {
	why := st.Unlocked()
	if why == "" {
		return ""
	}
	size := fmt.Sprintf("%d KiB", memory)
	if memory%1024 == 0 {
		size = fmt.Sprintf("%d MiB", memory/1024)
	}
	return fmt.Sprintf("%s's %s of working memory is not locked and may be swapped out (it is still wiped): %s", name, size, why)
}

// Argon2Status is Argon2, and reports the protections its working memory
// got (fallback.MemoryStatus: whether it was locked against swap, out of
// core dumps, and Notes on what was refused). mlock locks all of it or
// none: memory beyond RLIMIT_MEMLOCK (without CAP_IPC_LOCK) is not locked,
// but it is wiped all the same.
func Argon2Status(dst []byte, impl Impl, mode Mode, password, salt, secret, data []byte, time, memory uint32, threads uint8) (fallback.MemoryStatus, error) {
	var st fallback.MemoryStatus
	switch {
	case !impl.Available():
		return st, fmt.Errorf("kdf: the %q Argon2 implementation cannot run here", impl)
	case mode != Argon2d && mode != Argon2i && mode != Argon2id:
		return st, fmt.Errorf("kdf: Argon2 type %d", mode)
	case time < 1:
		return st, errors.New("kdf: Argon2 with no passes")
	case threads < 1:
		return st, errors.New("kdf: Argon2 with no lanes")
	case memory < 8*uint32(threads):
		return st, fmt.Errorf("kdf: Argon2 memory %d KiB, want at least %d KiB for %d lanes", memory, 8*uint32(threads), threads)
	case len(dst) < 4 || uint64(len(dst)) > math.MaxUint32:
		return st, fmt.Errorf("kdf: Argon2 tag of %d bytes, want at least 4", len(dst))
	case uint64(len(password)) > math.MaxUint32 || uint64(len(salt)) > math.MaxUint32 ||
		uint64(len(secret)) > math.MaxUint32 || uint64(len(data)) > math.MaxUint32:
		return st, errors.New("kdf: Argon2 input longer than 2^32-1 bytes")
	}
	p := uint32(threads)
	m, err := newArgonMemory(argon2Blocks(memory, p), p)
	if err != nil {
		return st, err
	}
	defer m.s.Close()
	st = m.s.Status()
	w, b := m.work, m.blocks
	argon2Fill(w, m.lanes, b, impl, mode, password, salt, secret, data, time, memory, uint32(len(dst)))
	laneLen := uint32(len(b)) / p

	// The tag: H' of the XOR of the lanes' last blocks.
	w.last = b[laneLen-1]
	for l := uint32(1); l < p; l++ {
		last := &b[l*laneLen+laneLen-1]
		for k := range w.last {
			w.last[k] ^= last[k]
		}
	}
	for k, x := range &w.last { // over a pointer: ranging over the array would copy it to the stack
		binary.LittleEndian.PutUint64(w.out[8*k:], x)
	}
	w.hPrime(dst, w.out[:])
	return st, nil
}

// argonMemory is all the memory of one Argon2 call, in one Scratch: the
// blocks from its first byte (a page boundary), then the lanes' scratch,
// then the rest of the work. Closing s wipes and unmaps all of it.
type argonMemory struct {
	s      *fallback.Scratch
	blocks []argonBlock
	lanes  []argonLane
	work   *argonWork
}

func newArgonMemory(blocks, lanes uint32) (*argonMemory, error) {
	const (
		blockSize = uint64(unsafe.Sizeof(argonBlock{}))
		laneSize  = uint64(unsafe.Sizeof(argonLane{}))
		workSize  = uint64(unsafe.Sizeof(argonWork{}))
		page      = 4096
	)
	size := uint64(blocks)*blockSize + uint64(lanes)*laneSize + workSize
	// A whole number of pages: the Scratch's bytes end at the end of its
	// last page, so that they start at a page boundary, aligned for the
	// words.
	size = (size + page - 1) / page * page
	if size > math.MaxInt/2 {
		return nil, fmt.Errorf("kdf: Argon2 memory of %d KiB does not fit in this process's address space", blocks)
	}
	s, err := fallback.NewScratchOf(int(size), "Argon2's working memory")
	if err != nil {
		return nil, fmt.Errorf("kdf: Argon2 memory: %w", err)
	}
	mem := s.Bytes()
	m := &argonMemory{s: s}
	m.blocks = unsafe.Slice((*argonBlock)(unsafe.Pointer(&mem[0])), blocks)
	off := uint64(blocks) * blockSize
	m.lanes = unsafe.Slice((*argonLane)(unsafe.Pointer(&mem[off])), lanes)
	off += uint64(lanes) * laneSize
	m.work = (*argonWork)(unsafe.Pointer(&mem[off]))
	return m, nil
}

// argon2Blocks is the number of blocks of Argon2's memory: memory KiB
// rounded down to whole segments, at least 2 blocks per segment.
func argon2Blocks(memory, lanes uint32) uint32 {
	blocks := memory / (syncPoints * lanes) * (syncPoints * lanes)
	return max(blocks, 2*syncPoints*lanes)
}

// argon2Fill computes the blocks b (argon2Blocks of them, zero) of
// Argon2's memory, with len(lanes) lanes.
func argon2Fill(w *argonWork, lanes []argonLane, b []argonBlock, impl Impl, mode Mode, password, salt, secret, data []byte, time, memory, keyLen uint32) {
	p := uint32(len(lanes))
	laneLen := uint32(len(b)) / p
	segLen := laneLen / syncPoints

	// H0.
	h := &w.h
	h.init(blake2bSize)
	var params [24]byte
	le := binary.LittleEndian
	le.PutUint32(params[0:], p)
	le.PutUint32(params[4:], keyLen)
	le.PutUint32(params[8:], memory)
	le.PutUint32(params[12:], time)
	le.PutUint32(params[16:], argon2Version)
	le.PutUint32(params[20:], uint32(mode))
	h.write(params[:])
	for _, in := range [][]byte{password, salt, secret, data} {
		var n [4]byte
		le.PutUint32(n[:], uint32(len(in)))
		h.write(n[:])
		h.write(in)
	}
	h.sum(w.h0[:blake2bSize])

	// The first two blocks of each lane.
	for l := range p {
		for j := range uint32(2) {
			le.PutUint32(w.h0[blake2bSize:], j)
			le.PutUint32(w.h0[blake2bSize+4:], l)
			w.hPrime(w.out[:], w.h0[:])
			blk := &b[l*laneLen+j]
			for k := range blk {
				blk[k] = le.Uint64(w.out[8*k:])
			}
		}
	}

	// The passes, one slice at a time: the lanes of a slice are
	// independent.
	var wg sync.WaitGroup
	for pass := range time {
		for slice := range uint32(syncPoints) {
			if p == 1 {
				fillSegment(b, &lanes[0], impl, mode, pass, slice, 0, p, time, laneLen, segLen)
				continue
			}
			for l := range p {
				wg.Add(1)
				go func() {
					defer wg.Done()
					fillSegment(b, &lanes[l], impl, mode, pass, slice, l, p, time, laneLen, segLen)
				}()
			}
			wg.Wait()
		}
	}
}

// fillSegment computes the blocks of segment slice of lane l in pass pass.
func fillSegment(b []argonBlock, s *argonLane, impl Impl, mode Mode, pass, slice, l, lanes, time, laneLen, segLen uint32) {
	independent := mode == Argon2i || (mode == Argon2id && pass == 0 && slice < syncPoints/2)
	if independent {
		s.input = argonBlock{}
		s.input[0] = uint64(pass)
		s.input[1] = uint64(l)
		s.input[2] = uint64(slice)
		s.input[3] = uint64(uint32(len(b)))
		s.input[4] = uint64(time)
		s.input[5] = uint64(mode)
	}
	index := uint32(0)
	if pass == 0 && slice == 0 {
		index = 2 // the lane's first two blocks are made from H0
		if independent {
			s.nextAddresses(impl)
		}
	}
	cur := l*laneLen + slice*segLen + index
	for ; index < segLen; index, cur = index+1, cur+1 {
		prev := cur - 1
		if cur == l*laneLen { // the lane's first block: its previous is the last
			prev += laneLen
		}
		var rand uint64
		if independent {
			if index%blockWords == 0 {
				s.nextAddresses(impl)
			}
			rand = s.addresses[index%blockWords]
		} else {
			rand = b[prev][0]
		}
		ref := refIndex(rand, pass, slice, l, index, lanes, laneLen, segLen)
		impl.fillBlock(&b[cur], &b[prev], &b[ref], &s.tmp, pass > 0)
	}
}

// nextAddresses makes the next block of pseudo-random words of
// data-independent addressing: G(zero, G(zero, input)), input's counter
// incremented first.
func (s *argonLane) nextAddresses(impl Impl) {
	s.input[6]++
	impl.fillBlock(&s.addresses, &zeroBlock, &s.input, &s.tmp, false)
	impl.fillBlock(&s.addresses, &zeroBlock, &s.addresses, &s.tmp, false)
}

// zeroBlock is the zero block of the address blocks' G(zero, x).
var zeroBlock argonBlock

// refIndex maps a pseudo-random word to the block a new block references
// (RFC 9106, section 3.4.1.2): J2 picks the lane, J1 the block within the
// reference set, biased towards recent blocks.
func refIndex(rand uint64, pass, slice, l, index, lanes, laneLen, segLen uint32) uint32 {
	refLane := uint32(rand>>32) % lanes
	if pass == 0 && slice == 0 {
		refLane = l
	}
	// The reference set: its size, and where it starts in the lane.
	var size, start uint32
	switch {
	case pass == 0:
		size = slice * segLen // the finished segments of this pass
		if refLane == l {
			size += index - 1 // and this one's blocks but the previous
		} else if index == 0 {
			size-- // a segment's first block does not reference the set's last
		}
	default:
		size = (syncPoints - 1) * segLen // the other three slices
		start = (slice + 1) % syncPoints * segLen
		if refLane == l {
			size += index - 1
		} else if index == 0 {
			size--
		}
	}
	x := rand & 0xffffffff
	x = x * x >> 32
	y := uint64(size) * x >> 32
	rel := uint64(size) - 1 - y
	return refLane*laneLen + uint32((uint64(start)+rel)%uint64(laneLen))
}

// fillBlockGeneric computes next = G(prev, ref), or with xor next ^= G(prev, ref):
// R = prev XOR ref, then the permutation P over R's rows and columns, and
// the result XORed with R.
func fillBlockGeneric(next, prev, ref, tmp *argonBlock, xor bool) {
	if xor {
		for i := range tmp {
			r := prev[i] ^ ref[i]
			tmp[i] = r
			next[i] ^= r
		}
	} else {
		for i := range tmp {
			r := prev[i] ^ ref[i]
			tmp[i] = r
			next[i] = r
		}
	}
	permute(tmp)
	for i := range tmp {
		next[i] ^= tmp[i]
	}
}

// permute applies P to the 8 rows (16 consecutive words each) of t, then
// to its 8 columns (words 2i, 2i+1, 2i+16, 2i+17, ..., 2i+113).
func permute(t *argonBlock) {
	for i := 0; i < blockWords; i += 16 {
		permuteRow((*[16]uint64)(t[i : i+16]))
	}
	for i := 0; i < 16; i += 2 {
		permuteColumn((*[114]uint64)(t[i : i+114]))
	}
}

// permuteRow applies P to 16 consecutive words: the BlaMka G function
// (BLAKE2b's G with each addition a+b replaced by a + b + 2*lo(a)*lo(b))
// on the columns, then on the diagonals, of the 4x4 matrix of words. The G
// calls are written out: the compiler does not inline a function of this
// size, and the calls cost a third of the time.
func permuteRow(v *[16]uint64) {
	v0, v1, v2, v3, v4, v5, v6, v7 := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	v8, v9, v10, v11, v12, v13, v14, v15 := v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]
	// GB(v0, v4, v8, v12)
	v0 += v4 + 2*uint64(uint32(v0))*uint64(uint32(v4))
	v12 = bits.RotateLeft64(v12^v0, -32)
	v8 += v12 + 2*uint64(uint32(v8))*uint64(uint32(v12))
	v4 = bits.RotateLeft64(v4^v8, -24)
	v0 += v4 + 2*uint64(uint32(v0))*uint64(uint32(v4))
	v12 = bits.RotateLeft64(v12^v0, -16)
	v8 += v12 + 2*uint64(uint32(v8))*uint64(uint32(v12))
	v4 = bits.RotateLeft64(v4^v8, -63)
	// GB(v1, v5, v9, v13)
	v1 += v5 + 2*uint64(uint32(v1))*uint64(uint32(v5))
	v13 = bits.RotateLeft64(v13^v1, -32)
	v9 += v13 + 2*uint64(uint32(v9))*uint64(uint32(v13))
	v5 = bits.RotateLeft64(v5^v9, -24)
	v1 += v5 + 2*uint64(uint32(v1))*uint64(uint32(v5))
	v13 = bits.RotateLeft64(v13^v1, -16)
	v9 += v13 + 2*uint64(uint32(v9))*uint64(uint32(v13))
	v5 = bits.RotateLeft64(v5^v9, -63)
	// GB(v2, v6, v10, v14)
	v2 += v6 + 2*uint64(uint32(v2))*uint64(uint32(v6))
	v14 = bits.RotateLeft64(v14^v2, -32)
	v10 += v14 + 2*uint64(uint32(v10))*uint64(uint32(v14))
	v6 = bits.RotateLeft64(v6^v10, -24)
	v2 += v6 + 2*uint64(uint32(v2))*uint64(uint32(v6))
	v14 = bits.RotateLeft64(v14^v2, -16)
	v10 += v14 + 2*uint64(uint32(v10))*uint64(uint32(v14))
	v6 = bits.RotateLeft64(v6^v10, -63)
	// GB(v3, v7, v11, v15)
	v3 += v7 + 2*uint64(uint32(v3))*uint64(uint32(v7))
	v15 = bits.RotateLeft64(v15^v3, -32)
	v11 += v15 + 2*uint64(uint32(v11))*uint64(uint32(v15))
	v7 = bits.RotateLeft64(v7^v11, -24)
	v3 += v7 + 2*uint64(uint32(v3))*uint64(uint32(v7))
	v15 = bits.RotateLeft64(v15^v3, -16)
	v11 += v15 + 2*uint64(uint32(v11))*uint64(uint32(v15))
	v7 = bits.RotateLeft64(v7^v11, -63)
	// GB(v0, v5, v10, v15)
	v0 += v5 + 2*uint64(uint32(v0))*uint64(uint32(v5))
	v15 = bits.RotateLeft64(v15^v0, -32)
	v10 += v15 + 2*uint64(uint32(v10))*uint64(uint32(v15))
	v5 = bits.RotateLeft64(v5^v10, -24)
	v0 += v5 + 2*uint64(uint32(v0))*uint64(uint32(v5))
	v15 = bits.RotateLeft64(v15^v0, -16)
	v10 += v15 + 2*uint64(uint32(v10))*uint64(uint32(v15))
	v5 = bits.RotateLeft64(v5^v10, -63)
	// GB(v1, v6, v11, v12)
	v1 += v6 + 2*uint64(uint32(v1))*uint64(uint32(v6))
	v12 = bits.RotateLeft64(v12^v1, -32)
	v11 += v12 + 2*uint64(uint32(v11))*uint64(uint32(v12))
	v6 = bits.RotateLeft64(v6^v11, -24)
	v1 += v6 + 2*uint64(uint32(v1))*uint64(uint32(v6))
	v12 = bits.RotateLeft64(v12^v1, -16)
	v11 += v12 + 2*uint64(uint32(v11))*uint64(uint32(v12))
	v6 = bits.RotateLeft64(v6^v11, -63)
	// GB(v2, v7, v8, v13)
	v2 += v7 + 2*uint64(uint32(v2))*uint64(uint32(v7))
	v13 = bits.RotateLeft64(v13^v2, -32)
	v8 += v13 + 2*uint64(uint32(v8))*uint64(uint32(v13))
	v7 = bits.RotateLeft64(v7^v8, -24)
	v2 += v7 + 2*uint64(uint32(v2))*uint64(uint32(v7))
	v13 = bits.RotateLeft64(v13^v2, -16)
	v8 += v13 + 2*uint64(uint32(v8))*uint64(uint32(v13))
	v7 = bits.RotateLeft64(v7^v8, -63)
	// GB(v3, v4, v9, v14)
	v3 += v4 + 2*uint64(uint32(v3))*uint64(uint32(v4))
	v14 = bits.RotateLeft64(v14^v3, -32)
	v9 += v14 + 2*uint64(uint32(v9))*uint64(uint32(v14))
	v4 = bits.RotateLeft64(v4^v9, -24)
	v3 += v4 + 2*uint64(uint32(v3))*uint64(uint32(v4))
	v14 = bits.RotateLeft64(v14^v3, -16)
	v9 += v14 + 2*uint64(uint32(v9))*uint64(uint32(v14))
	v4 = bits.RotateLeft64(v4^v9, -63)
	v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] = v0, v1, v2, v3, v4, v5, v6, v7
	v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15] = v8, v9, v10, v11, v12, v13, v14, v15
}

// permuteColumn is permuteRow on the 16 words of a column of the block:
// v[0], v[1], v[16], v[17], ..., v[112], v[113], gathered and scattered
// around it.
func permuteColumn(v *[114]uint64) {
	var c [16]uint64
	for k := 0; k < 8; k++ {
		c[2*k], c[2*k+1] = v[16*k], v[16*k+1]
	}
	permuteRow(&c)
	for k := 0; k < 8; k++ {
		v[16*k], v[16*k+1] = c[2*k], c[2*k+1]
	}
}

// hPrime is Argon2's variable-length hash H' (RFC 9106, section 3.3) of
// in, into out; its intermediate values stay in w.
func (w *argonWork) hPrime(out, in []byte) {
	h := &w.h
	var t [4]byte
	binary.LittleEndian.PutUint32(t[:], uint32(len(out)))
	if len(out) <= blake2bSize {
		h.init(len(out))
		h.write(t[:])
		h.write(in)
		h.sum(out)
		return
	}
	// V1 = H(LE32(T) || in); V_i = H(V_{i-1}); out = the first 32 bytes of
	// each V_i but the last, which is H^(T-32r)(V_r) whole.
	h.init(blake2bSize)
	h.write(t[:])
	h.write(in)
	h.sum(w.v[:])
	copy(out, w.v[:32])
	out = out[32:]
	for len(out) > blake2bSize {
		h.init(blake2bSize)
		h.write(w.v[:])
		h.sum(w.v[:])
		copy(out, w.v[:32])
		out = out[32:]
	}
	h.init(len(out))
	h.write(w.v[:])
	h.sum(out)
}
