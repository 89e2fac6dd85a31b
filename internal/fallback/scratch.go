package fallback

import (
	"errors"
	"fmt"
)

// Scratch is memory for a secret that has to pass through memory on its way
// into a handle (a key read from a file, a pipe or the kernel's keyring, a
// passphrase): mapped apart from the Go heap with the wrapping key
// region's protections (guard pages before and after it, locked against
// swap, out of core dumps, zero in fork children, as far as the system
// grants them: Status says which), so that the garbage collector never
// copies or moves it, and wiped and unmapped by Close. The bytes sit at the
// end of their pages: a read or write past them faults on the guard page.
type Scratch struct {
	b     []byte
	pages []byte // the usable pages, b at their end
	mem   []byte // the whole mapping, for Close
	st    MemoryStatus
}

// NewScratch maps a Scratch of n bytes (n > 0). It fails only if no memory
// could be mapped at all.
func NewScratch(n int) (*Scratch, error) { return NewScratchOf(n, "the secret being read") }

// NewScratchOf is NewScratch for memory that holds what (the Status notes
// name it: "Argon2's working memory").
func NewScratchOf(n int, what string) (*Scratch, error) {
	if n <= 0 {
		return nil, errors.New("fallback: scratch memory of no bytes")
	}
	mem, pages, st, err := mapGuarded(n, what)
	if err != nil {
		return nil, fmt.Errorf("fallback: scratch memory: %w", err)
	}
	return &Scratch{b: pages[len(pages)-n:], pages: pages, mem: mem, st: st}, nil
}

// Bytes returns the n bytes. Nothing may keep the slice after Close.
func (s *Scratch) Bytes() []byte { return s.b }

// Status reports the protections the memory got.
func (s *Scratch) Status() MemoryStatus {
	st := s.st
	st.Notes = append([]string(nil), s.st.Notes...)
	return st
}

// Close wipes the usable pages and unmaps them. Calling it again does
// nothing.
func (s *Scratch) Close() {
	if s.mem == nil {
		return
	}
	wipe(s.pages)
	unmapGuarded(s.mem)
	s.b, s.pages, s.mem = nil, nil, nil
}

// wipe zeroes b; not inlined, so that the stores cannot be dropped.
//
//go:noinline
func wipe(b []byte) { clear(b) }
