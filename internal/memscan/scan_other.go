//go:build !linux

package memscan

// ScanDetailed is Scan with statistics; unsupported off Linux.
func ScanDetailed(pid int, needles [][]byte) (Result, error) {
	return Result{}, ErrUnsupported
}

func probe(pid int) error { return ErrUnsupported }

// ScanExcept is ScanDetailed leaving out some mappings; unsupported off
// Linux.
func ScanExcept(pid int, needles [][]byte, skip []uint64) (Result, error) {
	return Result{}, ErrUnsupported
}

func allowParentTrace() {}
