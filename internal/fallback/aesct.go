package fallback

// A portable, table-free, bitsliced AES (128, 192, 256; encryption and
// decryption) written for the generic path.
//
// Representation. A batch of up to four blocks is held in eight uint64
// "slices": slice b holds bit b of every byte. Each block owns one 16-bit
// lane (block j in bits 16j..16j+15) and, inside a lane, the byte at row r,
// column c of the AES state (input byte 4c+r) is bit 4r+c. ShiftRows and
// MixColumns then become shifts and masks inside a lane, SubBytes is a
// boolean circuit evaluated on all 64 bytes at once, and AddRoundKey is an
// XOR with a round key stored in the same form (replicated to every lane).
// This is the layout of Käsper and Schwabe (CHES 2009) narrowed to 16 bits
// per block, as in Pieter Wuille's ctaes, widened here to four blocks.
//
// S-box: the depth-16 circuit of Boyar and Peralta, "A depth-16 circuit for
// the AES S-box" (ePrint 2011/332), whose non-linear middle is shared by
// the forward and the inverse S-box; only the linear input and output layers
// differ.
//
// Side channels: there are no table look-ups, no secret-dependent branches
// and no secret-dependent memory addresses; every operation is AND, OR, XOR,
// NOT, shift by a constant or a load/store at a public address. That makes
// it constant-time on every CPU Go targets as far as the Go compiler keeps
// it so (the compiler gives no such guarantee: it is how it compiles today).
// Load and store permute bytes by a fixed public table and transpose bits
// with shifts and masks.
//
// Memory: the expanded key lives in a schedule value the caller places on
// its stack and wipes with wipeSchedule. The temporaries of the S-box
// circuit live in registers or in spill slots of the functions below; the
// Go compiler decides which. burnStack overwrites the stack area below the
// caller after use, which covers those spill slots in practice (no
// guarantee: see the package documentation).

import "encoding/binary"

// lanes replicates a 16-bit pattern into the four lanes.
const lanes = 0x0001000100010001

// schedule is an expanded AES key in sliced form (each round key replicated
// to the four lanes). rk[0..nr] are used.
type schedule struct {
	rk [15][8]uint64
	nr int
}

// sbox applies the AES S-box (or its inverse) to every byte of q.
func sbox(q *[8]uint64, inv bool) {
	u0, u1, u2, u3 := q[7], q[6], q[5], q[4]
	u4, u5, u6, u7 := q[3], q[2], q[1], q[0]

	var t1, t2, t3, t4, t6, t8, t9, t10, t13, t14, t15, t16 uint64
	var t17, t19, t20, t22, t23, t24, t25, t26, t27, d uint64
	if !inv {
		// Top linear layer of the forward S-box.
		t1 = u0 ^ u3
		t2 = u0 ^ u5
		t3 = u0 ^ u6
		t4 = u3 ^ u5
		t5 := u4 ^ u6
		t6 = t1 ^ t5
		t7 := u1 ^ u2
		t8 = u7 ^ t6
		t9 = u7 ^ t7
		t10 = t6 ^ t7
		t11 := u1 ^ u5
		t12 := u2 ^ u5
		t13 = t3 ^ t4
		t14 = t6 ^ t11
		t15 = t5 ^ t11
		t16 = t5 ^ t12
		t17 = t9 ^ t16
		t18 := u3 ^ u7
		t19 = t7 ^ t18
		t20 = t1 ^ t19
		t21 := u6 ^ u7
		t22 = t7 ^ t21
		t23 = t2 ^ t22
		t24 = t2 ^ t10
		t25 = t20 ^ t17
		t26 = t3 ^ t16
		t27 = t1 ^ t12
		d = u7
	} else {
		// Top linear layer of the inverse S-box (undoes the affine map).
		t23 = u0 ^ u3
		t22 = ^(u1 ^ u3)
		t2 = ^(u0 ^ u1)
		t1 = u3 ^ u4
		t24 = ^(u4 ^ u7)
		r5 := u6 ^ u7
		t8 = ^(u1 ^ t23)
		t19 = t22 ^ r5
		t9 = ^(u7 ^ t1)
		t10 = t2 ^ t24
		t13 = t2 ^ r5
		t3 = t1 ^ r5
		t25 = ^(u2 ^ t1)
		r13 := u1 ^ u6
		t17 = ^(u2 ^ t19)
		t20 = t24 ^ r13
		t4 = u4 ^ t8
		r17 := ^(u2 ^ u5)
		r18 := ^(u5 ^ u6)
		r19 := ^(u2 ^ u4)
		d = u0 ^ r17
		t6 = t22 ^ r17
		t16 = r13 ^ r19
		t27 = t1 ^ r18
		t15 = t10 ^ t27
		t14 = t10 ^ r18
		t26 = t3 ^ t16
	}

	// Shared non-linear middle: inversion in GF(2^8) via GF(2^4).
	m1 := t13 & t6
	m6 := t3 & t16
	m11 := t1 & t15
	m13 := (t4 & t27) ^ m11
	m15 := (t2 & t10) ^ m11
	m20 := t14 ^ m1 ^ (t23 & t8) ^ m13
	m21 := (t19 & d) ^ m1 ^ t24 ^ m15
	m22 := t26 ^ m6 ^ (t22 & t9) ^ m13
	m23 := (t20 & t17) ^ m6 ^ m15 ^ t25
	m25 := m22 & m20
	m37 := m21 ^ ((m20 ^ m21) & (m23 ^ m25))
	m38 := m20 ^ m25 ^ (m21 | (m20 & m23))
	m39 := m23 ^ ((m22 ^ m23) & (m21 ^ m25))
	m40 := m22 ^ m25 ^ (m23 | (m21 & m22))
	m41 := m38 ^ m40
	m42 := m37 ^ m39
	m43 := m37 ^ m38
	m44 := m39 ^ m40
	m45 := m42 ^ m41
	m46 := m44 & t6
	m47 := m40 & t8
	m48 := m39 & d
	m49 := m43 & t16
	m50 := m38 & t9
	m51 := m37 & t17
	m52 := m42 & t15
	m53 := m45 & t27
	m54 := m41 & t10
	m55 := m44 & t13
	m56 := m40 & t23
	m57 := m39 & t19
	m58 := m43 & t3
	m59 := m38 & t22
	m60 := m37 & t20
	m61 := m42 & t1
	m62 := m45 & t4
	m63 := m41 & t2

	if !inv {
		// Bottom linear layer of the forward S-box (with the affine map).
		l0 := m61 ^ m62
		l1 := m50 ^ m56
		l2 := m46 ^ m48
		l3 := m47 ^ m55
		l4 := m54 ^ m58
		l5 := m49 ^ m61
		l6 := m62 ^ l5
		l7 := m46 ^ l3
		l8 := m51 ^ m59
		l9 := m52 ^ m53
		l10 := m53 ^ l4
		l11 := m60 ^ l2
		l12 := m48 ^ m51
		l13 := m50 ^ l0
		l14 := m52 ^ m61
		l15 := m55 ^ l1
		l16 := m56 ^ l0
		l17 := m57 ^ l1
		l18 := m58 ^ l8
		l19 := m63 ^ l4
		l20 := l0 ^ l1
		l21 := l1 ^ l7
		l22 := l3 ^ l12
		l23 := l18 ^ l2
		l24 := l15 ^ l9
		l25 := l6 ^ l10
		l26 := l7 ^ l9
		l27 := l8 ^ l10
		l28 := l11 ^ l14
		l29 := l11 ^ l17
		q[7] = l6 ^ l24
		q[6] = ^(l16 ^ l26)
		q[5] = ^(l19 ^ l28)
		q[4] = l6 ^ l21
		q[3] = l20 ^ l22
		q[2] = l25 ^ l29
		q[1] = ^(l13 ^ l27)
		q[0] = ^(l6 ^ l23)
		return
	}
	// Bottom linear layer of the inverse S-box.
	p0 := m52 ^ m61
	p1 := m58 ^ m59
	p2 := m54 ^ m62
	p3 := m47 ^ m50
	p4 := m48 ^ m56
	p5 := m46 ^ m51
	p6 := m49 ^ m60
	p7 := p0 ^ p1
	p8 := m50 ^ m53
	p9 := m55 ^ m63
	p10 := m57 ^ p4
	p11 := p0 ^ p3
	p12 := m46 ^ m48
	p13 := m49 ^ m51
	p14 := m49 ^ m62
	p15 := m54 ^ m59
	p16 := m57 ^ m61
	p17 := m58 ^ p2
	p18 := m63 ^ p5
	p19 := p2 ^ p3
	p20 := p4 ^ p6
	p22 := p2 ^ p7
	p23 := p7 ^ p8
	p24 := p5 ^ p7
	p25 := p6 ^ p10
	p26 := p9 ^ p11
	p27 := p10 ^ p18
	p28 := p11 ^ p25
	p29 := p15 ^ p20
	q[7] = p13 ^ p22
	q[6] = p26 ^ p29
	q[5] = p17 ^ p28
	q[4] = p12 ^ p22
	q[3] = p23 ^ p27
	q[2] = p19 ^ p24
	q[1] = p14 ^ p23
	q[0] = p9 ^ p16
}

func shiftRow1(v uint64) uint64 {
	return v&(0x000F*lanes) |
		(v>>1)&(0x0070*lanes) | (v<<3)&(0x0080*lanes) |
		(v>>2)&(0x0300*lanes) | (v<<2)&(0x0C00*lanes) |
		(v>>3)&(0x1000*lanes) | (v<<1)&(0xE000*lanes)
}

func invShiftRow1(v uint64) uint64 {
	return v&(0x000F*lanes) |
		(v<<1)&(0x00E0*lanes) | (v>>3)&(0x0010*lanes) |
		(v>>2)&(0x0300*lanes) | (v<<2)&(0x0C00*lanes) |
		(v>>1)&(0x7000*lanes) | (v<<3)&(0x8000*lanes)
}

// shiftRows rotates row r of every lane left by r columns.
func shiftRows(q *[8]uint64) {
	q[0], q[1], q[2], q[3] = shiftRow1(q[0]), shiftRow1(q[1]), shiftRow1(q[2]), shiftRow1(q[3])
	q[4], q[5], q[6], q[7] = shiftRow1(q[4]), shiftRow1(q[5]), shiftRow1(q[6]), shiftRow1(q[7])
}

// invShiftRows rotates row r of every lane right by r columns.
func invShiftRows(q *[8]uint64) {
	q[0], q[1], q[2], q[3] = invShiftRow1(q[0]), invShiftRow1(q[1]), invShiftRow1(q[2]), invShiftRow1(q[3])
	q[4], q[5], q[6], q[7] = invShiftRow1(q[4]), invShiftRow1(q[5]), invShiftRow1(q[6]), invShiftRow1(q[7])
}

// rot moves row r+n (mod 4) of each column to row r, in every lane.
func rot(x uint64, n uint) uint64 {
	s := 4 * n
	hi := uint64(0xFFFF>>s) * lanes // bits that move down
	return (x>>s)&hi | (x<<(16-s))&^hi&(0xFFFF*lanes)
}

// xtime multiplies every byte by x modulo x^8 + x^4 + x^3 + x + 1.
func xtime(q *[8]uint64) {
	top := q[7]
	q[7] = q[6]
	q[6] = q[5]
	q[5] = q[4]
	q[4] = q[3] ^ top
	q[3] = q[2] ^ top
	q[2] = q[1]
	q[1] = q[0] ^ top
	q[0] = top
}

// mixColumns: new[r] = 2 a[r] + 3 a[r+1] + a[r+2] + a[r+3]
// = 2 (a[r] + a[r+1]) + a[r+1] + a[r+2] + a[r+3].
func mixColumns(q *[8]uint64) {
	var t [8]uint64
	for i, a := range q {
		t[i] = a ^ rot(a, 1)
	}
	xtime(&t)
	for i, a := range q {
		q[i] = t[i] ^ rot(a, 1) ^ rot(a, 2) ^ rot(a, 3)
	}
}

// invMixColumns uses a^-1(x) = a(x) * ({04}x^2 + {05}): first
// u[r] = 5 a[r] + 4 a[r+2] = a[r] + 4 (a[r] + a[r+2]), then mixColumns.
func invMixColumns(q *[8]uint64) {
	var t [8]uint64
	for i, a := range q {
		t[i] = a ^ rot(a, 2)
	}
	xtime(&t)
	xtime(&t)
	for i := range q {
		q[i] ^= t[i]
	}
	mixColumns(q)
}

func addRoundKey(q *[8]uint64, rk *[8]uint64) {
	for i := range q {
		q[i] ^= rk[i]
	}
}

// bytePos[j] is where byte j of a 64-byte (four-block) input goes in the
// staging buffer so that, after transpose, bit b of it lands in slice b at
// bit 16L + 4r + c (block L = j/16, row r = j%4, column c = j%16/4): the
// transpose puts bit b of staging byte 8k+m at bit 8m+k of slice b.
var bytePos = func() (p [64]uint8) {
	for j := range p {
		q := 16*(j/16) + 4*(j%4) + j%16/4
		p[j] = uint8(8*(q%8) + q/8)
	}
	return
}()

func swapmove(a, b *uint64, mask uint64, n uint) {
	t := (*a>>n ^ *b) & mask
	*b ^= t
	*a ^= t << n
}

// transpose transposes the 8x8 bit matrix in every byte column of q:
// afterwards bit i of byte m of q[k] is bit k of byte m of the former
// q[i]. It is its own inverse.
func transpose(q *[8]uint64) {
	for k := 0; k < 8; k += 2 {
		swapmove(&q[k], &q[k+1], 0x5555555555555555, 1)
	}
	for _, k := range [4]int{0, 1, 4, 5} {
		swapmove(&q[k], &q[k+2], 0x3333333333333333, 2)
	}
	for k := 0; k < 4; k++ {
		swapmove(&q[k], &q[k+4], 0x0F0F0F0F0F0F0F0F, 4)
	}
}

// loadBlocks sets q from n (1..4) 16-byte blocks of src; tmp is a staging
// buffer the caller wipes if the blocks are secret.
func loadBlocks(q *[8]uint64, src []byte, n int, tmp *[64]byte) {
	*tmp = [64]byte{}
	src = src[:16*n]
	for j, b := range src {
		tmp[bytePos[j]] = b
	}
	for k := range q {
		q[k] = binary.LittleEndian.Uint64(tmp[8*k:])
	}
	transpose(q)
}

// storeBlocks writes n (1..4) blocks from q to dst; q is left transposed
// (the caller clears or reloads it).
func storeBlocks(dst []byte, q *[8]uint64, n int, tmp *[64]byte) {
	transpose(q)
	for k := range q {
		binary.LittleEndian.PutUint64(tmp[8*k:], q[k])
	}
	dst = dst[:16*n]
	for j := range dst {
		dst[j] = tmp[bytePos[j]]
	}
}

// subWord applies the S-box to the four bytes of w (constant time).
func subWord(w uint32) uint32 {
	var q [8]uint64
	for i := 0; i < 4; i++ {
		v := uint64(w >> (8 * i))
		for bit := 0; bit < 8; bit++ {
			q[bit] |= (v >> bit & 1) << i
		}
	}
	sbox(&q, false)
	var r uint32
	for i := 0; i < 4; i++ {
		for bit := 0; bit < 8; bit++ {
			r |= uint32(q[bit]>>i&1) << (8*i + bit)
		}
	}
	clear(q[:])
	return r
}

// expandKey fills s from key (16, 24 or 32 bytes) following FIPS-197
// section 5.2. The byte-form words are kept in a local array that is wiped
// before return.
func expandKey(s *schedule, key []byte) {
	nk := len(key) / 4
	if nk != 4 && nk != 6 && nk != 8 || len(key)%4 != 0 {
		panic("fallback: bad AES key length")
	}
	nr := nk + 6
	var w [60]uint32 // little-endian words: byte 0 of the word in bits 0-7
	for i := 0; i < nk; i++ {
		w[i] = binary.LittleEndian.Uint32(key[4*i:])
	}
	rcon := uint32(1)
	for i := nk; i < 4*(nr+1); i++ {
		t := w[i-1]
		if i%nk == 0 {
			t = subWord(t>>8|t<<24) ^ rcon
			rcon <<= 1
			if rcon&0x100 != 0 {
				rcon ^= 0x11B
			}
		} else if nk > 6 && i%nk == 4 {
			t = subWord(t)
		}
		w[i] = w[i-nk] ^ t
	}
	s.nr = nr
	// Slice four round keys at a time (one per lane), then replicate each
	// lane to all four.
	var blk [64]byte
	var tmp [64]byte
	var q [8]uint64
	for r0 := 0; r0 <= nr; r0 += 4 {
		n := min(4, nr+1-r0)
		for j := 0; j < 4*n; j++ {
			binary.LittleEndian.PutUint32(blk[4*j:], w[4*r0+j])
		}
		loadBlocks(&q, blk[:], n, &tmp)
		for l := 0; l < n; l++ {
			for i := range q {
				s.rk[r0+l][i] = (q[i] >> (16 * l) & 0xFFFF) * lanes
			}
		}
	}
	clear(q[:])
	clear(tmp[:])
	clear(blk[:])
	clear(w[:])
}

// encrypt4 encrypts the (up to four) blocks in q in place.
func (s *schedule) encrypt4(q *[8]uint64) {
	addRoundKey(q, &s.rk[0])
	for r := 1; r < s.nr; r++ {
		sbox(q, false)
		shiftRows(q)
		mixColumns(q)
		addRoundKey(q, &s.rk[r])
	}
	sbox(q, false)
	shiftRows(q)
	addRoundKey(q, &s.rk[s.nr])
}

// decrypt4 decrypts the (up to four) blocks in q in place (the inverse
// cipher of FIPS-197 section 5.3, with the encryption round keys).
func (s *schedule) decrypt4(q *[8]uint64) {
	addRoundKey(q, &s.rk[s.nr])
	for r := s.nr - 1; r > 0; r-- {
		invShiftRows(q)
		sbox(q, true)
		addRoundKey(q, &s.rk[r])
		invMixColumns(q)
	}
	invShiftRows(q)
	sbox(q, true)
	addRoundKey(q, &s.rk[0])
}

// crypt runs ECB over len(src)/16 blocks; dst and src may be the same
// slice. len(src) must be a multiple of 16 and len(dst) >= len(src).
func (s *schedule) crypt(dst, src []byte, decrypt bool) {
	var q [8]uint64
	var tmp [64]byte
	for len(src) > 0 {
		n := min(len(src)/16, 4)
		loadBlocks(&q, src, n, &tmp)
		if decrypt {
			s.decrypt4(&q)
		} else {
			s.encrypt4(&q)
		}
		storeBlocks(dst, &q, n, &tmp)
		src, dst = src[16*n:], dst[16*n:]
	}
	clear(q[:])
	clear(tmp[:])
}

// wipeSchedule zeroes s. It is not inlined so that the stores cannot be
// dropped as dead by the compiler.
//
//go:noinline
func wipeSchedule(s *schedule) {
	*s = schedule{}
}

// wipe16 zeroes a small secret buffer (not inlined, see wipeSchedule).
//
//go:noinline
func wipe16(b *[16]byte) {
	*b = [16]byte{}
}

// burnStack overwrites n bytes of stack below the caller's frame, where
// the callees of the generic code kept their spilled temporaries. Called
// at the start of an operation it also grows the goroutine stack once, so
// that the operation itself is less likely to trigger a stack copy.
//
//go:noinline
func burnStack() {
	var buf [8192]byte
	wipeStackBuf(&buf)
}

//go:noinline
func wipeStackBuf(b *[8192]byte) {
	*b = [8192]byte{}
}
