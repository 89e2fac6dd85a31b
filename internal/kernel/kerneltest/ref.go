// Package kerneltest holds the reference arithmetic that the kernel tests of
// every implementation compare against, written once, bit by bit or byte
// by byte, independent of the code under test: the IEEE 1619 XTS tweak
// doubling and the GCM multiplication and GHASH of SP 800-38D.
package kerneltest

// XTSDouble multiplies the tweak t by x (alpha) in GF(2^128) as IEEE 1619
// does: t is a little-endian 128-bit value; shift left by one and, if a bit
// fell out, XOR 0x87 into the low byte.
func XTSDouble(t *[16]byte) {
	var carry byte
	for i := 0; i < 16; i++ {
		c := t[i] >> 7
		t[i] = t[i]<<1 | carry
		carry = c
	}
	if carry != 0 {
		t[0] ^= 0x87
	}
}

// GFMul is Algorithm 1 of SP 800-38D (the GCM multiplication), bit by bit.
func GFMul(x, y *[16]byte) (z [16]byte) {
	v := *y
	for i := 0; i < 128; i++ {
		if x[i/8]>>(7-i%8)&1 == 1 {
			for k := range z {
				z[k] ^= v[k]
			}
		}
		lsb := v[15] & 1
		for k := 15; k > 0; k-- {
			v[k] = v[k]>>1 | v[k-1]<<7
		}
		v[0] >>= 1
		if lsb == 1 {
			v[0] ^= 0xe1
		}
	}
	return z
}

// GHASH folds the whole 16-byte blocks of data into acc under the hash key
// h: acc = (acc XOR block) * h for each block (SP 800-38D, 6.4).
func GHASH(h, acc *[16]byte, data []byte) {
	for ; len(data) >= 16; data = data[16:] {
		var x [16]byte
		for k := range x {
			x[k] = acc[k] ^ data[k]
		}
		*acc = GFMul(&x, h)
	}
}
