package luks

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"os"
	"runtime"
	"testing"

	"github.com/go-keylocker/keylocker/internal/memscan"
	"golang.org/x/crypto/argon2"
)

// The Argon2 of the scans below: argon2id, 1 MiB, one pass, two lanes.
var scanKDF = KDF{Type: "argon2id", Time: 1, Memory: 1024, CPUs: 2, Salt: make([]byte, 32)}

// argon2Needles returns pieces of the Argon2 memory a passphrase makes
// (32 bytes from every 32nd block, as they lie in memory) and H0.
func argon2Needles(pass []byte) [][]byte {
	k := scanKDF
	lanes := make([]argonLane, k.CPUs)
	b := make([]argonBlock, argon2Blocks(uint32(k.Memory), uint32(k.CPUs)))
	var w argonWork
	argon2Fill(&w, lanes, b, argon2id, pass, k.Salt, nil, nil, uint32(k.Time), uint32(k.Memory), 64)
	needles := [][]byte{append([]byte(nil), w.h0[:blake2bSize]...)}
	for i := 0; i < len(b); i += 32 {
		n := make([]byte, 32)
		for j := range 4 {
			binary.LittleEndian.PutUint64(n[8*j:], b[i][40+j])
		}
		needles = append(needles, n)
	}
	return needles
}

// scanArgon2Child runs helper in a child process with pass and returns
// the hits of the Argon2 memory's needles.
func scanArgon2Child(t *testing.T, helper string, pass []byte) []memscan.Hit {
	return scanChild(t, helper, pass, argon2Needles(pass))
}

// scanChild runs helper in a child process with pass and returns the hits
// of needles.
func scanChild(t *testing.T, helper string, pass []byte, needles [][]byte) []memscan.Hit {
	pid, release := memscan.RunChild(t, helper, pass)
	res, err := memscan.ScanDetailed(pid, needles)
	release()
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes < 1<<20 {
		t.Fatalf("only %d bytes scanned: the scan proves nothing", res.Bytes)
	}
	return res.Hits
}

// TestArgon2MemoryWiped scans a process that derived a keyslot key with
// Argon2 (then wiped the key and its passphrase) for the Argon2 memory
// and H0: none is left. The control, x/crypto/argon2 in the same child,
// leaves them to the garbage collector, and the scan finds them.
func TestArgon2MemoryWiped(t *testing.T) {
	pass := []byte("correct horse battery staple 123")
	if hits := scanArgon2Child(t, "TestHelperArgon2", pass); len(hits) != 0 {
		t.Errorf("%d pieces of the Argon2 memory found in the process after the key was derived and wiped (first at %#x)", len(hits), hits[0].Addr)
	}
	hits := scanArgon2Child(t, "TestHelperArgon2XCrypto", pass)
	t.Logf("control: %d pieces of x/crypto/argon2's memory found", len(hits))
	if len(hits) < 10 {
		t.Errorf("control: only %d pieces of x/crypto/argon2's memory found: the scan proves nothing", len(hits))
	}
}

// TestPBKDF2StatesWiped scans a process that derived a keyslot key with
// PBKDF2-SHA-256 for the HMAC states after the padded passphrase (as
// PBKDF2 saves them, big-endian): none is left.
func TestPBKDF2StatesWiped(t *testing.T) {
	pass := []byte("correct horse battery staple 456")
	var needles [][]byte
	for _, c := range []byte{0x36, 0x5c} {
		pad := make([]byte, 64)
		copy(pad, pass)
		for i := range pad {
			pad[i] ^= c
		}
		h := sha256.New()
		h.Write(pad)
		st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		needles = append(needles, st[4:36])
	}
	if hits := scanChild(t, "TestHelperPBKDF2", pass, needles); len(hits) != 0 {
		t.Errorf("%d HMAC states of the passphrase found in the process after the key was derived and wiped", len(hits))
	}
}

func TestHelperPBKDF2(t *testing.T) {
	kdfHelper(t, "TestHelperPBKDF2", func(pass []byte) []byte {
		k := KDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000, Salt: make([]byte, 32)}
		key, err := k.derive(pass, 64)
		if err != nil {
			t.Error(err)
			os.Exit(1)
		}
		return key
	})
}

func kdfHelper(t *testing.T, name string, derive func(pass []byte) []byte) {
	if !memscan.IsChild(name) {
		t.Skip("helper process for the memory scans of KDFs")
	}
	// A live heap much larger than the Argon2 memory, as a program's heap
	// is: the runtime then keeps freed memory for reuse rather than
	// returning it to the system (which would zero it) at once.
	ballast := make([]byte, 64<<20)
	pass := make([]byte, memscan.KeyLen())
	if err := memscan.ReadKey(pass); err != nil {
		t.Fatal(err)
	}
	key := derive(pass)
	clear(key)
	clear(pass)
	memscan.Settle()
	memscan.Ready()
	memscan.WaitRelease()
	runtime.KeepAlive(ballast)
}

func TestHelperArgon2(t *testing.T) {
	kdfHelper(t, "TestHelperArgon2", func(pass []byte) []byte {
		k := scanKDF
		key, err := k.derive(pass, 64)
		if err != nil {
			t.Error(err)
			os.Exit(1)
		}
		return key
	})
}

func TestHelperArgon2XCrypto(t *testing.T) {
	kdfHelper(t, "TestHelperArgon2XCrypto", func(pass []byte) []byte {
		k := scanKDF
		return argon2.IDKey(pass, k.Salt, uint32(k.Time), uint32(k.Memory), uint8(k.CPUs), 64)
	})
}
