package luks

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"os"
	"runtime"
	"testing"

	"github.com/go-keylocker/keylocker/internal/fallback"
	"github.com/go-keylocker/keylocker/internal/memscan"
	"golang.org/x/crypto/argon2"
)

// The Argon2 of the scans below: argon2id, 1 MiB, one pass, two lanes.
var scanKDF = KDF{Type: "argon2id", Time: 1, Memory: 1024, CPUs: 2, Salt: make([]byte, 32)}

// TestArgon2KeyWiped scans a process that derived a keyslot key with
// Argon2 (the memory of Argon2 itself is internal/kdf's test) and closed
// it for the key, computed here with x/crypto/argon2: it is gone. The
// control does the same but leaves an unwiped copy of the key on the Go
// heap, as a forgotten buffer would be, and the scan finds it there: a
// copy the derivation left behind would be found.
func TestArgon2KeyWiped(t *testing.T) {
	pass := []byte("correct horse battery staple 123")
	k := scanKDF
	key := argon2.IDKey(pass, k.Salt, uint32(k.Time), uint32(k.Memory), uint8(k.CPUs), 64)
	needles := [][]byte{key[:16], key[16:32], key[32:48], key[48:]}
	if hits := memscan.ScanChild(t, "TestHelperArgon2", pass, needles); len(hits) != 0 {
		t.Errorf("%d pieces of the keyslot key found in the process after it was derived and wiped", len(hits))
	}
	// Each piece at least once: a run has found more hits than pieces (a
	// second copy, from where is not known), which proves as much.
	found := map[int]bool{}
	hits := memscan.ScanChild(t, "TestHelperArgon2Kept", pass, needles)
	for _, h := range hits {
		found[h.Needle] = true
	}
	if len(found) != len(needles) {
		t.Errorf("control: %d of the key's %d pieces found (%d hits) in the process that left a copy on the heap, want all", len(found), len(needles), len(hits))
	}
}

// TestPBKDF2StatesWiped scans a process that derived a keyslot key with
// PBKDF2-SHA-256 for the HMAC states after the padded passphrase, in both
// forms they take: big-endian as PBKDF2 saves them (MarshalBinary), and
// as a live SHA-256 digest holds them (its words in the machine's order):
// none is left. The control keeps the two digests and their saved states
// alive, and the scan must find all four.
func TestPBKDF2StatesWiped(t *testing.T) {
	pass := []byte("correct horse battery staple 456")
	var needles [][]byte
	for _, c := range []byte{0x36, 0x5c} {
		_, st := padState(t, pass, c)
		be := st[4:36]
		words := make([]byte, len(be))
		for i := 0; i < len(be); i += 4 {
			binary.NativeEndian.PutUint32(words[i:], binary.BigEndian.Uint32(be[i:]))
		}
		needles = append(needles, be, words)
	}
	if hits := memscan.ScanChild(t, "TestHelperPBKDF2", pass, needles); len(hits) != 0 {
		t.Errorf("%d HMAC states of the passphrase found in the process after the key was derived and wiped", len(hits))
	}
	found := map[int]bool{}
	for _, h := range memscan.ScanChild(t, "TestHelperPBKDF2Kept", pass, needles) {
		found[h.Needle] = true
	}
	if len(found) != len(needles) {
		t.Errorf("control: of the live digests' states and their saved forms, needles %v found, want all %d: the scan proves nothing", found, len(needles))
	}
}

// derive is k.derive for the helpers: a failure ends the child.
func derive(t *testing.T, k KDF, pass []byte) *fallback.Scratch {
	var note string
	key, err := k.derive(pass, 64, &note)
	if err != nil {
		t.Error(err)
		os.Exit(1)
	}
	return key
}

func TestHelperPBKDF2(t *testing.T) {
	kdfHelper(t, "TestHelperPBKDF2", func(pass []byte) func() {
		return derive(t, KDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000, Salt: make([]byte, 32)}, pass).Close
	})
}

// kdfHelper runs derive on the passphrase from the parent, then what it
// returns (the key's Close), and waits to be scanned.
func kdfHelper(t *testing.T, name string, derive func(pass []byte) (done func())) {
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
	derive(pass)()
	clear(pass)
	memscan.Settle()
	memscan.Ready()
	memscan.WaitRelease()
	runtime.KeepAlive(ballast)
}

// TestHelperPBKDF2Kept is the control of TestPBKDF2StatesWiped: the HMAC
// states of the passphrase in two SHA-256 digests kept alive.
func TestHelperPBKDF2Kept(t *testing.T) {
	kdfHelper(t, "TestHelperPBKDF2Kept", func(pass []byte) func() {
		for _, c := range []byte{0x36, 0x5c} {
			h, st := padState(t, pass, c)
			kept = append(kept, h)
			keptStates = append(keptStates, st)
		}
		return func() {}
	})
}

// padState returns a SHA-256 digest that has absorbed pass padded to a
// block and XORed with c (HMAC's inner or outer pad), and its saved state.
func padState(t *testing.T, pass []byte, c byte) (hash.Hash, []byte) {
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
	return h, st
}

// kept and keptStates hold the control's digests and their saved states
// (big-endian, as PBKDF2 saves them) through the scan.
var (
	kept       []hash.Hash
	keptStates [][]byte
)

func TestHelperArgon2(t *testing.T) {
	kdfHelper(t, "TestHelperArgon2", func(pass []byte) func() { return derive(t, scanKDF, pass).Close })
}

func TestHelperArgon2Kept(t *testing.T) {
	kdfHelper(t, "TestHelperArgon2Kept", func(pass []byte) func() {
		key := derive(t, scanKDF, pass)
		leak(key.Bytes())
		return key.Close
	})
}

// leak copies b to the Go heap and leaves the copy there unwiped, as a
// forgotten buffer would be.
//
//go:noinline
func leak(b []byte) {
	c := make([]byte, len(b))
	copy(c, b)
	sink = c // reachable through the scan: a freed slot could be reused, zeroed, before it
}

var sink []byte
