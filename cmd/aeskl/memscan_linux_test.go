package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/internal/fallback"
	"github.com/go-keylocker/keylocker/internal/memscan"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/blake2b"
)

// envXCryptoArgon2 makes the command, run by TestFilePassphraseNotInMemory
// as its control, derive the key with x/crypto/argon2 (as it once did).
const envXCryptoArgon2 = "AESKL_TEST_XCRYPTO_ARGON2"

func init() {
	if os.Getenv("AESKL_CMD_TEST") != "" && os.Getenv(envXCryptoArgon2) != "" {
		deriveKey = func(dst, pw, salt []byte, a argon2Params) (fallback.MemoryStatus, error) {
			k := argon2.IDKey(pw, salt, a.time, a.memory, a.threads, uint32(len(dst)))
			copy(dst, k)
			clear(k)
			return fallback.MemoryStatus{Locked: true}, nil
		}
	}
}

// scanCost is the argon2id cost of the scanned encryptions: one pass, so
// that the first blocks of each lane are still as they were made; 16 MiB
// over 4 lanes.
var scanCost = argon2Params{time: 1, memory: 16 << 10, threads: 4}

// hPrime is Argon2's H' (RFC 9106, section 3.3), with x/crypto/blake2b.
func hPrime(out []byte, in ...[]byte) {
	h, _ := blake2b.New512(nil)
	h.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(out))))
	for _, b := range in {
		h.Write(b)
	}
	v := h.Sum(nil)
	for len(out) > 64 {
		copy(out, v[:32])
		out = out[32:]
		s := blake2b.Sum512(v)
		v = s[:]
	}
	copy(out, v[len(v)-len(out):]) // len(out) is 64 here: the last V whole
}

// passphraseNeedles computes, as an attacker who knows the passphrase
// and reads the salt in the file's header would, what the command's
// key derivation handles: the passphrase, the derived main key (with its
// AES key schedule forms), H0, and the first two blocks of every lane
// (H' of H0, the block index and the lane: with one pass nothing
// overwrites them), as 32-byte pieces.
func passphraseNeedles(pass, salt []byte, a argon2Params) (needles [][]byte, names []string) {
	add := func(b []byte, name string) {
		needles, names = append(needles, b), append(names, name)
	}
	add(pass, "passphrase")
	mk := argon2.IDKey(pass, salt, a.time, a.memory, a.threads, 32)
	for _, n := range memscan.NeedleSet(mk) {
		add(n.Bytes, "main key: "+n.Name)
	}
	le := binary.LittleEndian
	var params []byte
	for _, x := range []uint32{uint32(a.threads), 32, a.memory, a.time, 0x13, 2, uint32(len(pass))} {
		params = le.AppendUint32(params, x)
	}
	params = append(params, pass...)
	params = le.AppendUint32(params, uint32(len(salt)))
	params = append(params, salt...)
	params = le.AppendUint32(params, 0)
	params = le.AppendUint32(params, 0)
	h0 := blake2b.Sum512(params)
	add(h0[:], "H0")
	block := make([]byte, 1024)
	for l := range uint32(a.threads) {
		for j := range uint32(2) {
			hPrime(block, h0[:], le.AppendUint32(nil, j), le.AppendUint32(nil, l))
			for off := 0; off < len(block); off += 32 {
				add(bytes.Clone(block[off:off+32]), fmt.Sprintf("lane %d block %d bytes %d..%d", l, j, off, off+32))
			}
		}
	}
	return needles, names
}

// TestFilePassphraseNotInMemory proves the promise of encrypt's passphrase
// path the way an attacker with a memory disclosure would check it: a
// child process runs aeskl encrypt --passphrase-file with standard input
// and output as IN and OUT; once it has written the header and a first
// segment it waits for more input, with its stream key alive. The parent
// reads the salt in the header, computes the passphrase's H0, the first
// Argon2 blocks of every lane and the main key (with x/crypto), and
// searches the child's memory (/proc/PID/mem) for them and for the
// passphrase: none is there. The control runs the same command with the
// key derived by x/crypto/argon2 instead, whose blocks the garbage
// collector keeps, and must be found.
func TestFilePassphraseNotInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, control := range []bool{false, true} {
		name := map[bool]string{false: "kdf", true: "x-crypto-control"}[control]
		t.Run(name, func(t *testing.T) {
			pass := []byte("memscan " + hex.EncodeToString(randBytes(16)))
			pf := write(t, filepath.Join(t.TempDir(), "pass"), append(bytes.Clone(pass), '\n'))
			cmd := exec.Command(os.Args[0], "encrypt", "--quiet", "--passphrase-file", pf, "--argon2", scanCost.String(), "-", "-")
			cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1")
			if control {
				// GOGC=off: no collection between x/crypto's return and the
				// scan frees the blocks for reuse (or the scavenger's return
				// to the system), which the control expects to find.
				cmd.Env = append(cmd.Env, envXCryptoArgon2+"=1", "GOGC=off", "GOMEMLIMIT=off")
			}
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stdin.Close()
				go io.Copy(io.Discard, stdout)
				cmd.Wait()
			}()
			// One segment and a half of input, and stdin stays open: the
			// command writes the header and the first segment, then waits.
			go stdin.Write(randBytes(3 << 19))
			first := make([]byte, fileFixedLen+argon2HeaderLen+(1<<20))
			got := make(chan error, 1)
			go func() { _, err := io.ReadFull(stdout, first); got <- err }()
			select {
			case err := <-got:
				if err != nil {
					t.Fatalf("reading the header and first segment: %v; stderr %q", err, errb.String())
				}
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("no header and first segment after a minute; stderr %q", errb.String())
			}
			time.Sleep(100 * time.Millisecond) // into the read of more input
			h, err := readHeader(bytes.NewReader(first))
			if err != nil || h.kdf != kdfArgon2id || h.argon2 != scanCost {
				t.Fatalf("header %+v, %v", h, err)
			}
			needles, names := passphraseNeedles(pass, h.salt, scanCost)
			res, err := memscan.ScanDetailed(cmd.Process.Pid, needles)
			if err != nil {
				t.Skipf("memscan: SKIPPED: cannot read the child's memory: %v", err)
			}
			if res.Bytes < 1<<20 {
				t.Fatalf("only %d bytes scanned: the scan proves nothing", res.Bytes)
			}
			found := map[string]int{}
			for _, hit := range res.Hits {
				what := names[hit.Needle]
				if i := strings.Index(what, " bytes "); i > 0 {
					what = what[:i]
				}
				found[what]++
			}
			t.Logf("%d needles, %d bytes scanned, found: %v", len(needles), res.Bytes, found)
			if !control {
				for _, hit := range res.Hits {
					t.Errorf("found %s at %#x (%s)", names[hit.Needle], hit.Addr, hit.Mapping)
				}
				return
			}
			if len(res.Hits) < 32 {
				t.Errorf("control: only %d pieces of x/crypto/argon2's blocks found: the scan proves nothing", len(res.Hits))
			}
		})
	}
}
