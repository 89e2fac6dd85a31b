//go:build !linux

package memscan

// ScanDetailed is Scan with statistics; unsupported off Linux.
func ScanDetailed(pid int, needles [][]byte) (Result, error) {
	return Result{}, ErrUnsupported
}

func probe(pid int) error { return ErrUnsupported }
