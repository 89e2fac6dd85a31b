package interop

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/go-keylocker/keylocker/aeskl/stream"
	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"
)

var update = flag.Bool("update", false, "write new Tink streams to "+vectorsFile)

// vectorsFile holds streams that Tink wrote, for aeskl/stream's own tests
// (which then need no Tink).
const vectorsFile = "../aeskl/stream/testdata/tink.json"

type vector struct {
	Name        string `json:"name"`
	KeySize     int    `json:"key_size"`
	SegmentSize int    `json:"segment_size"`
	MainKey     string `json:"main_key"`
	AD          string `json:"associated_data"`
	Plaintext   string `json:"plaintext"`
	Ciphertext  string `json:"ciphertext"`
}

// TestTinkVectors checks that Tink reads every stream of the known-answer
// file; with -update it first writes a new file, the streams made by Tink.
func TestTinkVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 8 {
		t.Fatalf("%d vectors", len(vs))
	}
	for _, v := range vs {
		mk, _ := hex.DecodeString(v.MainKey)
		ad, _ := hex.DecodeString(v.AD)
		pt, _ := hex.DecodeString(v.Plaintext)
		ct, _ := hex.DecodeString(v.Ciphertext)
		tk, err := subtle.NewAESGCMHKDF(mk, "SHA256", v.KeySize, v.SegmentSize, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tinkDecrypt(tk, ct, ad); err != nil || !bytes.Equal(got, pt) {
			t.Errorf("%s: Tink reads %d bytes, %v", v.Name, len(got), err)
		}
	}
}

func writeVectors(t *testing.T) {
	cases := []struct {
		name  string
		p     stream.Params
		key   int
		ad    string
		ptLen int
	}{
		{"AES128_GCM_HKDF_4KB empty", stream.AES128GCMHKDF4KB, 16, "", 0},
		{"AES128_GCM_HKDF_4KB first segment full", stream.AES128GCMHKDF4KB, 16, "ad", 4096 - 16 - 24},
		{"AES128_GCM_HKDF_4KB two segments", stream.AES128GCMHKDF4KB, 16, "associated data", 5000},
		{"AES256_GCM_HKDF_4KB one byte", stream.AES256GCMHKDF4KB, 32, "", 1},
		{"AES256_GCM_HKDF_4KB three segments", stream.AES256GCMHKDF4KB, 32, "aad", 9000},
		{"AES128_GCM_HKDF_1MB", stream.AES128GCMHKDF1MB, 16, "x", 10},
		{"AES256_GCM_HKDF_1MB", stream.AES256GCMHKDF1MB, 32, "", 100},
		{"AES128 segment 64 main key 32", stream.Params{KeySize: 16, SegmentSize: 64}, 32, "ad", 200},
		{"AES256 segment 57 (the smallest)", stream.Params{KeySize: 32, SegmentSize: 57}, 32, "", 33},
		{"AES256 segment 100 exact segments", stream.Params{KeySize: 32, SegmentSize: 100}, 32, "ad", 3*84 - 40},
	}
	var vs []vector
	for _, c := range cases {
		mk := randBytes(c.key)
		pt := make([]byte, c.ptLen)
		for i := range pt {
			pt[i] = byte(i*7 + 3)
		}
		tk, err := subtle.NewAESGCMHKDF(mk, "SHA256", c.p.KeySize, c.p.SegmentSize, 0)
		if err != nil {
			t.Fatal(err)
		}
		ct := tinkEncrypt(t, tk, pt, []byte(c.ad))
		vs = append(vs, vector{c.name, c.p.KeySize, c.p.SegmentSize, hex.EncodeToString(mk),
			hex.EncodeToString([]byte(c.ad)), hex.EncodeToString(pt), hex.EncodeToString(ct)})
	}
	b, err := json.MarshalIndent(vs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("../aeskl/stream/testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
