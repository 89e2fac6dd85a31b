//go:build (darwin || freebsd || netbsd || openbsd || dragonfly || solaris) && !linux

package fallback

// adviseHugePages and settlePages do nothing here: these systems have no
// per-mapping advice on huge pages like Linux's MADV_HUGEPAGE and
// MADV_NOHUGEPAGE.
func adviseHugePages(b []byte) {}

func settlePages(b []byte, locked bool) {}
