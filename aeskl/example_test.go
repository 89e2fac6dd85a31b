package aeskl_test

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"log"

	"github.com/go-keylocker/keylocker/aeskl"
)

// NewCipher stands where aes.NewCipher stood: crypto/cipher's modes run
// on the handle (GCM here), with the bytes crypto/aes gives.
func ExampleNewCipher_gcm() {
	key, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	block, err := aeskl.NewCipher(key)
	if err != nil {
		log.Fatal(err)
	}
	clear(key) // aeskl keeps no copy of the key

	aead, err := cipher.NewGCM(block)
	if err != nil {
		log.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize()) // never reuse a nonce with the same key
	sealed := aead.Seal(nil, nonce, []byte("attack at dawn"), []byte("header"))
	fmt.Printf("%x\n", sealed)

	opened, err := aead.Open(nil, nonce, sealed, []byte("header"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", opened)
	// Output:
	// 28a2f332faf086ed97a91e0917efecc4e7717b01d62fbb940f16a34a9bd3
	// attack at dawn
}

// NewXTS takes the data key and the tweak key in one slice (32 bytes for
// AES-128) and encrypts a run of disk sectors in one call, numbered as
// dm-crypt's plain64 and x/crypto/xts number them (the bytes are
// x/crypto/xts's).
func ExampleNewXTS_sectors() {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	x, err := aeskl.NewXTS(key)
	if err != nil {
		log.Fatal(err)
	}
	defer x.Close()
	clear(key)

	const sectorSize = 512
	disk := bytes.Repeat([]byte("sector data....."), 2*sectorSize/16) // sectors 7 and 8
	enc := make([]byte, len(disk))
	if err := x.EncryptSectors(enc, disk, 7, sectorSize); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sector 7 starts %x\n", enc[:16])
	fmt.Printf("sector 8 starts %x\n", enc[sectorSize:sectorSize+16])

	// One sector on its own is the same as in the run.
	one := make([]byte, sectorSize)
	x.Encrypt(one, disk[sectorSize:], 8)
	fmt.Println(bytes.Equal(one, enc[sectorSize:]))

	dec := make([]byte, len(enc))
	if err := x.DecryptSectors(dec, enc, 7, sectorSize); err != nil {
		log.Fatal(err)
	}
	fmt.Println(bytes.Equal(dec, disk))
	// Output:
	// sector 7 starts 607c3cc68978a5549a404a3a8e0f575f
	// sector 8 starts 6477c20615834a3ba9c3989a4f9e5df0
	// true
	// true
}

// New with a restriction makes a handle that refuses one direction: a
// NoDecrypt handle encrypts (and runs CTR and GCM both ways) but refuses
// ECB, CBC and XTS decryption, and the output is zeroed.
func ExampleNew_restrictions() {
	key := make([]byte, 16)
	c, err := aeskl.New(key, aeskl.WithRestrictions(aeskl.NoDecrypt))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	buf := make([]byte, 32)
	fmt.Println(c.EncryptBlocks(buf, buf))
	err = c.DecryptBlocks(buf, buf)
	fmt.Println(errors.Is(err, aeskl.ErrInvalidHandle), bytes.Equal(buf, make([]byte, 32)))
	// Output:
	// <nil>
	// true true
}

// Detect reports what this machine offers, which implementation New
// chooses for each key size and why the better ones are not used (the
// facts aeskl info prints; fmt.Print(s) prints them the same way).
func ExampleDetect() {
	s := aeskl.Detect()
	c, err := aeskl.New(make([]byte, 32))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(c.Implementation() == s.Implementation256)
	// Output: true
}
