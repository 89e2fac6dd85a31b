//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package fallback

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

func newRegion() (*Region, MemoryStatus, error) {
	var st MemoryStatus
	ps := unix.Getpagesize()
	if ps < RegionSize {
		ps = RegionSize // cannot happen on supported systems; keeps the math simple
	}
	// All three pages start inaccessible; only the middle one is opened.
	mem, err := unix.Mmap(-1, 0, 3*ps, unix.PROT_NONE, unix.MAP_ANON|unix.MAP_PRIVATE|mapNoCore)
	if err != nil {
		return nil, st, fmt.Errorf("fallback: mmap of the wrapping key region failed: %w", err)
	}
	page := mem[ps : 2*ps]
	if err := unix.Mprotect(page, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		unix.Munmap(mem)
		return nil, st, fmt.Errorf("fallback: mprotect(PROT_READ|PROT_WRITE) of the wrapping key region failed: %w", err)
	}
	st.GuardPages = true

	if err := unix.Mlock(page); err != nil {
		st.note(fmt.Sprintf("mlock refused (%v%s): the wrapping key may be written to swap; raise RLIMIT_MEMLOCK (ulimit -l) or grant CAP_IPC_LOCK", err, memlockLimit()))
	} else {
		st.Locked = true
	}
	advise(page, &st)

	r := (*Region)(unsafe.Pointer(&page[0]))
	fill(r)

	if err := unix.Mprotect(page, unix.PROT_READ); err != nil {
		st.note(fmt.Sprintf("mprotect(PROT_READ) refused (%v): the region stays writable, a stray write could corrupt the wrapping key", err))
	} else {
		st.ReadOnly = true
	}
	return r, st, nil
}
