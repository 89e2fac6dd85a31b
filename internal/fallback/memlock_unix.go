//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fallback

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// memlockLimit describes RLIMIT_MEMLOCK for a note.
func memlockLimit() string {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl); err != nil {
		return ""
	}
	if rl.Cur == unix.RLIM_INFINITY {
		return ", RLIMIT_MEMLOCK=unlimited"
	}
	return fmt.Sprintf(", RLIMIT_MEMLOCK=%d bytes", rl.Cur)
}
