package fallback

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

func newRegion() (*Region, MemoryStatus, error) {
	var st MemoryStatus
	const ps = RegionSize // Windows pages are 4 KiB on every architecture Go supports
	base, err := windows.VirtualAlloc(0, 3*ps, windows.MEM_COMMIT|windows.MEM_RESERVE, windows.PAGE_READWRITE)
	if err != nil {
		return nil, st, fmt.Errorf("fallback: VirtualAlloc of the wrapping key region failed: %w", err)
	}
	var old uint32
	e1 := windows.VirtualProtect(base, ps, windows.PAGE_NOACCESS, &old)
	e2 := windows.VirtualProtect(base+2*ps, ps, windows.PAGE_NOACCESS, &old)
	if e1 != nil || e2 != nil {
		st.note(fmt.Sprintf("VirtualProtect(PAGE_NOACCESS) of the guard pages refused (%v, %v): an overrun next to the wrapping key does not fault", e1, e2))
	} else {
		st.GuardPages = true
	}
	page := base + ps
	if err := windows.VirtualLock(page, ps); err != nil {
		st.note(fmt.Sprintf("VirtualLock refused (%v): the wrapping key may be written to the page file; the process working set minimum may be too small", err))
	} else {
		st.Locked = true
	}
	st.note("Windows has no per-allocation way to keep memory out of crash dumps: the wrapping key will be in full memory dumps")
	st.note("Windows has no fork: WipeOnFork does not apply (child processes never inherit the region)")

	// Reinterpret the address as a pointer (the memory is not Go heap).
	r := *(**Region)(unsafe.Pointer(&page))
	fill(r)

	if err := windows.VirtualProtect(page, ps, windows.PAGE_READONLY, &old); err != nil {
		st.note(fmt.Sprintf("VirtualProtect(PAGE_READONLY) refused (%v): the region stays writable, a stray write could corrupt the wrapping key", err))
	} else {
		st.ReadOnly = true
	}
	return r, st, nil
}
