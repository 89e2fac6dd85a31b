package cliutil

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// oneByte reads one byte per call, as a raw terminal delivers them.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(1, len(p))]) }

func TestReadLine(t *testing.T) {
	for _, c := range []struct {
		in, want string
		err      error
	}{
		{"secret\r", "secret", nil},
		{"secret\n", "secret", nil},
		{"secrex\x7ft\r", "secret", nil},
		{"\x08\x7fab\x08\x08cd\r", "cd", nil},
		{"wrong\x15right\r", "right", nil},
		{"\r", "", nil},
		{"abc\x03", "", ErrInterrupted},
		{"\x04", "", io.EOF},
		{"ab\x04c\r", "abc", nil},
		{"abc", "", io.ErrUnexpectedEOF},
	} {
		b := make([]byte, 16)
		n, err := readLine(oneByte{strings.NewReader(c.in)}, b)
		if !errors.Is(err, c.err) || string(b[:n]) != c.want {
			t.Errorf("%q: %q, %v; want %q, %v", c.in, b[:n], err, c.want, c.err)
		}
		if !bytes.Equal(b[n:], make([]byte, len(b)-n)) {
			t.Errorf("%q: bytes after the passphrase not zero: %q", c.in, b)
		}
	}
	b := make([]byte, 4)
	if _, err := readLine(oneByte{strings.NewReader("abcd\r")}, b); err == nil || !bytes.Equal(b, make([]byte, 4)) {
		t.Errorf("a line too long: %v, %q", err, b)
	}
}

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	os.WriteFile(file, []byte("0123456789abcdefXYZ"), 0o600)
	s, err := ReadKeyFile(file, 3, 16)
	if err != nil || string(s.Bytes()) != "3456789abcdefXYZ" {
		t.Fatalf("%q, %v", s.Bytes(), err)
	}
	s.Close()
	if _, err := ReadKeyFile(file, 4, 16); err == nil || !strings.Contains(err.Error(), "15 bytes after offset 4") {
		t.Errorf("short: %v", err)
	}
	if _, err := ReadKeyFile(file, 40, 16); err == nil || !strings.Contains(err.Error(), "shorter than --keyfile-offset 40") {
		t.Errorf("offset past the end: %v", err)
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "none"), 0, 16); err == nil {
		t.Error("a missing file: no error")
	}

	for _, c := range []struct {
		offset    int64
		size, max int
		want      string
		err       string
	}{
		{0, 0, 100, "0123456789abcdefXYZ", ""},
		{10, 0, 100, "abcdefXYZ", ""},
		{2, 4, 100, "2345", ""},
		{0, 0, 10, "", "larger than 10 bytes"},
		{15, 8, 100, "", "4 bytes, --keyfile-size asks for 8"},
		{19, 0, 100, "", ""},
	} {
		s, err := ReadPassphraseFile("key file", file, c.offset, c.size, c.max)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: %v", c, err)
			}
			continue
		}
		if err != nil || string(s.Bytes()) != c.want {
			t.Errorf("%+v: %q, %v", c, s.Bytes(), err)
			continue
		}
		s.Close()
	}
	// A pipe (no size to stat): up to max bytes.
	pr, pw, _ := os.Pipe()
	go func() { pw.Write([]byte("from a pipe")); pw.Close() }()
	s, err = ReadPassphraseFile("key file", "/dev/fd/"+strconv.Itoa(int(pr.Fd())), 0, 0, 64)
	pr.Close()
	if err != nil || string(s.Bytes()) != "from a pipe" {
		t.Errorf("pipe: %q, %v", s.Bytes(), err)
	}
}
