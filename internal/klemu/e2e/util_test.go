//go:build linux && amd64

package e2e

import (
	"crypto/aes"
	"crypto/cipher"
)

func cipherFor(key []byte) cipher.Block {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	return b
}
