package fallback

// load16 sets lane `lane` of q from the 16-byte block b, bit by bit: the
// reference for loadBlocks (tests).
func load16(q *[8]uint64, b []byte, lane uint) {
	_ = b[15]
	for i := 0; i < 16; i++ {
		pos := uint(i%4*4+i/4) + 16*lane
		v := uint64(b[i])
		for bit := 0; bit < 8; bit++ {
			q[bit] |= (v >> bit & 1) << pos
		}
	}
}

// store16 writes lane `lane` of q to the 16-byte block b: the reference
// for storeBlocks (tests).
//
//lint:ignore U1000 used by region_asm_amd64_test.go, which only amd64 without purego builds
func store16(b []byte, q *[8]uint64, lane uint) {
	_ = b[15]
	for i := 0; i < 16; i++ {
		pos := uint(i%4*4+i/4) + 16*lane
		var v uint64
		for bit := 0; bit < 8; bit++ {
			v |= (q[bit] >> pos & 1) << bit
		}
		b[i] = byte(v)
	}
}
