package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// cryptsetup returns the path of cryptsetup, or skips the test saying so.
func cryptsetup(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("cryptsetup")
	if err != nil {
		for _, d := range []string{"/usr/sbin", "/sbin"} {
			if _, err := os.Stat(d + "/cryptsetup"); err == nil {
				return d + "/cryptsetup"
			}
		}
		t.Skip("SKIP: cryptsetup not found (Debian: apt-get install cryptsetup-bin; .ci/run installs it): the LUKS interoperability tests cannot run")
	}
	return p
}

// runCS runs cryptsetup and fails the test if it fails.
func runCS(t *testing.T, cs string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(cs, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cryptsetup %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Small and forced KDF costs: the tests measure interoperability, not
// brute-force resistance.
var (
	argon2Cost = []string{"--pbkdf-memory", "32", "--pbkdf-force-iterations", "4", "--pbkdf-parallel", "1"}
	pbkdf2Cost = []string{"--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"}
	smallLUKS2 = []string{"--type", "luks2", "--luks2-metadata-size", "16k", "--luks2-keyslots-size", "480k"}
)

// A reencFixture is an image that cryptsetup encrypted offline from known
// content (reencrypt --encrypt): its data segment starts with plain.
type reencFixture struct {
	name  string
	args  []string
	luks1 bool // converted to LUKS1 afterwards
}

var reencFixtures = []reencFixture{
	{"luks2-argon2id-xts512-sector512", append(append([]string{"--pbkdf", "argon2id", "--key-size", "512", "--sector-size", "512"}, argon2Cost...), smallLUKS2...), false},
	{"luks2-pbkdf2-xts256-sector4096", append(append([]string{"--key-size", "256", "--sector-size", "4096", "--hash", "sha256"}, pbkdf2Cost...), smallLUKS2...), false},
	{"luks2-argon2i-xts256-sector512-sha512", append(append([]string{"--pbkdf", "argon2i", "--key-size", "256", "--sector-size", "512", "--hash", "sha512"}, argon2Cost...), smallLUKS2...), false},
	{"luks2-argon2id-xts512-sector4096", append(append([]string{"--pbkdf", "argon2id", "--key-size", "512", "--sector-size", "4096"}, argon2Cost...), smallLUKS2...), false},
	{"luks2-pbkdf2-cbc-essiv-sha1", append(append([]string{"--cipher", "aes-cbc-essiv:sha256", "--key-size", "256", "--hash", "sha1"}, pbkdf2Cost...), smallLUKS2...), false},
	{"luks1-pbkdf2-xts256", append([]string{"--type", "luks2", "--key-size", "256", "--hash", "sha256"}, pbkdf2Cost...), true},
}

// makeReenc makes the fixture in dir and returns its path and the
// plaintext its data segment starts with.
func (f reencFixture) make(t *testing.T, cs, dir, keyFile string) (string, []byte) {
	reduce := 1 << 20
	if f.luks1 {
		reduce = 4 << 20 // room for LUKS1's eight key slots
	}
	plain := randData(uint64(len(f.name)), 1<<20)
	// Data, then the free space cryptsetup moves the header into.
	path := writeFile(t, dir, f.name, append(bytes.Clone(plain), make([]byte, reduce)...))
	args := append([]string{"reencrypt", "--encrypt", "--reduce-device-size", fmt.Sprint(reduce), "--key-file", keyFile, "--batch-mode"}, f.args...)
	runCS(t, cs, nil, append(args, path)...)
	if f.luks1 {
		runCS(t, cs, nil, "convert", "--type", "luks1", "--batch-mode", path)
	}
	return path, plain
}

// TestLUKSDecryptCryptsetup decrypts images that cryptsetup encrypted.
func TestLUKSDecryptCryptsetup(t *testing.T) {
	cs := cryptsetup(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "pass", []byte("correct horse battery staple"))
	wrongKey := writeFile(t, dir, "wrong", []byte("correct horse battery stapler"))
	for _, f := range reencFixtures {
		t.Run(f.name, func(t *testing.T) {
			img, plain := f.make(t, cs, dir, keyFile)
			out := filepath.Join(dir, f.name+".out")
			mustRun(t, nil, "luks", "decrypt", "--key-file", keyFile, "--quiet", img, out)
			got := readFile(t, out)
			if len(got) < len(plain) || !bytes.Equal(got[:len(plain)], plain) {
				t.Fatalf("aeskl luks decrypt does not give the plaintext cryptsetup encrypted (%d bytes)", len(got))
			}
			// A range, to standard output: sectors 16 to 47.
			r := mustRun(t, nil, "luks", "decrypt", "--key-file", keyFile, "--start", "16", "--size", "32", "--quiet", img)
			if r.stdout != string(plain[16*512:48*512]) {
				t.Errorf("--start 16 --size 32 to standard output: %d bytes, not the plaintext's sectors 16 to 47", len(r.stdout))
			}
			// An existing OUT is refused before the passphrase is asked
			// for; with no terminal to ask on, that is said.
			if r := runAeskl(t, nil, "luks", "decrypt", img, out); r.code != 1 || !strings.Contains(r.stderr, out+": output exists") {
				t.Errorf("existing OUT: exit %d, %s", r.code, r.stderr)
			}
			if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
				tty.Close()
				t.Log("a terminal is there: the check of the missing-terminal error is left out")
			} else if r := runAeskl(t, nil, "luks", "decrypt", img, out+".2"); r.code != 1 || !strings.Contains(r.stderr, "no terminal to ask for a passphrase") {
				t.Errorf("no passphrase and no terminal: exit %d, %s", r.code, r.stderr)
			}
			// A wrong passphrase: an error, nothing written.
			wrongOut := filepath.Join(dir, f.name+".wrong")
			r = runAeskl(t, nil, "luks", "decrypt", "--key-file", wrongKey, img, wrongOut)
			if r.code != 1 || !strings.Contains(r.stderr, "no keyslot accepts this passphrase") {
				t.Errorf("wrong passphrase: exit %d, %s", r.code, r.stderr)
			}
			if _, err := os.Stat(wrongOut); err == nil {
				t.Error("a wrong passphrase left an output file")
			}
			// The dump: the metadata is cryptsetup's, and aeskl can use it.
			r = mustRun(t, nil, "luks", "dump", "--json", img)
			var d struct {
				Version   int             `json:"version"`
				Supported bool            `json:"supported"`
				Metadata  json.RawMessage `json:"metadata"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 2}[f.luks1]; d.Version != want || !d.Supported {
				t.Errorf("dump: version %d, supported %v", d.Version, d.Supported)
			}
			if !f.luks1 {
				var ours, theirs any
				json.Unmarshal(d.Metadata, &ours)
				json.Unmarshal([]byte(runCS(t, cs, nil, "luksDump", "--dump-json-metadata", img)), &theirs)
				if !reflect.DeepEqual(ours, theirs) {
					t.Errorf("dump's metadata differs from cryptsetup luksDump --dump-json-metadata:\n%s", d.Metadata)
				}
			}
			r = mustRun(t, nil, "luks", "dump", img)
			if !strings.Contains(r.stdout, "can unlock this volume") || !strings.Contains(r.stdout, "Keyslots:") {
				t.Errorf("dump:\n%s", r.stdout)
			}
		})
	}
}

// TestLUKSEncryptCryptsetup writes the data segment of images made by
// cryptsetup luksFormat with aeskl luks encrypt, then has cryptsetup read
// it: an offline reencryption to a new volume key decrypts every sector
// with the old key, and the new key (dumped by cryptsetup) decrypts the
// result with OpenSSL where python3-cryptography is there, and with aeskl
// (checked against cryptsetup by TestLUKSDecryptCryptsetup).
func TestLUKSEncryptCryptsetup(t *testing.T) {
	cs := cryptsetup(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "pass", []byte("hunter2"))
	wrongKey := writeFile(t, dir, "wrong", []byte("hunter3"))
	for _, c := range []struct {
		name string
		args []string
	}{
		{"argon2id-xts512-sector4096", append([]string{"--pbkdf", "argon2id", "--key-size", "512", "--sector-size", "4096"}, argon2Cost...)},
		{"pbkdf2-xts256-sector512", append([]string{"--key-size", "256", "--sector-size", "512"}, pbkdf2Cost...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := writeFile(t, dir, c.name, make([]byte, 3<<20))
			runCS(t, cs, nil, append(append([]string{"luksFormat", "--type", "luks2", "--luks2-metadata-size", "16k",
				"--luks2-keyslots-size", "1000k", "--key-file", keyFile, "--batch-mode"}, c.args...), img)...)
			const dataOff = 2 << 20 // where luksFormat puts the data of these headers
			if !strings.Contains(runCS(t, cs, nil, "luksDump", img), fmt.Sprintf("offset: %d [bytes]", dataOff)) {
				t.Fatal("unexpected data offset")
			}
			plain := randData(uint64(len(c.name)), 1<<20)
			in := writeFile(t, dir, c.name+".plain", plain)

			before := readFile(t, img)
			r := runAeskl(t, nil, "luks", "encrypt", "--key-file", wrongKey, img, in)
			if r.code != 1 || !strings.Contains(r.stderr, "no keyslot accepts this passphrase") || !bytes.Equal(readFile(t, img), before) {
				t.Errorf("wrong passphrase: exit %d, %s, image changed: %v", r.code, r.stderr, !bytes.Equal(readFile(t, img), before))
			}
			// Too much input: refused before anything is written.
			big := writeFile(t, dir, c.name+".big", make([]byte, 1<<20+4096))
			r = runAeskl(t, nil, "luks", "encrypt", "--key-file", keyFile, img, big)
			if r.code != 1 || !strings.Contains(r.stderr, "more than the 1048576 bytes") || !bytes.Equal(readFile(t, img), before) {
				t.Errorf("input larger than the segment: exit %d, %s", r.code, r.stderr)
			}

			// The first half from the file, the second from standard input.
			mustRun(t, nil, "luks", "encrypt", "--key-file", keyFile, "--size", "1024", "--quiet", img, in)
			stdinArgs := []string{"luks", "encrypt", "--key-file", keyFile, "--start", "1024", "--quiet", img}
			if strings.HasPrefix(c.name, "pbkdf2") {
				stdinArgs = append(stdinArgs, "--size", "1024") // else: to the end of the input
			}
			mustRun(t, plain[512<<10:], stdinArgs...)
			if got := readFile(t, img); !bytes.Equal(got[:dataOff], before[:dataOff]) {
				t.Fatal("aeskl luks encrypt changed the header")
			}

			// cryptsetup reads it: offline reencryption to a new key.
			runCS(t, cs, nil, append(append([]string{"reencrypt", "--force-offline-reencrypt", "--key-file", keyFile, "--batch-mode"}, pbkdf2Cost...), img)...)
			out := filepath.Join(dir, c.name+".out")
			mustRun(t, nil, "luks", "decrypt", "--key-file", keyFile, "--quiet", img, out)
			if !bytes.Equal(readFile(t, out), plain) {
				t.Error("after cryptsetup reencrypted what aeskl wrote, the volume does not hold the plaintext")
			}
			py := pythonCryptography(t) // skips only this last check
			vk := filepath.Join(dir, c.name+".vk")
			runCS(t, cs, nil, "luksDump", "--dump-volume-key", "--volume-key-file", vk, "--key-file", keyFile, "--batch-mode", img)
			key := readFile(t, vk)
			ss := 512
			if strings.Contains(c.name, "4096") {
				ss = 4096
			}
			// LUKS2 numbers IVs in 512-byte sectors whatever the sector size.
			got := py.run(t, pyJob{plainCase{cipher: "aes-xts-plain64", sectorSize: ss}, key, readFile(t, img)[dataOff:], true})
			if !bytes.Equal(got[0], plain) {
				t.Error("OpenSSL with cryptsetup's new volume key does not decrypt the volume to the plaintext")
			}
		})
	}
}

// TestLUKSUnsupported checks that headers aeskl cannot use are refused
// with their reason before anything is written.
func TestLUKSUnsupported(t *testing.T) {
	cs := cryptsetup(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "pass", []byte("pw"))
	// A reencryption initialised, not run.
	reenc := writeFile(t, dir, "reenc", make([]byte, 4<<20))
	runCS(t, cs, nil, append(append([]string{"reencrypt", "--encrypt", "--init-only", "--reduce-device-size", "2M",
		"--key-file", keyFile, "--batch-mode"}, pbkdf2Cost...), reenc)...)

	for _, c := range []struct {
		img, want string
	}{
		{reenc, `a reencryption in progress (mandatory requirement "online-reencrypt-v2")`},
	} {
		before := readFile(t, c.img)
		out := filepath.Join(dir, "out")
		for _, args := range [][]string{
			{"luks", "decrypt", "--key-file", keyFile, c.img, out},
			{"luks", "encrypt", "--key-file", keyFile, c.img, keyFile},
		} {
			r := runAeskl(t, nil, args...)
			if r.code != 1 || !strings.Contains(r.stderr, "not supported: ") || !strings.Contains(r.stderr, c.want) {
				t.Errorf("aeskl %s: exit %d, %q; want an error naming %q", strings.Join(args, " "), r.code, r.stderr, c.want)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: an output was written", c.img)
		}
		if !bytes.Equal(readFile(t, c.img), before) {
			t.Errorf("%s: the image changed", c.img)
		}
		if r := mustRun(t, nil, "luks", "dump", c.img); !strings.Contains(r.stdout, "cannot use this volume: not supported: ") || !strings.Contains(r.stdout, c.want) {
			t.Errorf("dump does not say why:\n%s", r.stdout)
		}
	}
}

// TestLUKSErrors covers what needs no cryptsetup.
func TestLUKSErrors(t *testing.T) {
	dir := t.TempDir()
	notLUKS := writeFile(t, dir, "zeros", make([]byte, 1<<20))
	keyFile := writeFile(t, dir, "pass", []byte("pw"))
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"luks", "dump", notLUKS}, 1, "not a LUKS volume"},
		{[]string{"luks", "decrypt", "--key-file", keyFile, notLUKS, filepath.Join(dir, "out")}, 1, "not a LUKS volume"},
		{[]string{"luks", "dump"}, 2, "dump wants IMAGE"},
		{[]string{"luks", "frobnicate", notLUKS}, 2, `unknown operation "frobnicate"`},
		{[]string{"luks"}, 2, "want dump, decrypt or encrypt"},
		{[]string{"luks", "decrypt", notLUKS, "a", "b"}, 2, "at most one more argument"},
		{[]string{"luks", "dump", filepath.Join(dir, "missing")}, 1, "no such file"},
		{[]string{"luks", "decrypt", "--key-file", keyFile, "--keyfile-size", "1099511627776", notLUKS, filepath.Join(dir, "out")}, 2,
			"--keyfile-size 1099511627776 is more than 8388608 bytes (8 MiB)"},
		{[]string{"luks", "decrypt", "--key-file", keyFile, "--keyfile-size", "8388609", notLUKS, filepath.Join(dir, "out")}, 2,
			"--keyfile-size 8388609 is more than 8388608 bytes (8 MiB)"},
	} {
		r := runAeskl(t, nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("aeskl %s: exit %d, %q; want exit %d saying %q", strings.Join(c.args, " "), r.code, r.stderr, c.code, c.want)
		}
	}
	if r := runAeskl(t, nil, "luks", "--help"); r.code != 0 || !strings.Contains(r.stdout, "usage: aeskl luks dump") {
		t.Errorf("luks --help: exit %d\n%s", r.code, r.stdout)
	}
}

// TestLUKSDeviceMapper would fill an image through a live dm-crypt
// mapping; the offline reencryption fixtures above stand in for it where
// device-mapper is missing.
func TestLUKSDeviceMapper(t *testing.T) {
	deviceMapper(t)
	cs := cryptsetup(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "pass", []byte("pw"))
	img := writeFile(t, dir, "img", make([]byte, 4<<20))
	runCS(t, cs, nil, append(append([]string{"luksFormat", "--type", "luks2", "--luks2-metadata-size", "16k",
		"--luks2-keyslots-size", "1000k", "--key-file", keyFile, "--batch-mode", "--sector-size", "4096"}, argon2Cost...), img)...)
	loop, err := exec.Command("losetup", "--find", "--show", img).Output()
	if err != nil {
		t.Skipf("SKIP: no loop device: %v", err)
	}
	dev := strings.TrimSpace(string(loop))
	defer exec.Command("losetup", "-d", dev).Run()
	name := fmt.Sprintf("aeskl-luks-%d", os.Getpid())
	runCS(t, cs, nil, "open", "--key-file", keyFile, dev, name)
	plain := randData(9, 2<<20)
	err = os.WriteFile("/dev/mapper/"+name, plain, 0)
	exec.Command(cs, "close", name).Run()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	mustRun(t, nil, "luks", "decrypt", "--key-file", keyFile, "--quiet", img, out)
	if !bytes.Equal(readFile(t, out), plain) {
		t.Error("aeskl does not decrypt what dm-crypt wrote")
	}
}

// TestLUKSBackupHeader damages the primary LUKS2 header of an image
// cryptsetup made (its header size changed, so its checksum fails): aeskl
// uses the secondary copy, as cryptsetup does.
func TestLUKSBackupHeader(t *testing.T) {
	cs := cryptsetup(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "pass", []byte("pw"))
	img := writeFile(t, dir, "img", make([]byte, 3<<20))
	runCS(t, cs, nil, append(append([]string{"luksFormat", "--type", "luks2", "--luks2-metadata-size", "16k",
		"--luks2-keyslots-size", "1000k", "--key-file", keyFile, "--batch-mode"}, pbkdf2Cost...), img)...)
	b := readFile(t, img)
	binary.BigEndian.PutUint64(b[8:], 0x8000)
	img = writeFile(t, dir, "img", b)
	theirs := writeFile(t, dir, "img.cryptsetup", b) // cryptsetup repairs what it opens
	runCS(t, cs, nil, "open", "--test-passphrase", "--key-file", keyFile, theirs)

	r := mustRun(t, nil, "luks", "dump", img)
	if !strings.Contains(r.stdout, "Secondary header:\tat 16384, epoch 3, valid, in use") || !strings.Contains(r.stdout, "can unlock this volume") {
		t.Errorf("dump:\n%s", r.stdout)
	}
	out := filepath.Join(dir, "out")
	mustRun(t, nil, "luks", "decrypt", "--key-file", keyFile, "--quiet", img, out)
	if len(readFile(t, out)) != 1<<20 {
		t.Error("the data segment was not decrypted whole")
	}
	// The plaintext file is the user's alone, whatever the image's mode.
	if err := os.Chmod(img, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, nil, "luks", "decrypt", "--key-file", keyFile, "--quiet", "--force", img, out)
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600&^umask(t) {
		t.Errorf("the plaintext file: %v, %v; want mode 0600 less the umask", fi.Mode(), err)
	}
}

// TestLUKSTokensAndPriority checks that aeskl tries the keyslots cryptsetup
// tries with a passphrase: one bound to a token (which only says where a
// program may find its passphrase), and one of priority ignore only when
// --key-slot names it.
func TestLUKSTokensAndPriority(t *testing.T) {
	cs := cryptsetup(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "pass", []byte("pw"))
	img := writeFile(t, dir, "img", make([]byte, 3<<20))
	runCS(t, cs, nil, append(append([]string{"luksFormat", "--type", "luks2", "--luks2-metadata-size", "16k",
		"--luks2-keyslots-size", "1000k", "--key-file", keyFile, "--batch-mode"}, pbkdf2Cost...), img)...)
	out := filepath.Join(dir, "out")
	for _, typ := range []string{"systemd-recovery", "acme-hsm"} { // acme-hsm: a type no installed program knows
		tokFile := writeFile(t, dir, "token.json", []byte(`{"type":"`+typ+`","keyslots":["0"]}`))
		runCS(t, cs, nil, "token", "import", "--json-file", tokFile, "--token-id", "0", "--token-replace", img)
		runCS(t, cs, nil, "open", "--test-passphrase", "--key-file", keyFile, img)
		for _, args := range [][]string{nil, {"--key-slot", "0"}} {
			os.Remove(out)
			mustRun(t, nil, append(append([]string{"luks", "decrypt", "--key-file", keyFile, "--quiet"}, args...), img, out)...)
			if len(readFile(t, out)) != 1<<20 {
				t.Errorf("a keyslot bound to a %s token, %v: the segment was not decrypted whole", typ, args)
			}
		}
		if r := mustRun(t, nil, "luks", "dump", img); !strings.Contains(r.stdout, "can unlock this volume") {
			t.Errorf("dump with a %s token:\n%s", typ, r.stdout)
		}
	}

	runCS(t, cs, nil, "config", "--priority", "ignore", "--key-slot", "0", img)
	if err := exec.Command(cs, "open", "--test-passphrase", "--key-file", keyFile, img).Run(); err == nil {
		t.Error("cryptsetup opens a keyslot of priority ignore it was not given: the test's premise is wrong")
	}
	runCS(t, cs, nil, "open", "--test-passphrase", "--key-file", keyFile, "--key-slot", "0", img)
	os.Remove(out)
	if r := runAeskl(t, nil, "luks", "decrypt", "--key-file", keyFile, img, out); r.code != 1 ||
		!strings.Contains(r.stderr, "keyslot 0 has priority ignore (name it to use it)") {
		t.Errorf("priority ignore, no --key-slot: exit %d, %s", r.code, r.stderr)
	}
	mustRun(t, nil, "luks", "decrypt", "--key-file", keyFile, "--key-slot", "0", "--quiet", img, out)
	if len(readFile(t, out)) != 1<<20 {
		t.Error("priority ignore, --key-slot 0: the segment was not decrypted whole")
	}
}

// TestLUKSOutputIsImage checks that aeskl luks refuses to write the
// plaintext over the image it reads, or to read the image as its own
// plaintext, however the two are named, --force or not.
func TestLUKSOutputIsImage(t *testing.T) {
	cs := cryptsetup(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "pass", []byte("pw"))
	img := writeFile(t, dir, "img", make([]byte, 3<<20))
	runCS(t, cs, nil, append(append([]string{"luksFormat", "--type", "luks2", "--luks2-metadata-size", "16k",
		"--luks2-keyslots-size", "1000k", "--key-file", keyFile, "--batch-mode"}, pbkdf2Cost...), img)...)
	link := filepath.Join(dir, "link")
	if err := os.Link(img, link); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, img)
	for _, args := range [][]string{
		{"decrypt", "--force", img, img},
		{"decrypt", "--force", img, link},
		{"decrypt", img, img},
		{"encrypt", img, img},
		{"encrypt", img, link},
	} {
		r := runAeskl(t, nil, append([]string{"luks", "--key-file", keyFile, "--quiet"}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "is IMAGE itself") {
			t.Errorf("aeskl luks %s: exit %d, %q", strings.Join(args, " "), r.code, r.stderr)
		}
		if !bytes.Equal(readFile(t, img), before) {
			t.Fatalf("aeskl luks %s changed the image", strings.Join(args, " "))
		}
	}
	// Two nodes of the same block device.
	t.Run("device", func(t *testing.T) {
		dev := loopDevice(t, img)
		alias := blockNodeAlias(t, dev, filepath.Join(dir, "alias"))
		r := runAeskl(t, nil, "luks", "decrypt", "--force", "--key-file", keyFile, dev, alias)
		if r.code != 1 || !strings.Contains(r.stderr, "is IMAGE itself") {
			t.Errorf("decrypt a device onto another node of it: exit %d, %q", r.code, r.stderr)
		}
		if !bytes.Equal(readFile(t, img), before) {
			t.Fatal("the image changed")
		}
	})
	// Standard output or input opened on the image.
	for _, op := range []string{"decrypt", "encrypt"} {
		f, err := os.OpenFile(img, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "luks", op, "--key-file", keyFile, "--quiet", img, "-")
		cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1", "GORACE=atexit_sleep_ms=0")
		var errb bytes.Buffer
		if op == "decrypt" {
			cmd.Stdout = f
		} else {
			cmd.Stdin = f
		}
		cmd.Stderr = &errb
		err = cmd.Run()
		f.Close()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "is IMAGE itself") {
			t.Errorf("luks %s with the image as standard %s: %v, %q", op, map[string]string{"decrypt": "output", "encrypt": "input"}[op], err, errb.String())
		}
		if !bytes.Equal(readFile(t, img), before) {
			t.Fatalf("luks %s through standard input or output changed the image", op)
		}
	}
}
