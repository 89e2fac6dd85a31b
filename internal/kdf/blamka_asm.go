//go:build amd64 && !purego

package kdf

import "github.com/go-keylocker/keylocker/internal/asm/blamka"

const haveAsm = true

func fillBlockAVX2(next, prev, ref, tmp *argonBlock, xor bool) {
	blamka.FillBlockAVX2((*[blockWords]uint64)(next), (*[blockWords]uint64)(prev), (*[blockWords]uint64)(ref),
		(*[blockWords]uint64)(tmp), xor)
}

func fillBlockAVX512(next, prev, ref, tmp *argonBlock, xor bool) {
	blamka.FillBlockAVX512((*[blockWords]uint64)(next), (*[blockWords]uint64)(prev), (*[blockWords]uint64)(ref),
		(*[blockWords]uint64)(tmp), xor)
}
