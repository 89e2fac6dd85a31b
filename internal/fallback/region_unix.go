//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package fallback

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapGuarded maps n bytes (rounded up to whole pages) of anonymous, private
// memory between two PROT_NONE guard pages, read-write, then locks it and
// keeps it out of core dumps and fork children where the system allows it
// (st records what was granted; what names the contents in its notes). It
// returns the whole mapping, for munmap, and its usable pages.
func mapGuarded(n int, what string) (mem, pages []byte, st MemoryStatus, err error) {
	ps := unix.Getpagesize()
	if ps < RegionSize {
		ps = RegionSize // cannot happen on supported systems; keeps the math simple
	}
	n = (n + ps - 1) / ps * ps
	// Every page starts inaccessible; only the middle ones are opened.
	mem, err = unix.Mmap(-1, 0, n+2*ps, unix.PROT_NONE, unix.MAP_ANON|unix.MAP_PRIVATE|mapNoCore)
	if err != nil {
		return nil, nil, st, fmt.Errorf("mmap failed: %w", err)
	}
	pages = mem[ps : ps+n]
	if err := unix.Mprotect(pages, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		unix.Munmap(mem)
		return nil, nil, st, fmt.Errorf("mprotect(PROT_READ|PROT_WRITE) failed: %w", err)
	}
	st.GuardPages = true
	adviseHugePages(pages) // before mlock, which faults the pages in
	if err := unix.Mlock(pages); err != nil {
		st.note(fmt.Sprintf("mlock refused (%v%s): %s may be written to swap; raise RLIMIT_MEMLOCK (ulimit -l) or grant CAP_IPC_LOCK", err, memlockLimit(), what))
	} else {
		st.Locked = true
	}
	settlePages(pages, st.Locked)
	advise(pages, &st, what)
	return mem, pages, st, nil
}

func unmapGuarded(mem []byte) { unix.Munmap(mem) }

func newRegion() (*Region, MemoryStatus, error) {
	_, page, st, err := mapGuarded(RegionSize, "the wrapping key")
	if err != nil {
		return nil, st, fmt.Errorf("fallback: the wrapping key region: %w", err)
	}
	r := (*Region)(unsafe.Pointer(&page[0]))
	fill(r)

	if err := unix.Mprotect(page, unix.PROT_READ); err != nil {
		st.note(fmt.Sprintf("mprotect(PROT_READ) refused (%v): the region stays writable, a stray write could corrupt the wrapping key", err))
	} else {
		st.ReadOnly = true
	}
	return r, st, nil
}
