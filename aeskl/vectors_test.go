package aeskl

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Wycheproof through the Go module proxy (as Go's cryptotest.FetchModule).
const (
	wycheproofModule  = "github.com/c2sp/wycheproof"
	wycheproofVersion = "v0.0.0-20260902155932-3fa63dd0344a"
)

var (
	wycheproofOnce sync.Once
	wycheproofDir  string
	wycheproofErr  error
)

func wycheproof(t *testing.T, file string) []byte {
	t.Helper()
	wycheproofOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			wycheproofErr = err
			return
		}
		out, err := exec.Command(goBin, "mod", "download", "-json", wycheproofModule+"@"+wycheproofVersion).Output()
		if err != nil {
			wycheproofErr = fmt.Errorf("go mod download %s@%s: %v %s", wycheproofModule, wycheproofVersion, err, out)
			return
		}
		var m struct{ Dir string }
		if err := json.Unmarshal(out, &m); err != nil {
			wycheproofErr = err
			return
		}
		wycheproofDir = m.Dir
	})
	if wycheproofErr != nil {
		t.Skipf("Wycheproof vectors unavailable (no module proxy?): %v", wycheproofErr)
	}
	b, err := os.ReadFile(filepath.Join(wycheproofDir, "testvectors_v1", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	*h = d
	return err
}

type wycheproofFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		KeySize int `json:"keySize"`
		IVSize  int `json:"ivSize"`
		TagSize int `json:"tagSize"`
		Tests   []struct {
			TcID    int      `json:"tcId"`
			Key     hexBytes `json:"key"`
			IV      hexBytes `json:"iv"`
			AAD     hexBytes `json:"aad"`
			Msg     hexBytes `json:"msg"`
			CT      hexBytes `json:"ct"`
			Tag     hexBytes `json:"tag"`
			Result  string   `json:"result"`
			Comment string   `json:"comment"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func loadWycheproof(t *testing.T, file string) *wycheproofFile {
	var f wycheproofFile
	if err := json.Unmarshal(wycheproof(t, file), &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func TestWycheproofXTS(t *testing.T) {
	f := loadWycheproof(t, "aes_xts_test.json")
	for _, n := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(8*n), func(t *testing.T) {
			forEach(t, n, func(t *testing.T, v variant) {
				ran := 0
				for _, g := range f.TestGroups {
					if g.KeySize != 16*n {
						continue
					}
					for _, tc := range g.Tests {
						var tweak [16]byte
						copy(tweak[:], tc.IV)
						x, err := NewXTS(tc.Key, v.opts...)
						if err != nil {
							t.Fatal(err)
						}
						got := make([]byte, len(tc.Msg))
						err = x.EncryptTweak(got, tc.Msg, tweak)
						if err != nil || !bytes.Equal(got, tc.CT) {
							t.Errorf("tcId %d (%s): encrypt %x, %v", tc.TcID, tc.Comment, got, err)
						}
						err = x.DecryptTweak(got, tc.CT, tweak)
						if err != nil || !bytes.Equal(got, tc.Msg) {
							t.Errorf("tcId %d: decrypt: %v", tc.TcID, err)
						}
						ran++
					}
				}
				if ran == 0 {
					t.Fatal("no vectors for this key size")
				}
			})
		})
	}
}

func TestWycheproofGCM(t *testing.T) {
	f := loadWycheproof(t, "aes_gcm_test.json")
	for _, n := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(8*n), func(t *testing.T) {
			forEach(t, n, func(t *testing.T, v variant) {
				ran := 0
				for _, g := range f.TestGroups {
					if g.KeySize != 8*n {
						continue
					}
					for _, tc := range g.Tests {
						c := mustNew(t, v, tc.Key)
						a, err := c.NewGCM(g.IVSize/8, g.TagSize/8)
						ran++
						if err != nil {
							if tc.Result == "valid" {
								t.Errorf("tcId %d: NewGCM: %v", tc.TcID, err)
							}
							continue
						}
						sealed := a.Seal(nil, tc.IV, tc.Msg, tc.AAD)
						wantSealed := append(bytes.Clone(tc.CT), tc.Tag...)
						opened, err := a.Open(nil, tc.IV, wantSealed, tc.AAD)
						switch tc.Result {
						case "valid":
							if !bytes.Equal(sealed, wantSealed) {
								t.Errorf("tcId %d: Seal = %x, want %x", tc.TcID, sealed, wantSealed)
							}
							if err != nil || !bytes.Equal(opened, tc.Msg) {
								t.Errorf("tcId %d: Open: %v", tc.TcID, err)
							}
						case "invalid":
							if err == nil {
								t.Errorf("tcId %d (%s): Open accepted an invalid message", tc.TcID, tc.Comment)
							}
						}
					}
				}
				if ran == 0 {
					t.Fatal("no vectors for this key size")
				}
			})
		})
	}
}

func TestWycheproofCBC(t *testing.T) {
	f := loadWycheproof(t, "aes_cbc_pkcs5_test.json")
	for _, n := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(8*n), func(t *testing.T) {
			forEach(t, n, func(t *testing.T, v variant) {
				ran := 0
				for _, g := range f.TestGroups {
					if g.KeySize != 8*n {
						continue
					}
					for _, tc := range g.Tests {
						ran++
						c := mustNew(t, v, tc.Key)
						if len(tc.CT)%16 != 0 || len(tc.CT) == 0 {
							if tc.Result == "valid" {
								t.Errorf("tcId %d: valid but not whole blocks", tc.TcID)
							}
							continue
						}
						pt := make([]byte, len(tc.CT))
						cipher.NewCBCDecrypter(c, tc.IV).CryptBlocks(pt, tc.CT)
						msg, ok := pkcs7Unpad(pt)
						if ok != (tc.Result == "valid") || ok && !bytes.Equal(msg, tc.Msg) {
							t.Errorf("tcId %d (%s): unpad ok=%v, result %s", tc.TcID, tc.Comment, ok, tc.Result)
						}
						if tc.Result == "valid" {
							padded := append(bytes.Clone(tc.Msg), bytes.Repeat([]byte{byte(16 - len(tc.Msg)%16)}, 16-len(tc.Msg)%16)...)
							ct := make([]byte, len(padded))
							cipher.NewCBCEncrypter(c, tc.IV).CryptBlocks(ct, padded)
							if !bytes.Equal(ct, tc.CT) {
								t.Errorf("tcId %d: encrypt %x", tc.TcID, ct)
							}
						}
					}
				}
				if ran == 0 {
					t.Fatal("no vectors for this key size")
				}
			})
		})
	}
}

func pkcs7Unpad(b []byte) ([]byte, bool) {
	p := int(b[len(b)-1])
	if p == 0 || p > 16 {
		return nil, false
	}
	for _, x := range b[len(b)-p:] {
		if int(x) != p {
			return nil, false
		}
	}
	return b[:len(b)-p], true
}

// TestXTSAgainstOpenSSL compares XTS with ciphertext stealing, every length
// from 16 to 100 bytes and some larger, with OpenSSL through Debian's
// python3-cryptography: an independent implementation.
func TestXTSAgainstOpenSSL(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: cannot compare with OpenSSL")
	}
	if out, err := exec.Command(py, "-c", "import cryptography").CombinedOutput(); err != nil {
		t.Skipf("python3-cryptography not installed (apt-get install python3-cryptography): %s", out)
	}
	type job struct {
		key, tweak, msg []byte
	}
	var jobs []job
	var lines []string
	for _, kl := range []int{32, 64} {
		for n := 16; n <= 100; n++ {
			j := job{randBytes(kl), randBytes(16), randBytes(n)}
			jobs = append(jobs, j)
			lines = append(lines, fmt.Sprintf("%x %x %x", j.key, j.tweak, j.msg))
		}
		for _, n := range []int{255, 4096 + 7} {
			j := job{randBytes(kl), randBytes(16), randBytes(n)}
			jobs = append(jobs, j)
			lines = append(lines, fmt.Sprintf("%x %x %x", j.key, j.tweak, j.msg))
		}
	}
	const script = `
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
for line in sys.stdin:
    k, tw, m = (bytes.fromhex(x) for x in line.split())
    e = Cipher(algorithms.AES(k), modes.XTS(tw)).encryptor()
    print((e.update(m) + e.finalize()).hex())
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 OpenSSL XTS: %v", err)
	}
	want := strings.Fields(string(out))
	if len(want) != len(jobs) {
		t.Fatalf("OpenSSL gave %d results for %d inputs", len(want), len(jobs))
	}
	for _, n := range []int{16, 32} {
		t.Run(fmt.Sprint(8*n), func(t *testing.T) {
			forEach(t, n, func(t *testing.T, v variant) {
				for i, j := range jobs {
					if len(j.key) != 2*n {
						continue
					}
					x, err := NewXTS(j.key, v.opts...)
					if err != nil {
						t.Fatal(err)
					}
					got := make([]byte, len(j.msg))
					if err := x.EncryptTweak(got, j.msg, [16]byte(j.tweak)); err != nil {
						t.Fatal(err)
					}
					if hex.EncodeToString(got) != want[i] {
						t.Fatalf("%d bytes: XTS differs from OpenSSL", len(j.msg))
					}
					if err := x.DecryptTweak(got, got, [16]byte(j.tweak)); err != nil || !bytes.Equal(got, j.msg) {
						t.Fatalf("%d bytes: decrypt: %v", len(j.msg), err)
					}
				}
			})
		})
	}
}
