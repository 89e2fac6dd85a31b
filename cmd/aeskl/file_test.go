package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/aeskl/stream"
	"golang.org/x/crypto/argon2"
)

// runCmd runs the aeskl command in this process (dispatch, as main does)
// with stdin as its standard input, and returns its standard output, its
// standard error and its exit status. In-process, because a test binary
// built with -race takes about a second to start.
func runCmd(t *testing.T, stdin []byte, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldIn, oldOut, oldErr := os.Stdin, os.Stdout, os.Stderr
	os.Stdin, os.Stdout, os.Stderr = inR, outW, errW
	defer func() { os.Stdin, os.Stdout, os.Stderr = oldIn, oldOut, oldErr }()
	var o, e bytes.Buffer
	var wg sync.WaitGroup
	wg.Go(func() { inW.Write(stdin); inW.Close() }) // ends early if the command stops reading
	wg.Go(func() { io.Copy(&o, outR) })
	wg.Go(func() { io.Copy(&e, errR) })
	code = dispatch(args)
	outW.Close()
	errW.Close()
	inR.Close()
	wg.Wait()
	outR.Close()
	errR.Close()
	return o.String(), e.String(), code
}

// mustRunFile runs aeskl and fails the test unless it exits 0.
func mustRunFile(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	out, errOut, code := runCmd(t, stdin, args...)
	if code != 0 {
		t.Fatalf("aeskl %s: status %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func write(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirNames lists a directory: a failed run must leave no file behind,
// temporary or not.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return n
}

// cheap is a fast argon2id cost for the tests: 1 pass, 1 MiB, 1 thread.
var cheap = []string{"--argon2", "1,1,1"}

// TestFileRoundTrip encrypts and decrypts with key files of both sizes
// and with a passphrase file, between files and through stdin/stdout,
// at sizes around the 1 MiB segments.
func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	keys := map[string][]string{
		"key16":      {"--key-file", write(t, filepath.Join(dir, "k16"), randBytes(16))},
		"key32":      {"--key-file", write(t, filepath.Join(dir, "k32"), randBytes(32))},
		"passphrase": {"--passphrase-file", write(t, filepath.Join(dir, "pw"), []byte("correct horse battery staple\n"))},
	}
	for name, kf := range keys {
		for _, n := range []int{0, 1, 1<<20 - 16 - 40, 1<<20 - 16 - 24 + 1, 3<<20 + 5} {
			pt := randBytes(n)
			in := write(t, filepath.Join(dir, "in"), pt)
			ct, pt2 := filepath.Join(dir, "ct"), filepath.Join(dir, "pt")
			encArgs := append(append([]string{"encrypt", "--quiet"}, kf...), cheap...)
			mustRunFile(t, nil, append(encArgs, "--force", in, ct)...)
			mustRunFile(t, nil, append(append([]string{"decrypt", "--force", "--quiet"}, kf...), ct, pt2)...)
			if !bytes.Equal(read(t, pt2), pt) {
				t.Fatalf("%s, %d bytes: file to file: the plaintext differs", name, n)
			}
			// Standard input and output.
			ctOut := mustRunFile(t, pt, append(encArgs, "-", "-")...)
			got := mustRunFile(t, []byte(ctOut), append(append([]string{"decrypt", "--quiet"}, kf...), "-", "-")...)
			if !bytes.Equal([]byte(got), pt) {
				t.Fatalf("%s, %d bytes: stdin to stdout: the plaintext differs", name, n)
			}
		}
	}
	if names := dirNames(t, dir); len(names) != 6 {
		t.Errorf("files left: %v", names)
	}
}

// TestFileFormat reads what encrypt wrote by following README.md's
// description of the format, with the stream package and argon2 directly.
func TestFileFormat(t *testing.T) {
	dir := t.TempDir()
	pt := randBytes(2<<20 + 77)
	in := write(t, filepath.Join(dir, "in"), pt)
	pw := "pässwörd"
	pwFile := write(t, filepath.Join(dir, "pw"), []byte(pw+"\r\n"))
	key := randBytes(16)
	keyFile := write(t, filepath.Join(dir, "key"), key)

	cases := []struct {
		name string
		args []string
		kdf  byte
		ks   int
		a    [3]uint32 // argon2 time, memory KiB, threads
	}{
		{"key file", []string{"--key-file", keyFile}, 0, 16, [3]uint32{}},
		{"passphrase, default cost", []string{"--passphrase-file", pwFile}, 1, 32, [3]uint32{3, 64 << 10, 4}},
		{"passphrase, --argon2 2,3,2", []string{"--passphrase-file", pwFile, "--argon2", "2,3,2"}, 1, 32, [3]uint32{2, 3 << 10, 2}},
	}
	for _, c := range cases {
		ct := filepath.Join(dir, "ct-"+c.name)
		mustRunFile(t, nil, append(append([]string{"encrypt", "--quiet"}, c.args...), in, ct)...)
		b := read(t, ct)
		if string(b[:6]) != "aeskl\x00" || b[6] != 1 || b[7] != c.kdf || int(b[8]) != c.ks || binary.BigEndian.Uint32(b[9:]) != 1<<20 {
			t.Fatalf("%s: header %x", c.name, b[:13])
		}
		hdr := b[:13]
		var mk []byte
		if c.kdf == 0 {
			mk = key
		} else {
			a := b[13:39]
			tm, mem, th, saltLen := binary.BigEndian.Uint32(a), binary.BigEndian.Uint32(a[4:]), uint32(a[8]), a[9]
			if [3]uint32{tm, mem, th} != c.a || saltLen != 16 {
				t.Fatalf("%s: argon2 fields %x", c.name, a)
			}
			hdr = b[:39]
			mk = argon2.IDKey([]byte(pw), a[10:26], tm, mem, uint8(th), 32)
		}
		k, err := stream.NewKey(mk, stream.Params{KeySize: c.ks, SegmentSize: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		r, err := k.NewReader(bytes.NewReader(b[len(hdr):]), hdr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%s: the stream after the header read %d bytes, %v", c.name, len(got), err)
		}
		if want, _ := k.Params().CiphertextSize(int64(len(pt))); int64(len(b)) != int64(len(hdr))+want {
			t.Errorf("%s: %d bytes, want %d", c.name, len(b), int64(len(hdr))+want)
		}
	}
}

// TestFileFailures: a wrong passphrase or key, a modified, truncated or
// extended file, a modified header: decrypt exits 1 and leaves no output
// file; to stdout it writes exactly the segments before the damage.
func TestFileFailures(t *testing.T) {
	dir := t.TempDir()
	pt := randBytes(3<<20 + 100)
	in := write(t, filepath.Join(dir, "in"), pt)
	pwFile := write(t, filepath.Join(dir, "pw"), []byte("right"))
	wrongPw := write(t, filepath.Join(dir, "wrong"), []byte("wrong"))
	keyFile := write(t, filepath.Join(dir, "key"), randBytes(32))
	otherKey := write(t, filepath.Join(dir, "other"), randBytes(32))
	shortKey := write(t, filepath.Join(dir, "short"), randBytes(15))
	key16 := write(t, filepath.Join(dir, "k16"), randBytes(16))
	ctPw := filepath.Join(dir, "ct-pw")
	ctKey := filepath.Join(dir, "ct-key")
	mustRunFile(t, nil, append([]string{"encrypt", "--quiet", "--passphrase-file", pwFile, in, ctPw}, cheap...)...)
	mustRunFile(t, nil, "encrypt", "--quiet", "--key-file", keyFile, in, ctKey)
	base := dirNames(t, dir)

	good := read(t, ctKey)
	const hdr = 13
	seg0 := 1<<20 - 16 - 40 // plaintext of the first segment (AES-256: a 40-byte stream header)
	seg := 1<<20 - 16
	flip := func(b []byte, off int) []byte {
		c := bytes.Clone(b)
		c[off] ^= 2
		return c
	}
	cases := []struct {
		name   string
		ct     []byte
		key    []string
		prefix int    // plaintext bytes that authenticate before the failure
		msg    string // in the error message
	}{
		{"wrong passphrase", read(t, ctPw), []string{"--passphrase-file", wrongPw}, 0, "authentication failed"},
		{"wrong key", good, []string{"--key-file", otherKey}, 0, "authentication failed"},
		{"key of 15 bytes", good, []string{"--key-file", shortKey}, 0, "15 bytes"},
		{"16-byte key for a 32-byte file", good, []string{"--key-file", key16}, 0, "32-byte key"},
		{"key file for a passphrase file", read(t, ctPw), []string{"--key-file", keyFile}, 0, "passphrase"},
		{"passphrase for a key file", good, []string{"--passphrase-file", pwFile}, 0, "--key-file"},
		{"bit flipped in segment 2", flip(good, hdr+2<<20+100), []string{"--key-file", keyFile}, seg0 + seg, "segment 2"},
		{"bit flipped in segment 0", flip(good, hdr+50), []string{"--key-file", keyFile}, 0, "segment 0"},
		{"truncated", good[:len(good)-100], []string{"--key-file", keyFile}, seg0 + 2*seg, "segment 3"},
		{"truncated into segment 2", good[:len(good)-1000], []string{"--key-file", keyFile}, seg0 + seg, "segment 2"},
		{"truncated at a segment end", good[:3<<20], []string{"--key-file", keyFile}, seg0 + seg, "segment 2"},
		{"extended", append(bytes.Clone(good), 0), []string{"--key-file", keyFile}, seg0 + 2*seg, "segment 3"},
		{"header: segment size", flip(good, 11), []string{"--key-file", keyFile}, 0, "authentication failed"},
		{"header: argon2 time", flip(read(t, ctPw), 16), []string{"--passphrase-file", pwFile}, 0, "authentication failed"},
		{"header: salt", flip(read(t, ctPw), 30), []string{"--passphrase-file", pwFile}, 0, "authentication failed"},
		{"header: version", flip(good, 6), []string{"--key-file", keyFile}, 0, "version"},
		{"header: magic", flip(good, 0), []string{"--key-file", keyFile}, 0, "not an aeskl encrypted file"},
		{"header: key source", flip(good, 7), []string{"--key-file", keyFile}, 0, "unknown key source 2"},
		{"header: argon2 time out of bounds", flip(read(t, ctPw), 15), []string{"--passphrase-file", pwFile}, 0, "argon2id time 513"},
		{"not even a header", []byte("aeskl"), []string{"--key-file", keyFile}, 0, "too short"},
	}
	for _, c := range cases {
		bad := write(t, filepath.Join(dir, "bad"), c.ct)
		out := filepath.Join(dir, "out")
		_, errOut, code := runCmd(t, nil, append(append([]string{"decrypt", "--quiet"}, c.key...), bad, out)...)
		if code != 1 || !strings.Contains(errOut, c.msg) {
			t.Errorf("%s, to a file: status %d, %q; want 1 and %q", c.name, code, errOut, c.msg)
		}
		if _, err := os.Lstat(out); err == nil {
			t.Errorf("%s: the output file exists", c.name)
		}
		os.Remove(bad)
		if names := dirNames(t, dir); len(names) != len(base) {
			t.Errorf("%s: files left: %v", c.name, names)
		}
		stdout, errOut, code := runCmd(t, c.ct, append(append([]string{"decrypt", "--quiet"}, c.key...), "-", "-")...)
		if code != 1 || len(stdout) != c.prefix || !bytes.Equal([]byte(stdout), pt[:len(stdout)]) {
			t.Errorf("%s, to stdout: status %d, %d bytes written, want 1 and the first %d bytes of the plaintext\n%s", c.name, code, len(stdout), c.prefix, errOut)
		}
	}
}

// TestFileOverwrite: an existing OUT is kept without --force, replaced
// with it.
func TestFileOverwrite(t *testing.T) {
	dir := t.TempDir()
	key := write(t, filepath.Join(dir, "key"), randBytes(32))
	in := write(t, filepath.Join(dir, "in"), []byte("new data"))
	out := write(t, filepath.Join(dir, "out"), []byte("precious"))
	_, errOut, code := runCmd(t, nil, "encrypt", "--key-file", key, in, out)
	if code != 1 || !strings.Contains(errOut, "--force") || string(read(t, out)) != "precious" {
		t.Errorf("encrypt over an existing file: status %d, %q, file %q", code, errOut, read(t, out))
	}
	ct := filepath.Join(dir, "ct")
	mustRunFile(t, nil, "encrypt", "--key-file", key, in, ct)
	if _, errOut, code := runCmd(t, nil, "decrypt", "--key-file", key, ct, out); code != 1 || string(read(t, out)) != "precious" {
		t.Errorf("decrypt over an existing file: status %d, %q", code, errOut)
	}
	// Options after the file names, and the summary on stderr.
	_, errOut, code = runCmd(t, nil, "decrypt", ct, out, "--key-file", key, "--force")
	if code != 0 || string(read(t, out)) != "new data" || !strings.Contains(errOut, "8 bytes in") {
		t.Errorf("decrypt --force: status %d, %q, file %q", code, errOut, read(t, out))
	}
	if names := dirNames(t, dir); len(names) != 4 {
		t.Errorf("files left: %v", names)
	}
}

// TestFileUsage: usage errors exit 2 and name the bad argument, -h
// prints the help on stdout and exits 0, runtime errors exit 1.
func TestFileUsage(t *testing.T) {
	dir := t.TempDir()
	key := write(t, filepath.Join(dir, "key"), randBytes(16))
	in := write(t, filepath.Join(dir, "in"), []byte("x"))
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"encrypt"}, 2, "want IN and OUT"},
		{[]string{"decrypt", "a"}, 2, "want IN and OUT"},
		{[]string{"encrypt", "a", "b", "c"}, 2, `unexpected argument "c"`},
		{[]string{"encrypt", "--bogus", "a", "b"}, 2, "-bogus"},
		{[]string{"decrypt", "--argon2", "1,1,1", "a", "b"}, 2, "-argon2"},
		{[]string{"encrypt", "--key-file", key, "--passphrase-file", key, "a", "b"}, 2, "exclude each other"},
		{[]string{"encrypt", "--argon2", "0,64,4", in, filepath.Join(dir, "o")}, 2, "time 0"},
		{[]string{"encrypt", "--argon2", "1,64", in, filepath.Join(dir, "o")}, 2, "TIME,MEMORY_MIB,THREADS"},
		{[]string{"encrypt", "--argon2", "1,x,1", in, filepath.Join(dir, "o")}, 2, `"x" is not a number`},
		{[]string{"encrypt", "--argon2", "1,5000,1", in, filepath.Join(dir, "o")}, 2, "4096 MiB"},
		{[]string{"encrypt", "--key-file", filepath.Join(dir, "missing"), in, filepath.Join(dir, "o")}, 1, "missing"},
		{[]string{"encrypt", "--key-file", key, filepath.Join(dir, "missing"), filepath.Join(dir, "o")}, 1, "missing"},
		{[]string{"decrypt", "--key-file", key, in, filepath.Join(dir, "o")}, 1, "not an aeskl encrypted file"},
		{[]string{"encrypt", "-h"}, 0, ""},
	} {
		stdout, errOut, code := runCmd(t, nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("aeskl %s: status %d, %q; want %d and %q", strings.Join(c.args, " "), code, errOut, c.code, c.msg)
		}
		if code == 0 && (!strings.Contains(stdout, "usage: aeskl encrypt") || !strings.Contains(stdout, "-passphrase-file")) {
			t.Errorf("help: %q", stdout)
		}
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("files left: %v", names)
	}
	if out, _, code := runCmd(t, nil, "help"); code != 0 || !strings.Contains(out, "aeskl encrypt [--key-file F") || !strings.Contains(out, "aeskl decrypt") {
		t.Errorf("the overview lacks encrypt and decrypt:\n%s", out)
	}
}

// TestFileNoTerminal: without a key or passphrase file and without a
// terminal to ask on, encrypt fails with status 1 and says what to give.
// It runs this test binary as the command, in a session of its own (no
// controlling terminal: the prompt fails instead of waiting).
func TestFileNoTerminal(t *testing.T) {
	dir := t.TempDir()
	in := write(t, filepath.Join(dir, "in"), []byte("x"))
	cmd := exec.Command(os.Args[0], "encrypt", in, filepath.Join(dir, "out"))
	cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1")
	noTerminal(cmd)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "no terminal to ask for a passphrase on (give a key or passphrase file)") {
		t.Errorf("%v\n%s", err, out)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("files left: %v", names)
	}
}

// TestFileInputFails: when IN cannot be read to its end, encrypt exits 1
// and what it wrote to standard output is not a complete stream: decrypt
// refuses it instead of taking it for a shorter file.
func TestFileInputFails(t *testing.T) {
	dir := t.TempDir()
	key := write(t, filepath.Join(dir, "key"), randBytes(32))
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	ct, errOut, code := runCmd(t, nil, "encrypt", "--quiet", "--key-file", key, sub, "-")
	if code != 1 || !strings.Contains(errOut, "is a directory") {
		t.Fatalf("encrypt of a directory: status %d, %q", code, errOut)
	}
	pt, errOut, code := runCmd(t, []byte(ct), "decrypt", "--quiet", "--key-file", key, "-", "-")
	if code != 1 || pt != "" || !strings.Contains(errOut, "truncated") {
		t.Errorf("decrypt of the %d bytes written: status %d, %d bytes out, %q; want 1, none and a truncated stream", len(ct), code, len(pt), errOut)
	}
}

// TestPassphraseFile: one trailing "\n" or "\r\n" is not part of the
// passphrase; anything else is, a lone "\r" included.
func TestPassphraseFile(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"pw":       "pw",
		"pw\n":     "pw",
		"pw\r\n":   "pw",
		"pw\r":     "pw\r",
		"pw\n\n":   "pw\n",
		"pw\r\n\n": "pw\r\n",
		"pw\n\r\n": "pw\n",
		" pw \t\n": " pw \t",
	} {
		s, got, err := readPassphraseFile(write(t, filepath.Join(dir, "pw"), []byte(content)))
		if err != nil || string(got) != want {
			t.Errorf("passphrase file %q: %q, %v; want %q", content, got, err, want)
		}
		if s != nil {
			s.Close()
		}
	}
	for _, content := range []string{"", "\n", "\r\n"} {
		if _, got, err := readPassphraseFile(write(t, filepath.Join(dir, "pw"), []byte(content))); err == nil || !strings.Contains(err.Error(), "empty passphrase") {
			t.Errorf("passphrase file %q: %q, %v; want an empty passphrase refused", content, got, err)
		}
	}
	if _, _, err := readPassphraseFile(write(t, filepath.Join(dir, "pw"), make([]byte, 64<<10+1))); err == nil || !strings.Contains(err.Error(), "longer than 64 KiB") {
		t.Errorf("a passphrase file of 64 KiB + 1: %v", err)
	}
	if _, got, err := readPassphraseFile(write(t, filepath.Join(dir, "pw"), append(bytes.Repeat([]byte{'x'}, 64<<10-1), '\n'))); err != nil || len(got) != 64<<10-1 {
		t.Errorf("a passphrase file of 64 KiB: %d bytes, %v", len(got), err)
	}
	// Errors name a passphrase file as one.
	if _, _, err := readPassphraseFile(filepath.Join(dir, "missing")); err == nil || !strings.HasPrefix(err.Error(), "passphrase file: ") {
		t.Errorf("a missing passphrase file: %v", err)
	}
}

// TestFileInterrupt interrupts encrypt and decrypt while they wait for
// more input with OUT's temporary file written to (for decrypt, with
// plaintext in it): the temporary file goes, OUT never appears, the
// status is 130.
func TestFileInterrupt(t *testing.T) {
	dir := t.TempDir()
	key := write(t, filepath.Join(dir, "key"), randBytes(32))
	pt := randBytes(5 << 20)
	ct := filepath.Join(dir, "ct")
	mustRunFile(t, nil, "encrypt", "--quiet", "--key-file", key, write(t, filepath.Join(dir, "pt"), pt), ct)
	os.Remove(filepath.Join(dir, "pt"))
	for _, c := range []struct {
		op    string
		input []byte // given on stdin, which then stays open
	}{
		{"encrypt", pt[:3<<20]},
		{"decrypt", read(t, ct)[:3<<20]},
	} {
		out := filepath.Join(dir, "out")
		cmd := exec.Command(os.Args[0], c.op, "--quiet", "--key-file", key, "-", out)
		cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1", "GORACE=atexit_sleep_ms=0")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go stdin.Write(c.input) // and no more: the command waits for the rest
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Wait for the temporary file to hold data.
		deadline := time.Now().Add(60 * time.Second)
		for {
			tmp, _ := filepath.Glob(filepath.Join(dir, ".out.aeskl-*"))
			if len(tmp) == 1 {
				if fi, err := os.Stat(tmp[0]); err == nil && fi.Size() >= 1<<20 {
					break
				}
			}
			select {
			case err := <-done:
				t.Fatalf("%s ended (%v) before it was interrupted: %s", c.op, err, errb.String())
			default:
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("%s: no temporary file with 1 MiB in it after a minute", c.op)
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(os.Interrupt)
		err = <-done
		stdin.Close()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 130 || !strings.Contains(errb.String(), out+" was not written") {
			t.Errorf("%s interrupted: %v, %q", c.op, err, errb.String())
		}
		if names := dirNames(t, dir); len(names) != 2 {
			t.Errorf("%s interrupted: left behind: %v", c.op, names)
		}
	}
}
