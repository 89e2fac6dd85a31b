// Package testrng is the deterministic stand-in for the CPU's random source
// that builds with the aeskl_testrng tag put inside the routines that draw
// a key (aeskl.NewRandom): with that tag, the assembly generators' variant
// of each such routine executes, in place of every RDSEED and RDRAND, a
// short sequence that reads and updates Source, and the generic
// implementation draws through Draw from Source too. Release builds never
// import this package: only files with the aeskl_testrng tag do.
//
// Every draw that succeeds returns the next output of splitmix64 from the
// state X (or all ones, while Ones counts down), so that a test that sets
// X knows the key the routine makes without the key ever being stored: the
// memory scans search for it and must not find it. SeedFail and RandFail
// make the next tries of each instruction fail (CF=0, as the instruction
// reports an exhausted source), so that a test can drive the retry
// discipline: the fall back from RDSEED to RDRAND, and the error when both
// give up.
package testrng

import "github.com/go-keylocker/keylocker/internal/kernel"

// State is the test source. The generated assembly reads and writes it at
// the Off* offsets (checked by this package's test).
type State struct {
	X        uint64 // splitmix64 state: each successful draw advances it
	SeedFail uint64 // the next SeedFail RDSEED tries fail (counted down)
	RandFail uint64 // the next RandFail RDRAND tries fail (counted down)
	Ones     uint64 // the next Ones successful tries return all ones (counted down)
	Seeds    uint64 // successful RDSEED tries so far
	Rands    uint64 // successful RDRAND tries so far
}

// Offsets of State's fields.
const (
	OffX        = 0
	OffSeedFail = 8
	OffRandFail = 16
	OffOnes     = 24
	OffSeeds    = 32
	OffRands    = 40
)

// Splitmix64's constants.
const (
	Gamma = 0x9E3779B97F4A7C15
	Mul1  = 0xBF58476D1CE4E5B9
	Mul2  = 0x94D049BB133111EB
)

// Source is the state the routines of a tagged build draw from. Tests set
// it before a call and read its counters after; nothing else touches it.
var Source State

// Next advances x and returns splitmix64's output.
func Next(x *uint64) uint64 {
	*x += Gamma
	z := *x
	z = (z ^ z>>30) * Mul1
	z = (z ^ z>>27) * Mul2
	return z ^ z>>31
}

// Words returns the first n outputs from state seed.
func Words(seed uint64, n int) []uint64 {
	w := make([]uint64, n)
	for i := range w {
		w[i] = Next(&seed)
	}
	return w
}

// Key returns the key of n bytes (a multiple of 8) that the routines make
// from state seed without entropy: the words in little-endian byte order.
func Key(seed uint64, n int) []byte {
	k := make([]byte, n)
	for i, w := range Words(seed, n/8) {
		for j := 0; j < 8; j++ {
			k[8*i+j] = byte(w >> (8 * j))
		}
	}
	return k
}

// try is one RDSEED (seed) or RDRAND try against s: the word and CF.
func try(s *State, seed bool) (uint64, bool) {
	fail, count := &s.RandFail, &s.Rands
	if seed {
		fail, count = &s.SeedFail, &s.Seeds
	}
	if *fail > 0 {
		*fail--
		return 0, false
	}
	*count++
	if s.Ones > 0 {
		s.Ones--
		return ^uint64(0), true
	}
	return Next(&s.X), true
}

// Draw is the generated routines' loop for one word, in Go, over s: up to
// kernel.RandSeedTries RDSEED tries if sources has kernel.RandRDSEED, then
// up to kernel.RandRandTries RDRAND tries if it has kernel.RandRDRAND; a
// try that fails or returns all ones is retried. It reports false when
// every try failed. The generic implementation draws its words through it
// in tagged builds.
func Draw(s *State, sources int) (uint64, bool) {
	if sources&kernel.RandRDSEED != 0 {
		for range kernel.RandSeedTries {
			if w, ok := try(s, true); ok && w != ^uint64(0) {
				return w, true
			}
		}
	}
	if sources&kernel.RandRDRAND != 0 {
		for range kernel.RandRandTries {
			if w, ok := try(s, false); ok && w != ^uint64(0) {
				return w, true
			}
		}
	}
	return 0, false
}
