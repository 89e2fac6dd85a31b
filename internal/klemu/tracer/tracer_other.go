//go:build !(linux && amd64)

package tracer

import "syscall"

// Tracer is unavailable off linux/amd64.
type Tracer struct{}

// New reports that emulation is unavailable.
func New(cfg Config) (*Tracer, error) {
	return nil, &Unavailable{Reason: "klemu needs linux/amd64"}
}

// Rotate does nothing.
func (t *Tracer) Rotate() {}

// Signal does nothing.
func (t *Tracer) Signal(sig syscall.Signal) bool { return false }

// Stats returns no counters.
func (t *Tracer) Stats() *Stats { return &Stats{} }

// ErrNotFound wraps an exec failure of the program itself.
type ErrNotFound struct{ Err error }

func (e *ErrNotFound) Error() string { return "klemu: " + e.Err.Error() }

// Run is unavailable.
func (t *Tracer) Run(path string, argv, env []string) (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	return ws, &Unavailable{Reason: "klemu needs linux/amd64"}
}
