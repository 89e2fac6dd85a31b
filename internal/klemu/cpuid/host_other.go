//go:build !amd64

package cpuid

// Host returns zeros off amd64 (klemu runs only on linux/amd64).
func Host(leaf, sub uint32) (a, b, c, d uint32) { return 0, 0, 0, 0 }
