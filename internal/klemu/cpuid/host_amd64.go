package cpuid

// Host executes CPUID on the calling CPU (host_amd64.s).
//
//go:noescape
func Host(leaf, sub uint32) (a, b, c, d uint32)
