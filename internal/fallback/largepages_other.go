//go:build darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package fallback

// largePages does nothing here: no transparent huge pages to ask for.
func largePages([]byte) {}
