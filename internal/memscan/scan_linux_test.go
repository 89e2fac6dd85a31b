package memscan

import (
	"crypto/aes"
	"crypto/rand"
	"os"
	"runtime"
	"testing"
)

func scanChild(t *testing.T, helper string, key []byte) (Result, []Needle) {
	t.Helper()
	pid, release := RunChild(t, helper, key)
	ns := NeedleSet(key)
	res, err := ScanDetailed(pid, Needles(key))
	release()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scanned %d mappings, %d MiB (%d MiB never touched, skipped); %d unreadable parts", res.Mappings, res.Bytes>>20, res.Skipped>>20, len(res.Unreadable))
	for _, u := range res.Unreadable {
		t.Logf("unreadable: %s", u)
	}
	if res.Bytes < 1<<20 {
		t.Fatalf("only %d bytes scanned: the scan proves nothing", res.Bytes)
	}
	return res, ns
}

// Positive control: a child that keeps a crypto/aes Block alive holds the
// expanded key schedule; the scan must find its round keys.
func TestScanFindsCryptoAES(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		key := make([]byte, n)
		rand.Read(key)
		res, ns := scanChild(t, "TestHelperCryptoAES", key)
		found := map[int]bool{}
		for _, h := range res.Hits {
			found[h.Needle] = true
		}
		for i := range found {
			t.Logf("AES-%d: found %s", 8*n, ns[i].Name)
		}
		// All Nr+1 encryption round keys must be found, in one form or the other.
		nr := n/4 + 6
		if len(found) < nr+1 {
			t.Errorf("AES-%d: only %d distinct needles found, want at least %d (the round keys)", 8*n, len(found), nr+1)
		}
	}
}

// Positive control for the raw key: a child that keeps the key buffer.
func TestScanFindsRawKey(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	res, _ := scanChild(t, "TestHelperKeepKey", key)
	raw := 0
	for _, h := range res.Hits {
		if h.Needle == 0 {
			raw++
			t.Logf("raw key at %#x in %s", h.Addr, h.Mapping)
		}
	}
	if raw == 0 {
		t.Error("the raw key kept by the child was not found")
	}
}

// Negative control: a child that read the key into one buffer and wiped it
// leaves nothing to find.
func TestScanWipedKeyNotFound(t *testing.T) {
	for _, n := range []int{16, 32} {
		key := make([]byte, n)
		rand.Read(key)
		res, ns := scanChild(t, "TestHelperWipeKey", key)
		for _, h := range res.Hits {
			t.Errorf("AES-%d: found %s at %#x in %s", 8*n, ns[h.Needle].Name, h.Addr, h.Mapping)
		}
	}
}

func childKey(t *testing.T, name string) []byte {
	if !IsChild(name) {
		t.Skip("helper process for the memscan tests")
	}
	key := make([]byte, KeyLen())
	if err := ReadKey(key); err != nil {
		t.Fatal(err)
	}
	return key
}

func TestHelperCryptoAES(t *testing.T) {
	key := childKey(t, "TestHelperCryptoAES")
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	var x [16]byte
	b.Encrypt(x[:], x[:])
	clear(key)
	Settle()
	Ready()
	WaitRelease()
	runtime.KeepAlive(b)
}

func TestHelperKeepKey(t *testing.T) {
	key := childKey(t, "TestHelperKeepKey")
	Settle()
	Ready()
	WaitRelease()
	runtime.KeepAlive(key)
}

func TestHelperWipeKey(t *testing.T) {
	key := childKey(t, "TestHelperWipeKey")
	clear(key)
	Settle()
	Ready()
	WaitRelease()
	runtime.KeepAlive(key)
}

// Scan refuses cleanly on a process that does not exist.
func TestScanNoProcess(t *testing.T) {
	if _, err := Scan(1<<30, [][]byte{[]byte("0123456789abcdef")}); err == nil {
		t.Error("no error for a missing process")
	}
	_ = os.Getpid
}
