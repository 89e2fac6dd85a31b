package guardtest

import (
	"syscall"
	"testing"
)

// Buffer returns n bytes that end right before an inaccessible page (end
// true) or start right after one, in a mapping of their own with an
// inaccessible page on each side, filled with a pattern (byte i is
// i*13+5). The mapping is unmapped when t's test ends.
func Buffer(t testing.TB, n int, end bool) []byte {
	t.Helper()
	pg := syscall.Getpagesize()
	pages := (n+pg-1)/pg + 2
	m, err := syscall.Mmap(-1, 0, pages*pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Skip("SKIPPED: mmap:", err)
	}
	t.Cleanup(func() { syscall.Munmap(m) })
	if err := syscall.Mprotect(m[:pg], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(m[(pages-1)*pg:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	var b []byte
	if end {
		b = m[(pages-1)*pg-n : (pages-1)*pg : (pages-1)*pg]
	} else {
		b = m[pg : pg+n : pg+n]
	}
	for i := range b {
		b[i] = byte(i*13 + 5)
	}
	return b
}
