//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly && !solaris && !windows

package fallback

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
