// Package tracer is klemu's ptrace supervisor (linux/amd64 only): it runs a
// program with CPUID faulting armed in every thread and after every exec,
// answers CPUID from the profile's table, and emulates the Key Locker
// instructions (internal/klemu/sem) when they raise #UD. Every other signal
// passes through untouched.
package tracer

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/go-keylocker/keylocker/internal/klemu/cpuid"
	"github.com/go-keylocker/keylocker/internal/klemu/decode"
	"github.com/go-keylocker/keylocker/internal/klemu/sem"
)

// Config configures a run.
type Config struct {
	Profile     cpuid.Profile
	ZeroIWKey   bool   // --iwkey=zero
	KeySource   uint32 // --keysource
	NoBackup    bool   // --nobackup
	RotateAfter int    // --rotate-after
	Break       Break  // KLEMU_BREAK
	CPUID       Mode   // --cpuid
	Debug       io.Writer
	// Notice, if not nil, receives the one-line notice that ModeAuto fell
	// back to ModePatch (no CPUID faulting here); nil: no notice.
	Notice func(msg string)
}

// Mode is how CPUID is intercepted.
type Mode int

// CPUID interception modes.
const (
	// ModeFault uses CPUID faulting (arch_prctl ARCH_SET_CPUID), re-armed at
	// every exec: every CPUID of the tracee is answered. Without CPUID
	// faulting klemu is unavailable (exit 120).
	ModeFault Mode = iota
	// ModePatch patches the CPUID instructions of the small "*cpuid*"
	// helper functions of the main executable with UD2 at every exec (see
	// patch_linux_amd64.go): a fallback for machines without CPUID faulting.
	ModePatch
	// ModeAuto is ModeFault if CPUID faulting works here, else ModePatch
	// (Config.Notice says so).
	ModeAuto
)

var modeNames = [...]string{"fault", "patch", "auto"}

func (m Mode) String() string { return modeNames[m] }

// ParseMode parses a --cpuid value.
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if n == s {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown CPUID mode %q (want fault, patch or auto)", s)
}

// Break is a deliberate breakage (env KLEMU_BREAK=riprel,flags,xmm456,nocpuid)
// used to show that the end-to-end tests catch a broken emulator, or
// (nofault) to behave as on a machine without CPUID faulting.
type Break struct {
	sem.Breakage
	NoCPUID bool // do not arm CPUID faulting
	NoFault bool // report CPUID faulting as unavailable
}

// ParseBreak parses a comma-separated KLEMU_BREAK value.
func ParseBreak(s string) (Break, error) {
	var b Break
	for _, f := range strings.Split(s, ",") {
		switch strings.TrimSpace(f) {
		case "":
		case "riprel":
			b.RIPRel = true
		case "flags":
			b.Flags = true
		case "xmm456":
			b.XMM456 = true
		case "nocpuid":
			b.NoCPUID = true
		case "nofault":
			b.NoFault = true
		default:
			return b, fmt.Errorf("unknown KLEMU_BREAK %q (want riprel, flags, xmm456, nocpuid, nofault)", f)
		}
	}
	return b, nil
}

// SemConfig derives the instruction semantics configuration.
func (c *Config) SemConfig() sem.Config {
	return sem.Config{
		AESKLE:       c.Profile.AESKLE(),
		Wide:         c.Profile.Wide(),
		Restrictions: c.Profile.Restrictions(),
		NoBackup:     c.NoBackup,
		KeySource:    c.KeySource,
		ZeroIWKey:    c.ZeroIWKey,
		RotateAfter:  c.RotateAfter,
		Break:        c.Break.Breakage,
	}
}

// Unavailable reports that emulation cannot run here (ptrace or CPUID
// faulting refused). klemu exits 120 with Error() as its message.
type Unavailable struct{ Reason string }

func (e *Unavailable) Error() string { return "klemu: unavailable: " + e.Reason }

// Stats are the counters of a run.
type Stats struct {
	Sem   sem.Stats
	CPUID map[uint32]uint64
}

// Counters returns the counters by their --stats names.
func (s *Stats) Counters() map[string]uint64 {
	m := map[string]uint64{}
	for _, op := range decode.KLOps {
		m[op.String()] = s.Sem.Ops[op]
	}
	m["zf"] = s.Sem.ZF
	m["rotations"] = s.Sem.Rotations
	m["faults"] = s.Sem.Faults
	for leaf, n := range s.CPUID {
		m[fmt.Sprintf("cpuid.%#x", leaf)] = n
	}
	return m
}

// Write writes the counters in the stable --stats format: one line
// "klemu-stats <name> <count>" per counter, sorted by name.
func (s *Stats) Write(w io.Writer) error {
	m := s.Counters()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "klemu-stats %s %d\n", n, m[n])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
