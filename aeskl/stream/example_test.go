package stream_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/go-keylocker/keylocker/aeskl/stream"
)

// Encrypt a stream and read it back. The main key would come from your
// key store; the stream can be read by Tink's AES256_GCM_HKDF_4KB key with
// the same main key, and the reverse.
func Example() {
	mainKey := make([]byte, 32)
	rand.Read(mainKey)
	key, err := stream.NewKey(mainKey, stream.AES256GCMHKDF4KB)
	clear(mainKey) // the Key keeps it sealed
	if err != nil {
		log.Fatal(err)
	}
	defer key.Close()

	ad := []byte("file name: report.txt") // authenticated, not stored
	var ciphertext bytes.Buffer
	w, err := key.NewWriter(&ciphertext, ad)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(w, strings.NewReader(strings.Repeat("quarterly figures\n", 1000))); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil { // writes the last segment
		log.Fatal(err)
	}

	r, err := key.NewReader(&ciphertext, ad)
	if err != nil {
		log.Fatal(err)
	}
	plaintext, err := io.ReadAll(r) // an error if anything was modified
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(plaintext), "bytes,", strings.Count(string(plaintext), "\n"), "lines")
	// Output: 18000 bytes, 1000 lines
}

// Read a range of a stream without decrypting what comes before it: only
// the segments that hold the range are read and authenticated.
func ExampleKey_NewReaderAt() {
	mainKey := make([]byte, 16)
	rand.Read(mainKey)
	key, err := stream.NewKey(mainKey, stream.AES128GCMHKDF4KB)
	clear(mainKey)
	if err != nil {
		log.Fatal(err)
	}
	defer key.Close()

	var buf bytes.Buffer
	w, _ := key.NewWriter(&buf, nil)
	for i := range 10000 {
		fmt.Fprintf(w, "record %05d\n", i) // 13 bytes each
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	ct := bytes.NewReader(buf.Bytes())
	r, err := key.NewReaderAt(ct, ct.Size(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	rec := make([]byte, 13)
	if _, err := r.ReadAt(rec, 7777*13); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q of %d bytes\n", rec, r.Size())
	// Output: "record 07777\n" of 130000 bytes
}

// The size of a stream follows from the size of its plaintext, and back.
func ExampleParams_CiphertextSize() {
	p := stream.AES256GCMHKDF1MB
	n, _ := p.CiphertextSize(10 << 20)
	m, _ := p.PlaintextSize(n)
	fmt.Println(n, m)
	// Output: 10485976 10485760
}
