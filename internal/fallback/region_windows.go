package fallback

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// mapGuarded reserves and commits n bytes (rounded up to whole 4 KiB pages)
// between two PAGE_NOACCESS guard pages and locks them where Windows allows
// it (st records what was granted; what names the contents in its notes).
// It returns the whole allocation, for VirtualFree, and its usable pages.
func mapGuarded(n int, what string) (mem, pages []byte, st MemoryStatus, err error) {
	const ps = RegionSize // Windows pages are 4 KiB on every architecture Go supports
	n = (n + ps - 1) / ps * ps
	base, err := windows.VirtualAlloc(0, uintptr(n+2*ps), windows.MEM_COMMIT|windows.MEM_RESERVE, windows.PAGE_READWRITE)
	if err != nil {
		return nil, nil, st, fmt.Errorf("VirtualAlloc failed: %w", err)
	}
	var old uint32
	e1 := windows.VirtualProtect(base, ps, windows.PAGE_NOACCESS, &old)
	e2 := windows.VirtualProtect(base+uintptr(n+ps), ps, windows.PAGE_NOACCESS, &old)
	if e1 != nil || e2 != nil {
		st.note(fmt.Sprintf("VirtualProtect(PAGE_NOACCESS) of the guard pages refused (%v, %v): an overrun next to %s does not fault", e1, e2, what))
	} else {
		st.GuardPages = true
	}
	if err := windows.VirtualLock(base+ps, uintptr(n)); err != nil {
		st.note(fmt.Sprintf("VirtualLock refused (%v): %s may be written to the page file; the process working set minimum may be too small", err, what))
	} else {
		st.Locked = true
	}
	st.note("Windows has no per-allocation way to keep memory out of crash dumps: " + what + " will be in full memory dumps")
	st.note("Windows has no fork: WipeOnFork does not apply (child processes never inherit this memory)")
	// The memory is not Go heap: reinterpret the address as a pointer.
	mem = unsafe.Slice(*(**byte)(unsafe.Pointer(&base)), n+2*ps)
	return mem, mem[ps : ps+n], st, nil
}

func unmapGuarded(mem []byte) {
	windows.VirtualFree(uintptr(unsafe.Pointer(&mem[0])), 0, windows.MEM_RELEASE)
}

func newRegion() (*Region, MemoryStatus, error) {
	_, page, st, err := mapGuarded(RegionSize, "the wrapping key")
	if err != nil {
		return nil, st, fmt.Errorf("fallback: the wrapping key region: %w", err)
	}
	r := (*Region)(unsafe.Pointer(&page[0]))
	fill(r)

	var old uint32
	if err := windows.VirtualProtect(uintptr(unsafe.Pointer(&page[0])), RegionSize, windows.PAGE_READONLY, &old); err != nil {
		st.note(fmt.Sprintf("VirtualProtect(PAGE_READONLY) refused (%v): the region stays writable, a stray write could corrupt the wrapping key", err))
	} else {
		st.ReadOnly = true
	}
	return r, st, nil
}
