package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/xts"
)

// cmdResult is what one run of the aeskl command did.
type cmdResult struct {
	stdout, stderr string
	code           int
}

// runAeskl runs this test binary as the aeskl command with stdin as its
// standard input. Under the race detector the child does not sleep the
// default second at exit (it still reports a race and exits 66).
func runAeskl(t *testing.T, stdin []byte, args ...string) cmdResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1", "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cmdResult{stdout: out.String(), stderr: errb.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("aeskl %s: %v", strings.Join(args, " "), err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// mustRun runs aeskl and fails the test unless it exits 0.
func mustRun(t *testing.T, stdin []byte, args ...string) cmdResult {
	t.Helper()
	r := runAeskl(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("aeskl %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

func randData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plainCase is one set of plain-mode parameters.
type plainCase struct {
	cipher             string
	keyBits            int
	sectorSize         int
	offset, skip, size uint64
	ivLarge            bool
}

func (c plainCase) flags(keyFile string) []string {
	f := []string{"--cipher", c.cipher, "--key-size", fmt.Sprint(c.keyBits), "--key-file", keyFile,
		"--sector-size", fmt.Sprint(c.sectorSize), "--offset", fmt.Sprint(c.offset), "--skip", fmt.Sprint(c.skip), "--quiet"}
	if c.size != 0 {
		f = append(f, "--size", fmt.Sprint(c.size))
	}
	if c.ivLarge {
		f = append(f, "--iv-large-sectors")
	}
	return f
}

// iv is dm-crypt's IV number of the volume's sector at byte pos.
func (c plainCase) iv(pos int) uint64 {
	n := uint64(pos/512) + c.skip
	if c.ivLarge {
		n /= uint64(c.sectorSize / 512)
	}
	return n
}

// refEncrypt encrypts a plaintext volume as dm-crypt does, with crypto/aes
// and x/crypto/xts.
func (c plainCase) refEncrypt(t *testing.T, key, plain []byte) []byte {
	out := make([]byte, len(plain))
	for off := 0; off < len(plain); off += c.sectorSize {
		iv := c.iv(off)
		dst, src := out[off:off+c.sectorSize], plain[off:off+c.sectorSize]
		switch c.cipher {
		case "aes-xts-plain64":
			x, err := xts.NewCipher(aes.NewCipher, key)
			if err != nil {
				t.Fatal(err)
			}
			x.Encrypt(dst, src, iv)
		case "aes-cbc-essiv:sha256", "aes-cbc-plain64":
			var v [16]byte
			binary.LittleEndian.PutUint64(v[:], iv)
			if c.cipher == "aes-cbc-essiv:sha256" {
				s := sha256.Sum256(key)
				e, _ := aes.NewCipher(s[:])
				e.Encrypt(v[:], v[:])
			}
			b, _ := aes.NewCipher(key)
			cipher.NewCBCEncrypter(b, v[:]).CryptBlocks(dst, src)
		}
	}
	return out
}

var plainCases = []plainCase{
	{cipher: "aes-xts-plain64", keyBits: 512, sectorSize: 512},
	{cipher: "aes-xts-plain64", keyBits: 256, sectorSize: 512, offset: 16, skip: 5},
	{cipher: "aes-xts-plain64", keyBits: 512, sectorSize: 4096, offset: 8, skip: 8},
	{cipher: "aes-xts-plain64", keyBits: 512, sectorSize: 4096, offset: 8, skip: 24, ivLarge: true},
	{cipher: "aes-xts-plain64", keyBits: 256, sectorSize: 4096, size: 64},
	{cipher: "aes-cbc-essiv:sha256", keyBits: 256, sectorSize: 512, offset: 1, skip: 3},
	{cipher: "aes-cbc-plain64", keyBits: 128, sectorSize: 4096, ivLarge: true},
}

// TestPlain encrypts and decrypts images in plain mode and checks them
// against crypto/aes and x/crypto/xts computing dm-crypt's layout.
func TestPlain(t *testing.T) {
	dir := t.TempDir()
	for i, c := range plainCases {
		key := randData(uint64(i), c.keyBits/8)
		keyFile := writeFile(t, dir, fmt.Sprintf("key%d", i), append(key, randData(99, 10)...)) // longer than the key
		vol := 40 * 4096
		plain := randData(uint64(100+i), vol)
		want := c.refEncrypt(t, key, plain)
		if c.size != 0 {
			want = c.refEncrypt(t, key, plain[:c.size*512])
		}
		in := writeFile(t, dir, fmt.Sprintf("plain%d", i), plain)
		enc := filepath.Join(dir, fmt.Sprintf("enc%d", i))
		mustRun(t, nil, append(append([]string{"plain", "encrypt"}, c.flags(keyFile)...), in, enc)...)
		got := readFile(t, enc)
		start := int(c.offset * 512)
		if len(got) != start+len(want) || !bytes.Equal(got[start:], want) || !bytes.Equal(got[:start], make([]byte, start)) {
			t.Errorf("%+v: encrypt gives %d bytes, want %d zeros and the reference", c, len(got), start)
			continue
		}
		dec := filepath.Join(dir, fmt.Sprintf("dec%d", i))
		mustRun(t, nil, append(append([]string{"plain", "decrypt"}, c.flags(keyFile)...), enc, dec)...)
		if !bytes.Equal(readFile(t, dec), plain[:len(want)]) {
			t.Errorf("%+v: decrypt does not give the plaintext back", c)
		}
	}
}

func TestPlainInPlace(t *testing.T) {
	dir := t.TempDir()
	c := plainCase{cipher: "aes-xts-plain64", keyBits: 512, sectorSize: 4096, offset: 8, skip: 8, size: 64}
	key := randData(1, 64)
	keyFile := writeFile(t, dir, "key", key)
	img := randData(2, 4096+64*512+3*4096) // head, volume, tail
	path := writeFile(t, dir, "img", img)
	args := append(append([]string{"plain", "encrypt"}, c.flags(keyFile)...), path, path)
	if r := runAeskl(t, nil, args...); r.code != 1 || !strings.Contains(r.stderr, "in place overwrites it; add --force") {
		t.Errorf("in place without --force: exit %d, %s", r.code, r.stderr)
	}
	if !bytes.Equal(readFile(t, path), img) {
		t.Fatal("refused in-place run changed IN")
	}
	mustRun(t, nil, append(args, "--force")...)
	want := bytes.Clone(img)
	copy(want[4096:], c.refEncrypt(t, key, img[4096:4096+64*512]))
	if !bytes.Equal(readFile(t, path), want) {
		t.Error("in-place encryption: wrong result (the volume encrypted, head and tail kept)")
	}
	args[1] = "decrypt"
	mustRun(t, nil, append(args, "--force")...)
	if !bytes.Equal(readFile(t, path), img) {
		t.Error("in-place decryption does not restore the image")
	}
}

// TestPlainInPlaceFile checks that a file transformed in place stays the
// same file: its inode, its mode, its other names (hard links) all see the
// result, and no copy of the old content is left under another name.
func TestPlainInPlaceFile(t *testing.T) {
	dir := t.TempDir()
	c := plainCase{cipher: "aes-xts-plain64", keyBits: 512, sectorSize: 512, offset: 8}
	key := randData(1, 64)
	keyFile := writeFile(t, dir, "key", key)
	img := randData(3, 4096+64<<10)
	path := writeFile(t, dir, "img", img)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, nil, append(append([]string{"plain", "encrypt"}, c.flags(keyFile)...), path, link, "--force")...)
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || after.Mode() != before.Mode() {
		t.Errorf("in place: the file was replaced (same file: %v, mode %v, was %v)", os.SameFile(before, after), after.Mode(), before.Mode())
	}
	want := bytes.Clone(img)
	copy(want[4096:], c.refEncrypt(t, key, img[4096:]))
	if !bytes.Equal(readFile(t, path), want) || !bytes.Equal(readFile(t, link), want) {
		t.Error("in place: wrong content under one of the names")
	}
	if es, _ := os.ReadDir(dir); len(es) != 3 {
		t.Errorf("left behind: %v", es)
	}
	// A new OUT of a decryption is for its owner only (0600); of an
	// encryption it gets IN's permission bits; both less the umask.
	out := filepath.Join(dir, "out")
	mustRun(t, nil, append(append([]string{"plain", "decrypt"}, c.flags(keyFile)...), path, out)...)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0o600 &^ umask(t); fi.Mode().Perm() != want {
		t.Errorf("a decrypted OUT has mode %v, want %v (0600 less the umask)", fi.Mode().Perm(), want)
	}
	if !bytes.Equal(readFile(t, out), img[4096:]) {
		t.Error("decrypt: wrong content")
	}
	enc := filepath.Join(dir, "enc")
	mustRun(t, nil, append(append([]string{"plain", "encrypt"}, c.flags(keyFile)...), out, enc)...)
	os.Chmod(out, 0o640)
	os.Remove(enc)
	mustRun(t, nil, append(append([]string{"plain", "encrypt"}, c.flags(keyFile)...), out, enc)...)
	if fi, err = os.Stat(enc); err != nil {
		t.Fatal(err)
	}
	if want := 0o640 &^ umask(t); fi.Mode().Perm() != want {
		t.Errorf("an encrypted OUT has mode %v, want %v (IN's, less the umask)", fi.Mode().Perm(), want)
	}
}

func TestPlainErrors(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "key", randData(1, 64))
	short := writeFile(t, dir, "short", randData(1, 20))
	in := writeFile(t, dir, "in", randData(2, 8192))
	odd := writeFile(t, dir, "odd", randData(2, 8192+512))
	existing := writeFile(t, dir, "existing", []byte("keep me"))
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plain", "decrypt", "--key-file", keyFile, in, existing}, 1, "output exists (use --force"},
		{[]string{"plain", "decrypt", "--key-file", short, in, out}, 1, "key file " + short + ": 20 bytes after offset 0, the key needs 32"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, "--keyfile-offset", "40", in, out}, 1, "24 bytes after offset 40"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, "--cipher", "twofish-xts-plain64", in, out}, 2, "supported: aes-xts-plain64, aes-cbc-essiv:sha256, aes-cbc-plain64"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, "--key-size", "128", in, out}, 2, "takes a key of 32, 48 or 64 bytes, not 16"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, "--sector-size", "1000", in, out}, 2, "--sector-size 1000"},
		{[]string{"plain", "encrypt", "--key-file", keyFile, "--sector-size", "4096", "--skip", "1", in, out}, 2, "--skip 1 is not a multiple of 8"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, "--sector-size", "2048", "--skip", "6", "--iv-large-sectors", in, out}, 2, "--skip 6 is not a multiple of 4"},
		{[]string{"plain", "decrypt", in, out}, 2, "--key-file is required"},
		{[]string{"plain", "frobnicate", in, out}, 2, "want encrypt or decrypt"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, in}, 2, "want encrypt or decrypt, IN and OUT"},
		{[]string{"plain", "decrypt", "--nope", in, out}, 2, "flag provided but not defined: -nope"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, "--sector-size", "4096", odd, out}, 1, "not a whole number of 4096-byte sectors"},
		{[]string{"plain", "encrypt", "--key-file", keyFile, "--sector-size", "4096", odd, out}, 1, "not a whole number of 4096-byte sectors"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, "--offset", "17", in, out}, 1, "beyond the end of the device"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, filepath.Join(dir, "missing"), out}, 1, "no such file"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, "--size", "100", in, out}, 1, "ends beyond the end of the device"},
		// Offsets and sizes whose byte counts do not fit in 63 bits.
		{[]string{"plain", "encrypt", "--key-file", keyFile, "--offset", "36028797018963968", in, out}, 2, "--offset 36028797018963968 is out of range"},
		{[]string{"plain", "encrypt", "--key-file", keyFile, "--size", "36028797018963968", in, out}, 2, "--size 36028797018963968 is out of range"},
		{[]string{"plain", "decrypt", "--key-file", keyFile, "--offset", "36028797018963968", in, out}, 2, "--offset 36028797018963968 is out of range"},
		{[]string{"plain", "encrypt", "--key-file", keyFile, "--offset", "18014398509481983", in, out}, 2, "--offset 18014398509481983: the encrypted volume would end beyond"},
	} {
		r := runAeskl(t, nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("aeskl %s: exit %d, %q; want exit %d saying %q", strings.Join(c.args, " "), r.code, r.stderr, c.code, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("aeskl %s: left %s behind", strings.Join(c.args, " "), out)
			os.Remove(out)
		}
	}
	if string(readFile(t, existing)) != "keep me" {
		t.Error("an existing OUT was overwritten without --force")
	}
	if es, _ := os.ReadDir(dir); len(es) != 5 {
		t.Errorf("temporary files left: %v", es)
	}
	// --force replaces it; flags may follow the arguments.
	mustRun(t, nil, "plain", "decrypt", in, existing, "--key-file", keyFile, "--force", "--quiet")
	if len(readFile(t, existing)) != 8192 {
		t.Error("--force did not replace OUT")
	}
	// Help goes to standard output with status 0.
	if r := runAeskl(t, nil, "plain", "-h"); r.code != 0 || !strings.Contains(r.stdout, "usage: aeskl plain encrypt|decrypt") || !strings.Contains(r.stdout, "-iv-large-sectors") {
		t.Errorf("plain -h: exit %d\n%s", r.code, r.stdout)
	}
}

// TestPlainStdoutIsIn checks that plain refuses standard output opened on
// IN: the stream would overwrite IN from its start.
func TestPlainStdoutIsIn(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "key", randData(1, 64))
	data := randData(2, 64<<10)
	in := writeFile(t, dir, "in", data)
	f, err := os.OpenFile(in, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "plain", "decrypt", "--key-file", keyFile, "--offset", "8", "--quiet", in, "-")
	cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1", "GORACE=atexit_sleep_ms=0")
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "standard output is IN itself") {
		t.Errorf("plain decrypt IN - with IN as standard output: %v, %q", err, errb.String())
	}
	if !bytes.Equal(readFile(t, in), data) {
		t.Error("IN changed")
	}
}

// TestPlainOpenSSL checks plain mode against OpenSSL through Python's
// cryptography package: each sector with AES-XTS and the plain64 tweak
// (or AES-CBC with the ESSIV), both ways.
func TestPlainOpenSSL(t *testing.T) {
	py := pythonCryptography(t)
	dir := t.TempDir()
	var jobs []pyJob
	var plains [][]byte
	for i, c := range plainCases {
		key := randData(uint64(50+i), c.keyBits/8)
		keyFile := writeFile(t, dir, fmt.Sprintf("key%d", i), key)
		plain := randData(uint64(60+i), 24*4096)
		if c.size != 0 {
			plain = plain[:c.size*512]
		}
		plains = append(plains, plain)
		in := writeFile(t, dir, fmt.Sprintf("plain%d", i), plain)
		enc := filepath.Join(dir, fmt.Sprintf("enc%d", i))
		mustRun(t, nil, append(append([]string{"plain", "encrypt"}, c.flags(keyFile)...), in, enc)...)
		jobs = append(jobs,
			pyJob{c, key, readFile(t, enc)[c.offset*512:], true}, // OpenSSL decrypts what aeskl encrypted
			pyJob{c, key, plain, false})                          // and encrypts for aeskl to decrypt
	}
	res := py.run(t, jobs...)
	for i, c := range plainCases {
		if !bytes.Equal(res[2*i], plains[i]) {
			t.Errorf("%+v: OpenSSL does not decrypt aeskl's ciphertext to the plaintext", c)
		}
		img := append(make([]byte, c.offset*512), res[2*i+1]...)
		encPath := writeFile(t, dir, fmt.Sprintf("ossl%d", i), img)
		dec := filepath.Join(dir, fmt.Sprintf("dec%d", i))
		mustRun(t, nil, append(append([]string{"plain", "decrypt"}, c.flags(filepath.Join(dir, fmt.Sprintf("key%d", i)))...), encPath, dec)...)
		if !bytes.Equal(readFile(t, dec), plains[i]) {
			t.Errorf("%+v: aeskl does not decrypt OpenSSL's ciphertext to the plaintext", c)
		}
	}
}

type python string

// pythonCryptography returns python3 with the cryptography package, or
// skips the test saying what is missing.
func pythonCryptography(t *testing.T) python {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIP: python3 not found: the OpenSSL comparison needs python3 with the cryptography package (Debian: python3-cryptography)")
	}
	if out, err := exec.Command(p, "-c", "import cryptography").CombinedOutput(); err != nil {
		t.Skipf("SKIP: python3 lacks the cryptography package (Debian: python3-cryptography): %s", bytes.TrimSpace(out))
	}
	return python(p)
}

// A pyJob is data to encrypt or decrypt sector by sector with OpenSSL.
type pyJob struct {
	c    plainCase
	key  []byte
	data []byte
	dec  bool
}

const sectorScript = `
import sys, json, base64, hashlib
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
res = []
for j in json.load(sys.stdin):
    key, data, size = base64.b64decode(j["key"]), base64.b64decode(j["data"]), j["size"]
    out = bytearray()
    for off in range(0, len(data), size):
        iv = off // 512 + j["skip"]
        if j["large"]:
            iv //= size // 512
        tweak = iv.to_bytes(16, "little")
        if j["spec"] == "aes-xts-plain64":
            mode = modes.XTS(tweak)
        else:
            if j["spec"] == "aes-cbc-essiv:sha256":
                e = Cipher(algorithms.AES(hashlib.sha256(key).digest()), modes.ECB()).encryptor()
                tweak = e.update(tweak) + e.finalize()
            mode = modes.CBC(tweak)
        c = Cipher(algorithms.AES(key), mode)
        x = c.decryptor() if j["dec"] else c.encryptor()
        out += x.update(data[off:off + size]) + x.finalize()
    res.append(base64.b64encode(out).decode())
json.dump(res, sys.stdout)
`

// run runs the jobs in one python3 process.
func (p python) run(t *testing.T, jobs ...pyJob) [][]byte {
	t.Helper()
	type js struct {
		Spec  string `json:"spec"`
		Key   []byte `json:"key"`
		Data  []byte `json:"data"`
		Size  int    `json:"size"`
		Skip  uint64 `json:"skip"`
		Large bool   `json:"large"`
		Dec   bool   `json:"dec"`
	}
	var in []js
	for _, j := range jobs {
		in = append(in, js{j.c.cipher, j.key, j.data, j.c.sectorSize, j.c.skip, j.c.ivLarge, j.dec})
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(string(p), "-c", sectorScript)
	cmd.Stdin = bytes.NewReader(b)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, errb.String())
	}
	var res [][]byte
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(jobs) {
		t.Fatalf("python gave %d results (%v)", len(res), err)
	}
	return res
}

// deviceMapper skips the test, saying why, unless device-mapper can be
// used here: root, and a /dev/mapper/control the kernel answers (the node
// can exist without the driver).
func deviceMapper(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: device-mapper needs root")
	}
	f, err := os.OpenFile("/dev/mapper/control", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("SKIP: device-mapper is not available here (%v): the check against a live dm-crypt mapping cannot run", err)
	}
	f.Close()
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("SKIP: losetup not found: the check against a live dm-crypt mapping needs a loop device")
	}
}

// TestPlainCryptsetupOpen checks aeskl's plain encryption against a live
// cryptsetup open --type plain mapping of a loop device.
func TestPlainCryptsetupOpen(t *testing.T) {
	deviceMapper(t)
	cs := cryptsetup(t)
	dir := t.TempDir()
	for i, c := range plainCases[:4] {
		key := randData(uint64(70+i), c.keyBits/8)
		keyFile := writeFile(t, dir, fmt.Sprintf("key%d", i), key)
		img := writeFile(t, dir, fmt.Sprintf("img%d", i), make([]byte, 1<<20+int(c.offset)*512))
		loop, err := exec.Command("losetup", "--find", "--show", img).Output()
		if err != nil {
			t.Skipf("SKIP: no loop device: %v", err)
		}
		dev := strings.TrimSpace(string(loop))
		name := fmt.Sprintf("aeskl-test-%d-%d", os.Getpid(), i)
		args := []string{"open", "--type", "plain", "--cipher", c.cipher, "--key-size", fmt.Sprint(c.keyBits), "--key-file", keyFile,
			"--sector-size", fmt.Sprint(c.sectorSize), "--offset", fmt.Sprint(c.offset), "--skip", fmt.Sprint(c.skip), dev, name}
		if c.ivLarge {
			args = append(args, "--iv-large-sectors")
		}
		if out, err := exec.Command(cs, args...).CombinedOutput(); err != nil {
			exec.Command("losetup", "-d", dev).Run()
			t.Fatalf("cryptsetup %v: %v\n%s", args, err, out)
		}
		plain := randData(uint64(80+i), 1<<20)
		err = os.WriteFile("/dev/mapper/"+name, plain, 0)
		exec.Command(cs, "close", name).Run()
		exec.Command("losetup", "-d", dev).Run()
		if err != nil {
			t.Fatal(err)
		}
		dec := filepath.Join(dir, fmt.Sprintf("dec%d", i))
		mustRun(t, nil, append(append([]string{"plain", "decrypt"}, c.flags(keyFile)...), img, dec)...)
		if !bytes.Equal(readFile(t, dec), plain) {
			t.Errorf("%+v: aeskl does not decrypt what dm-crypt wrote", c)
		}
	}
}

// TestPlainInterrupt interrupts a decryption into a file: the temporary
// file goes, OUT never appears, the status is 130.
func TestPlainInterrupt(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "key", randData(1, 64))
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(in, 128<<20); err != nil { // sparse: quick to read
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	cmd := exec.Command(os.Args[0], "plain", "decrypt", "--key-file", keyFile, "--quiet", in, out)
	cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1", "GORACE=atexit_sleep_ms=0")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	signaled := false
	for !signaled {
		select {
		case err = <-done:
			t.Skipf("SKIP: the decryption ended (%v) before its temporary file was seen: too fast to interrupt here", err)
		default:
		}
		if tmp, _ := filepath.Glob(filepath.Join(dir, ".out.aeskl-*")); len(tmp) > 0 {
			cmd.Process.Signal(os.Interrupt)
			signaled = true
		}
	}
	err = <-done
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 || !strings.Contains(errb.String(), out+" was not written") {
		t.Errorf("interrupted: %v, %q", err, errb.String())
	}
	if es, _ := os.ReadDir(dir); len(es) != 2 {
		t.Errorf("left behind: %v", es)
	}
}

// loopDevice attaches a loop device to path, or skips the test saying
// why it cannot.
func loopDevice(t *testing.T, path string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: loop devices need root")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("SKIP: losetup not found: the block device test needs a loop device")
	}
	out, err := exec.Command("losetup", "--find", "--show", path).CombinedOutput()
	if err != nil {
		t.Skipf("SKIP: no loop device here: %v: %s", err, bytes.TrimSpace(out))
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// TestPlainBlockDevice runs plain mode on a block device: as OUT (with
// --force only, written in place at --offset), as IN, and in place.
func TestPlainBlockDevice(t *testing.T) {
	dir := t.TempDir()
	orig := randData(3, 1<<20)
	dev := loopDevice(t, writeFile(t, dir, "backing", orig))
	c := plainCase{cipher: "aes-xts-plain64", keyBits: 512, sectorSize: 4096, offset: 8, size: 1024}
	key := randData(4, 64)
	keyFile := writeFile(t, dir, "key", key)
	plain := randData(5, 512<<10)
	in := writeFile(t, dir, "plain", plain)
	readDev := func() []byte {
		b, err := os.ReadFile(dev)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	enc := append(append([]string{"plain", "encrypt"}, c.flags(keyFile)...), in, dev)
	if r := runAeskl(t, nil, enc...); r.code != 1 || !strings.Contains(r.stderr, "output exists") {
		t.Errorf("a device OUT without --force: exit %d, %s", r.code, r.stderr)
	}
	mustRun(t, nil, append(enc, "--force")...)
	want := bytes.Clone(orig)
	copy(want[4096:], c.refEncrypt(t, key, plain))
	if !bytes.Equal(readDev(), want) {
		t.Fatal("encrypting onto the device: wrong content (the volume at --offset, the rest kept)")
	}
	out := filepath.Join(dir, "out")
	mustRun(t, nil, append(append([]string{"plain", "decrypt"}, c.flags(keyFile)...), dev, out)...)
	if !bytes.Equal(readFile(t, out), plain) {
		t.Error("decrypting from the device does not give the plaintext")
	}
	mustRun(t, nil, append(append([]string{"plain", "decrypt"}, c.flags(keyFile)...), dev, dev, "--force")...)
	copy(want[4096:], plain)
	if !bytes.Equal(readDev(), want) {
		t.Error("decrypting the device in place: wrong content")
	}
	// Another node of the same block device is the device itself: the
	// volume is transformed in place, not copied over the device's start.
	alias := blockNodeAlias(t, dev, filepath.Join(dir, "alias"))
	mustRun(t, nil, append(append([]string{"plain", "encrypt"}, c.flags(keyFile)...), dev, alias, "--force")...)
	copy(want[4096:], c.refEncrypt(t, key, plain))
	if !bytes.Equal(readDev(), want) {
		t.Error("encrypting the device in place through another node: wrong content")
	}
	big := writeFile(t, dir, "big", randData(6, 1<<20))
	if r := runAeskl(t, nil, "plain", "encrypt", "--key-file", keyFile, "--offset", "8", "--force", big, dev); r.code != 1 || !strings.Contains(r.stderr, "no room for 1048576 bytes at byte 4096") {
		t.Errorf("too much for the device: exit %d, %s", r.code, r.stderr)
	}
}

// TestPlainInPlaceInterrupt interrupts a decryption in place: the status
// is 130 and the message says how much of the volume was transformed,
// which the file then holds, the rest untouched (but for the chunk being
// written).
func TestPlainInPlaceInterrupt(t *testing.T) {
	dir := t.TempDir()
	key := randData(1, 64)
	keyFile := writeFile(t, dir, "key", key)
	path := filepath.Join(dir, "img")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const size = 256 << 20
	if err := os.Truncate(path, size); err != nil { // sparse: zeros, quick to read
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "plain", "decrypt", "--key-file", keyFile, "--quiet", "--force", path, path)
	cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1", "GORACE=atexit_sleep_ms=0")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := make([]byte, 512)
	for signaled := false; !signaled; {
		select {
		case err = <-done:
			t.Skipf("SKIP: the decryption ended (%v) before it was seen under way: too fast to interrupt here", err)
		default:
		}
		if f.ReadAt(first, 0); !bytes.Equal(first, make([]byte, 512)) {
			cmd.Process.Signal(os.Interrupt)
			signaled = true
		}
	}
	err = <-done
	ee, ok := err.(*exec.ExitError)
	if err == nil || (ok && ee.ExitCode() == 130 && !strings.Contains(errb.String(), "partly")) {
		t.Skipf("SKIP: the decryption was committed before the interrupt came (%v, %q): too fast to interrupt here", err, errb.String())
	}
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("interrupted: %v, %q", err, errb.String())
	}
	m := regexp.MustCompile(regexp.QuoteMeta(path) + ` is left partly transformed: the first (\d+) bytes of the range are, the rest is not\n`).FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("interrupted: %q", errb.String())
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	x, err := xts.NewCipher(aes.NewCipher, key[:32]) // --key-size 256
	if err != nil {
		t.Fatal(err)
	}
	got, want, zero := make([]byte, 512), make([]byte, 512), make([]byte, 512)
	for off := int64(0); off < size; off += 512 {
		if _, err := f.ReadAt(got, off); err != nil {
			t.Fatal(err)
		}
		if off < n {
			x.Decrypt(want, zero, uint64(off/512))
			if !bytes.Equal(got, want) {
				t.Fatalf("byte %d, in the first %d the message says were transformed, was not", off, n)
			}
		} else if !bytes.Equal(got, zero) {
			t.Fatalf("byte %d, after the first %d the message says were transformed, was", off, n)
		}
	}
}
