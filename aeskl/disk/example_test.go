package disk_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-keylocker/keylocker/aeskl/disk"
)

// Encrypt a file in dm-crypt plain mode (cryptsetup open --type plain
// --cipher aes-xts-plain64 --key-size 512 --sector-size 4096 --offset 8)
// and read it back.
func ExampleTransformer_CryptAt() {
	dir, _ := os.MkdirTemp("", "disk-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "disk.img")

	key := make([]byte, 64) // AES-256-XTS: data key || tweak key (in real use: from a key file)
	for i := range key {
		key[i] = byte(i)
	}
	c, err := disk.NewCipher("aes-xts-plain64", key)
	clear(key) // the key is now only in c's handles
	if err != nil {
		panic(err)
	}
	defer c.Close()

	geo := disk.Plain{SectorSize: 4096, Offset: 8}
	plaintext := bytes.Repeat([]byte("sixteen bytes!!\n"), 4*4096/16)
	img, _ := os.Create(path)
	defer img.Close()
	img.Truncate(4096 + int64(len(plaintext))) // 8 sectors of 512 bytes before the volume

	start, length, err := geo.Extent(4096 + int64(len(plaintext)))
	if err != nil {
		panic(err)
	}
	enc := &disk.Transformer{Cipher: c, Layout: geo.Layout()}
	if _, err := enc.CryptAt(img, start, bytes.NewReader(plaintext), 0, 0, length); err != nil {
		panic(err)
	}

	var back bytes.Buffer
	dec := &disk.Transformer{Cipher: c, Layout: geo.Layout(), Decrypt: true}
	if _, err := dec.Stream(&back, io.NewSectionReader(img, start, length), 0, length); err != nil {
		panic(err)
	}
	ct := make([]byte, 8)
	img.ReadAt(ct, start)
	fmt.Printf("volume at byte %d, %d bytes; ciphertext starts %x\n", start, length, ct)
	fmt.Println("round trip:", bytes.Equal(back.Bytes(), plaintext))
	// Output:
	// volume at byte 4096, 16384 bytes; ciphertext starts f72882eaa3ac9b4a
	// round trip: true
}
