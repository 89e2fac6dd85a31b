package fallback

// memlockLimit: x/sys/unix has no RLIMIT_MEMLOCK for Solaris/illumos.
func memlockLimit() string { return "" }
