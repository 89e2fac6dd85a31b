//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly && !solaris && !windows

package fallback

// mapGuarded gives an ordinary Go heap slice: this platform offers Go no
// control over memory, and st says so.
func mapGuarded(n int, what string) (mem, pages []byte, st MemoryStatus, err error) {
	st.Notes = []string{
		"this platform offers no memory control to Go: " + what + " is in an ordinary Go heap array",
		"not locked: " + what + " may be swapped out",
		"not excluded from core dumps",
		"no wipe-on-fork",
		"no guard pages",
	}
	b := make([]byte, n)
	return b, b, st, nil
}

func unmapGuarded([]byte) {}

func newRegion() (*Region, MemoryStatus, error) {
	st := MemoryStatus{Notes: []string{
		"this platform offers no memory control to Go: the wrapping key is in an ordinary Go heap array",
		"not locked: the wrapping key may be swapped out",
		"not excluded from core dumps",
		"no wipe-on-fork",
		"no guard pages",
		"not read-only",
	}}
	r := new(Region)
	fill(r)
	return r, st, nil
}
