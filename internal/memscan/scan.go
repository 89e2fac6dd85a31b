package memscan

import "errors"

// Hit is one occurrence of a needle in the scanned process.
type Hit struct {
	Needle  int    // index into the needles passed to Scan
	Addr    uint64 // virtual address in the scanned process
	Mapping string // the mapping: "start-end perms name" from /proc/PID/maps
}

// Result is the full outcome of a scan.
type Result struct {
	Hits       []Hit
	Mappings   int      // readable mappings scanned
	Bytes      uint64   // bytes actually read and searched
	Skipped    uint64   // bytes skipped: pages neither resident nor swapped
	Unreadable []string // mappings (or parts) that could not be read, with the error
	Excluded   []string // mappings left out by ScanExcept
}

// ErrUnsupported is returned by Scan where it cannot work (not Linux).
var ErrUnsupported = errors.New("memscan: scanning another process's memory is supported on Linux only")

// Scan searches every readable mapping of process pid for the needles and
// reports every hit. Mappings that cannot be read ([vvar], [vsyscall], and
// any mapping or page whose read fails) are skipped. The error is non-nil
// only if the process's maps or memory cannot be opened at all.
func Scan(pid int, needles [][]byte) ([]Hit, error) {
	res, err := ScanDetailed(pid, needles)
	return res.Hits, err
}

// matcher finds needles in a buffer: a bitmap on the first two bytes, then
// a map on the first four, then a full compare.
type matcher struct {
	needles [][]byte
	first2  [65536 / 64]uint64
	first4  map[uint32][]int
	maxLen  int
}

func newMatcher(needles [][]byte) *matcher {
	m := &matcher{needles: needles, first4: map[uint32][]int{}}
	for i, n := range needles {
		if len(n) < 4 {
			panic("memscan: needles must be at least 4 bytes")
		}
		k2 := uint16(n[0]) | uint16(n[1])<<8
		m.first2[k2/64] |= 1 << (k2 % 64)
		k4 := uint32(n[0]) | uint32(n[1])<<8 | uint32(n[2])<<16 | uint32(n[3])<<24
		m.first4[k4] = append(m.first4[k4], i)
		m.maxLen = max(m.maxLen, len(n))
	}
	return m
}

// search calls hit(index, offset) for every needle occurrence in buf that
// ends after minEnd (the first minEnd bytes were searched before, as the
// tail of the previous chunk: matches lying entirely inside them were
// already reported).
func (m *matcher) search(buf []byte, minEnd int, hit func(needle, off int)) {
	for i := 0; i+3 < len(buf); i++ {
		k2 := uint16(buf[i]) | uint16(buf[i+1])<<8
		if m.first2[k2/64]&(1<<(k2%64)) == 0 {
			continue
		}
		k4 := uint32(k2) | uint32(buf[i+2])<<16 | uint32(buf[i+3])<<24
		for _, n := range m.first4[k4] {
			nd := m.needles[n]
			if i+len(nd) <= len(buf) && i+len(nd) > minEnd && string(buf[i:i+len(nd)]) == string(nd) {
				hit(n, i)
			}
		}
	}
}
