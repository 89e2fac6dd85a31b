package fallback

import (
	"os"
	"runtime/debug"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestScratch: the kernel's view of a Scratch (read-write, locked as
// Status says, not dumped, wiped on fork, never collapsed into huge pages
// by khugepaged, guard pages on both sides, the bytes at the end of their
// pages), faults on both sides, and after Close no mapping left.
func TestScratch(t *testing.T) {
	for _, n := range []int{16, 64, 5000, hugePagesMin + 5000} {
		s, err := NewScratch(n)
		if err != nil {
			t.Fatal(err)
		}
		b := s.Bytes()
		if len(b) != n {
			t.Fatalf("%d bytes, want %d", len(b), n)
		}
		for i := range b {
			b[i] = 0xA5
		}
		st := s.Status()
		addr := uintptr(unsafe.Pointer(&b[0]))
		ents := readSmaps(t)
		idx := -1
		for i, e := range ents {
			if e.lo <= addr && addr < e.hi {
				idx = i
			}
		}
		if idx <= 0 || idx == len(ents)-1 {
			t.Fatalf("scratch %#x not in /proc/self/smaps between two mappings", addr)
		}
		e := ents[idx]
		has := func(f string) bool {
			for _, x := range e.flags {
				if x == f {
					return true
				}
			}
			return false
		}
		if e.perms != "rw-p" || !st.GuardPages {
			t.Errorf("perms %q, guard pages %v", e.perms, st.GuardPages)
		}
		if st.Locked != has("lo") || !st.DontDump || !has("dd") || st.WipeOnFork != has("wf") {
			t.Errorf("Status %+v, VmFlags %v", st, e.flags)
		}
		if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err == nil && !has("nh") {
			t.Errorf("%d bytes: no MADV_NOHUGEPAGE (VmFlags %v): khugepaged may copy the pages", n, e.flags)
		}
		if n >= hugePagesMin {
			// Speed only, and up to the kernel (THP off, no free huge page).
			t.Logf("%d bytes: %d KiB in transparent huge pages", n, e.hugeKiB)
		}
		if before, after := ents[idx-1], ents[idx+1]; before.hi != e.lo || before.perms != "---p" || after.lo != e.hi || after.perms != "---p" {
			t.Errorf("guard pages missing: before %x-%x %s, after %x-%x %s", before.lo, before.hi, before.perms, after.lo, after.hi, after.perms)
		}
		if uintptr(unsafe.Pointer(&b[n-1]))+1 != e.hi {
			t.Errorf("the bytes end at %#x, their pages at %#x", uintptr(unsafe.Pointer(&b[n-1]))+1, e.hi)
		}
		old := debug.SetPanicOnFault(true)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("n=%d: reading the byte after the scratch did not fault", n)
				}
			}()
			scratchSink = *(*byte)(unsafe.Add(unsafe.Pointer(&b[0]), n))
		}()
		debug.SetPanicOnFault(old)
		s.Close()
		s.Close()
		// Another mapping may take the freed addresses at once (the race
		// detector's and the Go heap's do): the scratch's own mapping, its
		// bounds or its MADV_DONTDUMP flag, must be gone.
		for _, a := range readSmaps(t) {
			dd := false
			for _, f := range a.flags {
				dd = dd || f == "dd"
			}
			if (a.lo == e.lo && a.hi == e.hi) || (a.lo <= addr && addr < a.hi && dd) {
				t.Errorf("after Close the scratch is still mapped: %x-%x %s %v", a.lo, a.hi, a.perms, a.flags)
			}
		}
	}
	if _, err := NewScratch(0); err == nil {
		t.Error("NewScratch(0): no error")
	}
}

var scratchSink byte

// TestHugePageAdvice: MADV_HUGEPAGE only where its faults cannot move a
// locked page, no advice where faults without it compact nothing, and
// MADV_NOHUGEPAGE before the fault-in everywhere else.
func TestHugePageAdvice(t *testing.T) {
	const big = hugePagesMin
	for _, c := range []struct {
		size                int
		unevictable, defrag string
		want                int
	}{
		{big, "1\n", "always defer defer+madvise [madvise] never\n", adviseNone},
		{big, "1\n", "[always] defer defer+madvise madvise never\n", adviseNoHuge},
		{big, "1\n", "always [defer] defer+madvise madvise never\n", adviseNoHuge}, // kcompactd
		{big, "1\n", "always defer [defer+madvise] madvise never\n", adviseNoHuge},
		{big, "1\n", "always defer defer+madvise madvise [never]\n", adviseHuge},
		{big, "0\n", "always defer defer+madvise [madvise] never\n", adviseHuge},
		{big, "0\n", "[always] defer defer+madvise madvise never\n", adviseHuge},
		{big, "", "", adviseNoHuge},
		{big - 1, "0\n", "always defer defer+madvise madvise [never]\n", adviseNoHuge},
	} {
		if got := hugePageAdvice(c.size, c.unevictable, c.defrag); got != c.want {
			t.Errorf("%d bytes, compact_unevictable_allowed %q, defrag %q: %d, want %d", c.size, c.unevictable, c.defrag, got, c.want)
		}
	}
}

// TestSettlePagesUnlocked: a large mapping that mlock did not fault in is
// faulted in whole by settlePages (MADV_POPULATE_WRITE, and the write per
// page it falls back to) and marked MADV_NOHUGEPAGE.
func TestSettlePagesUnlocked(t *testing.T) {
	for _, madvise := range []bool{true, false} {
		// Between two inaccessible pages, so that no neighbour merges into
		// the mapping's smaps entry.
		n, pg := hugePagesMin+8192, unix.Getpagesize()
		m, err := unix.Mmap(-1, 0, n+2*pg, unix.PROT_NONE, unix.MAP_ANON|unix.MAP_PRIVATE)
		if err != nil {
			t.Fatal(err)
		}
		b := m[pg : pg+n]
		if err := unix.Mprotect(b, unix.PROT_READ|unix.PROT_WRITE); err != nil {
			t.Fatal(err)
		}
		e := smapsOf(t, b)
		if e.hi-e.lo != uintptr(n) {
			t.Fatalf("the mapping's entry is %d bytes, want %d", e.hi-e.lo, n)
		}
		if e.rssKiB != 0 {
			t.Fatalf("a fresh mapping has %d KiB resident", e.rssKiB)
		}
		if madvise {
			settlePages(b, false)
		} else {
			populate(b, false)
			unix.Madvise(b, unix.MADV_NOHUGEPAGE)
		}
		e = smapsOf(t, b)
		if e.rssKiB*1024 < n {
			t.Errorf("madvise %v: %d KiB resident of %d", madvise, e.rssKiB, n>>10)
		}
		if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err == nil && !slices.Contains(e.flags, "nh") {
			t.Errorf("madvise %v: no MADV_NOHUGEPAGE (VmFlags %v)", madvise, e.flags)
		}
		unix.Munmap(m)
	}
}

// smapsOf returns the /proc/self/smaps entry of the mapping at b.
func smapsOf(t *testing.T, b []byte) smapsEntry {
	t.Helper()
	addr := uintptr(unsafe.Pointer(&b[0]))
	for _, e := range readSmaps(t) {
		if e.lo == addr {
			return e
		}
	}
	t.Fatalf("no mapping at %#x", addr)
	return smapsEntry{}
}
