package memscan

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestScanFileChunks puts needles across chunk boundaries of ScanFile.
func TestScanFileChunks(t *testing.T) {
	defer func(n int) { chunkSize = n }(chunkSize)
	chunkSize = 4096
	a, b := bytes.Repeat([]byte{0xAB, 0xCD}, 8), []byte("a needle of 32 bytes, not equal!")
	data := make([]byte, 5*4096)
	offs := map[int]int{4096 - 7: 0, 2*4096 - 31: 1, 3 * 4096: 1, len(data) - 16: 0}
	for off, n := range offs {
		copy(data[off:], [][]byte{a, b}[n])
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	hits, n, err := ScanFile(path, [][]byte{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(data)) {
		t.Errorf("searched %d bytes, want %d", n, len(data))
	}
	got := map[int]int{}
	for _, h := range hits {
		got[int(h.Addr)] = h.Needle
	}
	if len(got) != len(offs) || len(hits) != len(offs) {
		t.Fatalf("hits %v, want %v", got, offs)
	}
	for off, n := range offs {
		if g, ok := got[off]; !ok || g != n {
			t.Errorf("needle %d at %d: got %v", n, off, got)
		}
	}
}

// TestDontDump: a child keeps the key only in a MADV_DONTDUMP page.
// ReadDontDump must return that page, ScanDetailed must find the key there,
// ScanExcept without that page and a gcore core dump must not find it.
func TestDontDump(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	pid, release := RunChild(t, "TestHelperDontDump", key)
	defer release()
	dd, err := ReadDontDump(pid)
	if err != nil {
		t.Fatal(err)
	}
	var page *Mapping
	for i := range dd {
		if bytes.Contains(dd[i].Data, key) {
			page = &dd[i]
		}
	}
	if page == nil {
		t.Fatalf("ReadDontDump: no MADV_DONTDUMP mapping holds the key (%d mappings)", len(dd))
	}
	all, err := ScanDetailed(pid, [][]byte{key})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Hits) != 1 || all.Hits[0].Addr < page.Lo || all.Hits[0].Addr >= page.Hi {
		t.Fatalf("ScanDetailed: hits %v, want exactly one in %s", all.Hits, page.Line)
	}
	rest, err := ScanExcept(pid, [][]byte{key}, []uint64{page.Lo})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Hits) != 0 || len(rest.Excluded) != 1 {
		t.Fatalf("ScanExcept: hits %v, excluded %q; want none and the page", rest.Hits, rest.Excluded)
	}
	core, err := CoreDump(pid, t.TempDir())
	if errors.Is(err, ErrNoGcore) {
		t.Skip("SKIPPED the core dump part: gcore (Debian package gdb) is not installed")
	}
	if err != nil {
		t.Fatal(err)
	}
	hits, n, err := ScanFile(core, [][]byte{key})
	if err != nil {
		t.Fatal(err)
	}
	if n < 1<<20 || len(hits) != 0 {
		t.Fatalf("core dump of %d bytes: %d hits, want none (MADV_DONTDUMP is left out)", n, len(hits))
	}
}

func TestHelperDontDump(t *testing.T) {
	if !IsChild("TestHelperDontDump") {
		t.Skip("helper process for TestDontDump")
	}
	key := make([]byte, KeyLen())
	if err := ReadKey(key); err != nil {
		t.Fatal(err)
	}
	page, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Madvise(page, unix.MADV_DONTDUMP); err != nil {
		t.Fatal(err)
	}
	copy(page[100:], key)
	clear(key)
	Settle()
	Ready()
	WaitRelease()
}
