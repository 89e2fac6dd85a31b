//go:build (darwin || freebsd || netbsd || openbsd || dragonfly || solaris) && !linux

package fallback

// settlePages does nothing here: these systems have no per-mapping advice
// on huge pages like Linux's MADV_HUGEPAGE and MADV_NOHUGEPAGE.
func settlePages(b []byte) {}
