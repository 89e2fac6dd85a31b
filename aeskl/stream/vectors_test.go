package stream

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"testing"
)

// TestTinkStreams reads the streams that Tink wrote (testdata/tink.json,
// made by the interop module's TestTinkVectors -update) with Reader and
// ReaderAt, and writes each again with the same salt and nonce prefix: the
// bytes must be Tink's.
func TestTinkStreams(t *testing.T) {
	b, err := os.ReadFile("testdata/tink.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct {
		Name        string `json:"name"`
		KeySize     int    `json:"key_size"`
		SegmentSize int    `json:"segment_size"`
		MainKey     string `json:"main_key"`
		AD          string `json:"associated_data"`
		Plaintext   string `json:"plaintext"`
		Ciphertext  string `json:"ciphertext"`
	}
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 8 {
		t.Fatalf("%d vectors", len(vs))
	}
	for _, v := range vs {
		mk, ad, pt, ct := unhex(t, v.MainKey), unhex(t, v.AD), unhex(t, v.Plaintext), unhex(t, v.Ciphertext)
		p := Params{KeySize: v.KeySize, SegmentSize: v.SegmentSize}
		k := newKey(t, mk, p)
		r, err := k.NewReader(bytes.NewReader(ct), ad)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, pt) {
			t.Errorf("%s: Reader: %d bytes, %v", v.Name, len(got), err)
		}
		ra, err := k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), ad)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		got := make([]byte, len(pt))
		if n, err := ra.ReadAt(got, 0); n != len(pt) || err != nil || !bytes.Equal(got, pt) {
			t.Errorf("%s: ReaderAt: %d, %v", v.Name, n, err)
		}
		var buf bytes.Buffer
		w, err := k.newWriter(&buf, ad, bytes.NewReader(ct[1:p.HeaderSize()]))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(pt)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), ct) {
			t.Errorf("%s: written again with Tink's salt and nonce prefix, the stream differs", v.Name)
		}
	}
}
