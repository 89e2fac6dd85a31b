package luks

import (
	"bytes"
	stdpbkdf2 "crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/aeskl/disk"
)

func TestPBKDF2(t *testing.T) {
	for _, c := range []struct {
		name string
		h    func() hash.Hash
	}{{"sha1", sha1.New}, {"sha256", sha256.New}, {"sha512", sha512.New}, {"sha3-256", hashes["sha3-256"]}} {
		for _, pass := range []string{"", "password", strings.Repeat("long passphrase ", 20)} {
			for _, iter := range []int{1, 2, 1000} {
				for _, n := range []int{1, 20, 32, 64, 100} {
					want, err := stdpbkdf2.Key(c.h, pass, []byte("salt"), iter, n)
					if err != nil {
						t.Fatal(err)
					}
					got, err := pbkdf2(c.h, []byte(pass), []byte("salt"), iter, n)
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("%s, %d-byte password, %d iterations, %d bytes: %x, %v; want %x", c.name, len(pass), iter, n, got, err, want)
					}
				}
			}
		}
	}
	if _, err := pbkdf2(sha256.New, nil, nil, 0, 32); err == nil {
		t.Error("zero iterations accepted")
	}
}

func TestAFMerge(t *testing.T) {
	r := testRand(5)
	for _, n := range []int{16, 32, 33, 64} {
		for _, h := range []func() hash.Hash{sha256.New, sha1.New, sha512.New} {
			key := randBytesT(r, n)
			split := refSplit(r, key, 37, h)
			if got := afMerge(split, n, 37, h); !bytes.Equal(got, key) {
				t.Errorf("%d-byte key: merge gives %x, want %x", n, got, key)
			}
			split[5] ^= 1 // any stripe matters
			if got := afMerge(split, n, 37, h); bytes.Equal(got, key) {
				t.Errorf("%d-byte key: merge ignores a flipped bit", n)
			}
		}
	}
}

func decryptVolume(t *testing.T, img []byte, v *Volume) []byte {
	t.Helper()
	n, err := v.Length(int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tr := &disk.Transformer{Cipher: v.Cipher, Layout: v.Layout, Decrypt: true}
	if _, err := tr.Stream(&out, bytes.NewReader(img[v.Offset:v.Offset+n]), 0, n); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestUnlock(t *testing.T) {
	for _, o := range []testImage{
		{kdf: "pbkdf2", pass: "correct horse", keyLen: 64, sectorSize: 512, dataLen: 64 << 10},
		{kdf: "argon2id", pass: "battery staple", keyLen: 32, sectorSize: 4096, dataLen: 64 << 10},
		{kdf: "argon2i", pass: "", keyLen: 64, sectorSize: 4096, dataLen: 32 << 10, ivTweak: 24},
	} {
		img, _, plain := o.make(t)
		h, err := Read(bytes.NewReader(img))
		if err != nil {
			t.Fatalf("%s: %v", o.kdf, err)
		}
		if h.Version != 2 || h.Label != "test label" || h.SeqID != 3 || len(h.Copies) != 2 || !h.Copies[0].Used || h.Copies[1].Error != "" {
			t.Errorf("%s: header %+v", o.kdf, h)
		}
		if err := h.Check(); err != nil {
			t.Errorf("%s: Check: %v", o.kdf, err)
		}
		if _, err := h.Unlock(bytes.NewReader(img), []byte(o.pass+"x"), -1); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("%s: wrong passphrase: %v", o.kdf, err)
		}
		v, err := h.Unlock(bytes.NewReader(img), []byte(o.pass), -1)
		if err != nil {
			t.Fatalf("%s: %v", o.kdf, err)
		}
		if v.Offset != testDataOffset || v.Size != -1 || v.Layout.SectorSize != o.sectorSize || v.Layout.IVOffset != o.ivTweak || v.XTS() == nil {
			t.Errorf("%s: volume %+v", o.kdf, v)
		}
		if got := decryptVolume(t, img, v); !bytes.Equal(got, plain) {
			t.Errorf("%s: the data segment does not decrypt to the plaintext", o.kdf)
		}
		v.Close()
		if _, err := h.Unlock(bytes.NewReader(img), []byte(o.pass), 1); err == nil || !strings.Contains(err.Error(), "keyslot 1: no such keyslot") {
			t.Errorf("%s: keyslot 1: %v", o.kdf, err)
		}
	}
}

func TestLUKS1(t *testing.T) {
	img, _, plain := luks1Image(t, "luks one", 32, 16<<10)
	h, err := Read(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 1 || len(h.Keyslots) != 1 || h.Keyslots[0].ID != 2 || h.Segments[0].Encryption != "aes-xts-plain64" || h.Segments[0].Offset != 4096*512 {
		t.Errorf("header %+v", h)
	}
	if _, err := h.Unlock(bytes.NewReader(img), []byte("luks two"), -1); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	v, err := h.Unlock(bytes.NewReader(img), []byte("luks one"), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.Keyslot != 2 || !bytes.Equal(decryptVolume(t, img, v), plain) {
		t.Error("the LUKS1 volume does not decrypt to the plaintext")
	}
	var b strings.Builder
	h.Dump(&b)
	if !strings.Contains(b.String(), "Version:       \t1") || !strings.Contains(b.String(), "  2: luks1") {
		t.Errorf("dump:\n%s", b.String())
	}
}

func TestHeaderCopies(t *testing.T) {
	base := testImage{kdf: "pbkdf2", pass: "p", keyLen: 32, sectorSize: 512, dataLen: 4096}
	img, _, _ := base.make(t)

	// A flipped bit in the primary's JSON area: the secondary is used.
	bad := bytes.Clone(img)
	bad[4096+10] ^= 1
	h, err := Read(bytes.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if h.Copies[0].Used || !h.Copies[1].Used || !strings.Contains(h.Copies[0].Error, "checksum mismatch") {
		t.Errorf("primary corrupted: copies %+v", h.Copies)
	}
	// A wiped primary: the secondary is found where cryptsetup looks.
	bad = bytes.Clone(img)
	clear(bad[:4096])
	if h, err = Read(bytes.NewReader(bad)); err != nil || !h.Copies[1].Used || h.Copies[1].Offset != testHdrSize {
		t.Errorf("primary wiped: %v, %+v", err, h)
	}
	// A primary whose checksum fails says its header is 32 KiB: its size is
	// not trusted, and the secondary is found at 16 KiB, as cryptsetup
	// finds it.
	bad = bytes.Clone(img)
	binary.BigEndian.PutUint64(bad[8:], 0x8000)
	if h, err = Read(bytes.NewReader(bad)); err != nil || !h.Copies[1].Used || h.Copies[1].Offset != testHdrSize ||
		!strings.Contains(h.Copies[0].Error, "checksum mismatch") {
		t.Errorf("primary with a bad checksum and another header size: %v, %+v", err, h)
	}
	// Its checksum right, the primary's size is used (the secondary is then
	// inside its JSON area, which is invalid).
	clear(bad[448:512])
	sum := sha256.Sum256(bad[:0x8000])
	copy(bad[448:], sum[:])
	if _, err = Read(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "secondary: no LUKS2 magic") {
		t.Errorf("primary with a valid checksum and another header size: %v", err)
	}
	// Both corrupted.
	bad = bytes.Clone(img)
	clear(bad[:4096])
	bad[testHdrSize+5000] ^= 1
	if _, err = Read(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "no valid LUKS2 header") {
		t.Errorf("both copies corrupted: %v", err)
	}
	// A newer secondary wins.
	newer := testImage{kdf: "pbkdf2", pass: "p", keyLen: 32, sectorSize: 512, dataLen: 4096, seqid: 4,
		edit: func(m map[string]any) { m["config"].(map[string]any)["flags"] = []string{"allow-discards"} }}
	img2, _, _ := newer.make(t)
	mixed := bytes.Clone(img)
	copy(mixed[testHdrSize:2*testHdrSize], img2[testHdrSize:])
	if h, err = Read(bytes.NewReader(mixed)); err != nil || !h.Copies[1].Used || h.SeqID != 4 || len(h.Config.Flags) != 1 {
		t.Errorf("newer secondary: %v, %+v", err, h)
	}
	// Garbage after the JSON text.
	bad = bytes.Clone(img)
	i := 4096 + bytes.IndexByte(img[4096:testHdrSize], 0)
	bad[i+3] = 'x'
	writeHeaderCopyRaw(bad, 0)
	if h, err = Read(bytes.NewReader(bad)); err != nil || !strings.Contains(h.Copies[0].Error, "after the JSON text") {
		t.Errorf("garbage after the JSON: %v, %+v", err, h.Copies)
	}
	// Not LUKS at all; too short.
	if _, err := Read(bytes.NewReader(make([]byte, 1<<20))); !errors.Is(err, ErrNotLUKS) {
		t.Errorf("zeros: %v", err)
	}
	if _, err := Read(bytes.NewReader(make([]byte, 100))); !errors.Is(err, ErrNotLUKS) {
		t.Errorf("100 bytes: %v", err)
	}
}

// writeHeaderCopyRaw recomputes the checksum of the copy at off.
func writeHeaderCopyRaw(img []byte, off int) {
	h := img[off : off+testHdrSize]
	clear(h[448:512])
	sum := sha256.Sum256(h)
	copy(h[448:], sum[:])
}

func TestUnsupported(t *testing.T) {
	seg := func(m map[string]any) map[string]any {
		return m["segments"].(map[string]any)["0"].(map[string]any)
	}
	for _, c := range []struct {
		want string
		edit func(m map[string]any)
	}{
		{"integrity protection (segment 0: dm-integrity with hmac(sha256))", func(m map[string]any) {
			seg(m)["integrity"] = map[string]any{"type": "hmac(sha256)", "journal_encryption": "none", "journal_integrity": "none"}
		}},
		{`a reencryption in progress (mandatory requirement "online-reencrypt-v2")`, func(m map[string]any) {
			m["config"].(map[string]any)["requirements"] = map[string]any{"mandatory": []string{"online-reencrypt-v2"}}
		}},
		{`a requirement this program does not know (mandatory requirement "frobnicate")`, func(m map[string]any) {
			m["config"].(map[string]any)["requirements"] = map[string]any{"mandatory": []string{"frobnicate"}}
		}},
		{"a reencryption in progress (keyslot 1 is a reencryption keyslot)", func(m map[string]any) {
			m["keyslots"].(map[string]any)["1"] = map[string]any{"type": "reencrypt", "mode": "reencrypt"}
		}},
		{"a reencryption in progress (segment 1 is flagged backup-previous)", func(m map[string]any) {
			s := map[string]any{}
			for k, v := range seg(m) {
				s[k] = v
			}
			s["flags"] = []string{"backup-previous"}
			m["segments"].(map[string]any)["1"] = s
		}},
		{`cipher "serpent-xts-plain64" is not supported`, func(m map[string]any) { seg(m)["encryption"] = "serpent-xts-plain64" }},
		{`segment 0 of type "linear"`, func(m map[string]any) { seg(m)["type"] = "linear" }},
		{"segment 0's iv_tweak 4 is not a multiple of 8", func(m map[string]any) {
			seg(m)["sector_size"], seg(m)["iv_tweak"] = 4096, "4"
		}},
	} {
		img, _, _ := testImage{kdf: "pbkdf2", pass: "p", keyLen: 32, sectorSize: 512, dataLen: 4096, edit: c.edit}.make(t)
		h, err := Read(bytes.NewReader(img))
		if err != nil {
			t.Errorf("%s: Read: %v", c.want, err)
			continue
		}
		err = h.Check()
		var u *UnsupportedError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check: %v, want an UnsupportedError saying %q", err, c.want)
		}
		if _, err2 := h.Unlock(bytes.NewReader(img), []byte("p"), -1); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("Unlock of a header Check refuses: %v", err2)
		}
		var b bytes.Buffer
		h.DumpJSON(&b)
		var j struct {
			Supported   bool   `json:"supported"`
			Unsupported string `json:"unsupported"`
		}
		if err := json.Unmarshal(b.Bytes(), &j); err != nil || j.Supported || !strings.Contains(j.Unsupported, c.want) {
			t.Errorf("DumpJSON: %v, %+v", err, j)
		}
	}
}

// TestKeyslotChoice checks which keyslots Unlock tries, as cryptsetup's
// LUKS2_keyslot_open: tokens play no part (a token only says where a
// program may find a keyslot's passphrase); without a keyslot named,
// priority prefer first, then normal, never ignore; a named keyslot
// whatever its priority.
func TestKeyslotChoice(t *testing.T) {
	ks := func(m map[string]any, id string) map[string]any {
		return m["keyslots"].(map[string]any)[id].(map[string]any)
	}
	token := func(typ string) func(m map[string]any) {
		return func(m map[string]any) {
			m["tokens"].(map[string]any)["0"] = map[string]any{"type": typ, "keyslots": []string{"0"}}
		}
	}
	unlock := func(name string, edit func(m map[string]any), keyslot int) (*Header, []byte, error) {
		t.Helper()
		img, _, _ := testImage{kdf: "pbkdf2", pass: "p", keyLen: 32, sectorSize: 512, dataLen: 4096, edit: edit}.make(t)
		h, err := Read(bytes.NewReader(img))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := h.Check(); err != nil {
			t.Errorf("%s: Check: %v", name, err)
		}
		v, err := h.Unlock(bytes.NewReader(img), []byte("p"), keyslot)
		if err == nil {
			if v.Keyslot != max(keyslot, 0) {
				t.Errorf("%s: opened by keyslot %d", name, v.Keyslot)
			}
			v.Close()
		}
		return h, img, err
	}
	// Keyslots bound to tokens, of cryptsetup's own types or not, open with
	// their passphrase, named or not.
	for _, typ := range []string{"luks2-keyring", "systemd-recovery", "systemd-tpm2", "acme-hsm"} {
		for _, slot := range []int{-1, 0} {
			if _, _, err := unlock(typ, token(typ), slot); err != nil {
				t.Errorf("keyslot 0 bound to a %s token, keyslot %d: %v", typ, slot, err)
			}
		}
	}
	// A wrong passphrase says which keyslot's passphrase may come from a
	// token.
	h, img, _ := unlock("systemd-tpm2", token("systemd-tpm2"), -1)
	if _, err := h.Unlock(bytes.NewReader(img), []byte("q"), -1); !errors.Is(err, ErrWrongPassphrase) ||
		!strings.Contains(err.Error(), `keyslot 0 is bound to token 0 of type "systemd-tpm2"`) {
		t.Errorf("wrong passphrase, token-bound keyslot: %v", err)
	}
	// Priority ignore: tried only when named.
	ignore := func(m map[string]any) { ks(m, "0")["priority"] = 0 }
	if _, _, err := unlock("ignore", ignore, -1); err == nil || errors.Is(err, ErrWrongPassphrase) ||
		!strings.Contains(err.Error(), "keyslot 0 has priority ignore (name it to use it)") {
		t.Errorf("keyslot of priority ignore, not named: %v", err)
	}
	if _, _, err := unlock("ignore", ignore, 0); err != nil {
		t.Errorf("keyslot of priority ignore, named: %v", err)
	}
	// Two keyslots that both open the volume: the preferred one opens it.
	twin := func(prio int) func(m map[string]any) {
		return func(m map[string]any) {
			k := map[string]any{}
			for key, v := range ks(m, "0") {
				k[key] = v
			}
			k["priority"] = prio
			m["keyslots"].(map[string]any)["1"] = k
			d := m["digests"].(map[string]any)["0"].(map[string]any)
			d["keyslots"] = []string{"0", "1"}
		}
	}
	for _, c := range []struct {
		prio, want int
	}{{2, 1}, {1, 0}, {0, 0}} {
		img, _, _ := testImage{kdf: "pbkdf2", pass: "p", keyLen: 32, sectorSize: 512, dataLen: 4096, edit: twin(c.prio)}.make(t)
		h, err := Read(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		v, err := h.Unlock(bytes.NewReader(img), []byte("p"), -1)
		if err != nil || v.Keyslot != c.want {
			t.Errorf("keyslot 1 of priority %d: %v, want keyslot %d to open it", c.prio, err, c.want)
		}
		if v != nil {
			v.Close()
		}
	}
}

func TestKeyslotProblems(t *testing.T) {
	ks := func(m map[string]any) map[string]any {
		return m["keyslots"].(map[string]any)["0"].(map[string]any)
	}
	for _, c := range []struct {
		want string
		edit func(m map[string]any)
	}{
		{`hash "whirlpool"`, func(m map[string]any) { ks(m)["af"].(map[string]any)["hash"] = "whirlpool" }},
		{`KDF "scrypt"`, func(m map[string]any) { ks(m)["kdf"].(map[string]any)["type"] = "scrypt" }},
		{"3999 anti-forensic stripes", func(m map[string]any) { ks(m)["af"].(map[string]any)["stripes"] = 3999 }},
		{"smaller than its key material", func(m map[string]any) { ks(m)["area"].(map[string]any)["size"] = "4096" }},
		{"reading its key material", func(m map[string]any) { ks(m)["area"].(map[string]any)["offset"] = "104857600" }},
		{"PBKDF2 iterations 0 out of range", func(m map[string]any) { ks(m)["kdf"].(map[string]any)["iterations"] = 0 }},
		{"its area: aes-xts-plain64 takes a key of 32, 48 or 64 bytes, not 1073741824", func(m map[string]any) { ks(m)["area"].(map[string]any)["key_size"] = 1 << 30 }},
		{"a 16-byte KDF salt", func(m map[string]any) { ks(m)["kdf"].(map[string]any)["salt"] = make([]byte, 16) }},
		{"digest 0: bad parameters (1000 iterations, 32-byte salt, 1024-byte digest)", func(m map[string]any) {
			m["digests"].(map[string]any)["0"].(map[string]any)["digest"] = make([]byte, 1024)
		}},
	} {
		img, _, _ := testImage{kdf: "pbkdf2", pass: "p", keyLen: 32, sectorSize: 512, dataLen: 4096, edit: c.edit}.make(t)
		h, err := Read(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.Unlock(bytes.NewReader(img), []byte("p"), -1)
		if err == nil || errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Unlock: %v, want an error saying %q", err, c.want)
		}
	}
	// Argon2 memory beyond the limit is refused before it is allocated.
	img, _, _ := testImage{kdf: "argon2id", pass: "p", keyLen: 32, sectorSize: 512, dataLen: 4096, edit: func(m map[string]any) {
		ks(m)["kdf"].(map[string]any)["memory"] = 1 << 40
	}}.make(t)
	h, _ := Read(bytes.NewReader(img))
	if _, err := h.Unlock(bytes.NewReader(img), []byte("p"), -1); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("1 PiB of argon2 memory: %v", err)
	}
	// So is work (passes times memory) beyond the limit: 2^27 passes over
	// 64 KiB would run for hours.
	img, _, _ = testImage{kdf: "argon2id", pass: "p", keyLen: 32, sectorSize: 512, dataLen: 4096, edit: func(m map[string]any) {
		ks(m)["kdf"].(map[string]any)["time"] = 1 << 27
	}}.make(t)
	h, _ = Read(bytes.NewReader(img))
	done := make(chan error, 1)
	go func() { _, err := h.Unlock(bytes.NewReader(img), []byte("p"), -1); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("2^27 argon2 passes over 64 KiB: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("2^27 argon2 passes over 64 KiB: still deriving after 5 s, not refused")
	}
}

func TestDump(t *testing.T) {
	img, _, _ := testImage{kdf: "argon2id", pass: "p", keyLen: 64, sectorSize: 4096, dataLen: 4096}.make(t)
	h, err := Read(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := h.Dump(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Version:       \t2", "Epoch:         \t3", "Label:         \ttest label",
		"Secondary header:\tat 16384, epoch 3, valid", "sector: 4096 [bytes]", "Key:        512 bits", "PBKDF:      argon2id",
		"Memory:     64", "AF stripes: 4000", "can unlock this volume"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("dump lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := h.DumpJSON(&b); err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(b.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if j["supported"] != true || j["metadata"].(map[string]any)["segments"] == nil || j["version"] != 2.0 {
		t.Errorf("JSON dump: %v", j)
	}
}
