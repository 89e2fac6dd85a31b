package kdf

import (
	"encoding/binary"
	"os"
	"runtime"
	"testing"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/memscan"
	"golang.org/x/crypto/argon2"
)

// The Argon2 of the scans below: argon2id, 1 MiB, one pass, two lanes, a
// 64-byte tag.
const (
	scanTime    = 1
	scanMemory  = 1024
	scanThreads = 2
	scanKeyLen  = 64
)

var scanSalt = make([]byte, 32)

// argon2Needles returns what an Argon2 of a passphrase leaves in memory if
// nothing wipes it: H0, pieces of the blocks (32 bytes from every 32nd
// block, as they lie in memory), the block whose H' is the tag (the XOR of
// the lanes' last blocks, as bytes) and the tag.
func argon2Needles(t *testing.T, pass []byte) [][]byte {
	lanes := make([]argonLane, scanThreads)
	b := make([]argonBlock, argon2Blocks(scanMemory, scanThreads))
	var w argonWork
	argon2Fill(&w, lanes, b, Generic, Argon2id, pass, scanSalt, nil, nil, scanTime, scanMemory, scanKeyLen)
	needles := [][]byte{append([]byte(nil), w.h0[:blake2bSize]...)}
	for i := 0; i < len(b); i += 32 {
		n := make([]byte, 32)
		for j := range 4 {
			binary.LittleEndian.PutUint64(n[8*j:], b[i][40+j])
		}
		needles = append(needles, n)
	}
	laneLen := len(b) / scanThreads
	last := make([]byte, 1024)
	for k := range blockWords {
		var x uint64
		for l := range scanThreads {
			x ^= b[l*laneLen+laneLen-1][k]
		}
		binary.LittleEndian.PutUint64(last[8*k:], x)
	}
	for off := 0; off < len(last); off += 256 {
		needles = append(needles, last[off:off+32])
	}
	return append(needles, argon2Key(t, Generic, Argon2id, pass, scanSalt, nil, nil, scanTime, scanMemory, scanThreads, scanKeyLen))
}

// TestArgon2MemoryWiped scans a process that derived a key with Argon2
// (then wiped the key and its passphrase) for H0, the blocks, the block
// the tag is made from, and the tag: none is left. The control,
// x/crypto/argon2 in the same child, leaves them to the garbage
// collector, and the scan finds them.
func TestArgon2MemoryWiped(t *testing.T) {
	pass := []byte("correct horse battery staple 123")
	if hits := memscan.ScanChild(t, "TestHelperArgon2", pass, argon2Needles(t, pass)); len(hits) != 0 {
		t.Errorf("%d pieces of the Argon2 memory found in the process after the key was derived and wiped (first: needle %d at %#x)", len(hits), hits[0].Needle, hits[0].Addr)
	}
	hits := memscan.ScanChild(t, "TestHelperArgon2XCrypto", pass, argon2Needles(t, pass))
	t.Logf("control: %d pieces of x/crypto/argon2's memory found", len(hits))
	if len(hits) < 10 {
		t.Errorf("control: only %d pieces of x/crypto/argon2's memory found: the scan proves nothing", len(hits))
	}
}

func argon2Helper(t *testing.T, name string, derive func(dst, pass []byte)) {
	if !memscan.IsChild(name) {
		t.Skip("helper process for TestArgon2MemoryWiped")
	}
	// A live heap much larger than the Argon2 memory, as a program's heap
	// is: the runtime then keeps freed memory for reuse rather than
	// returning it to the system (which would zero it) at once.
	ballast := make([]byte, 64<<20)
	pass := make([]byte, memscan.KeyLen())
	if err := memscan.ReadKey(pass); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, scanKeyLen)
	derive(key, pass)
	clear(key)
	clear(pass)
	memscan.Settle()
	memscan.Ready()
	memscan.WaitRelease()
	runtime.KeepAlive(ballast)
}

func TestHelperArgon2(t *testing.T) {
	argon2Helper(t, "TestHelperArgon2", func(dst, pass []byte) {
		if err := Argon2(dst, Impl(aeskl.Detect().Argon2), Argon2id, pass, scanSalt, nil, nil, scanTime, scanMemory, scanThreads); err != nil {
			t.Error(err)
			os.Exit(1)
		}
	})
}

func TestHelperArgon2XCrypto(t *testing.T) {
	argon2Helper(t, "TestHelperArgon2XCrypto", func(dst, pass []byte) {
		k := argon2.IDKey(pass, scanSalt, scanTime, scanMemory, scanThreads, scanKeyLen)
		copy(dst, k)
		clear(k)
	})
}
