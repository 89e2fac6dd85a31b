//go:build !amd64 || purego

package kdf

const haveAsm = false

func fillBlockAVX2(next, prev, ref, tmp *argonBlock, xor bool) {
	panic("kdf: no AVX2 code in this build")
}

func fillBlockAVX512(next, prev, ref, tmp *argonBlock, xor bool) {
	panic("kdf: no AVX-512 code in this build")
}
