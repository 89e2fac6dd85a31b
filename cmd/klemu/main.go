// Command klemu runs a program as if the CPU had Intel Key Locker: it traces
// the program (and every thread, fork and exec of it) with ptrace, reports
// Key Locker in CPUID through CPUID faulting and emulates the Key Locker
// instructions. Use it directly or as `go test -exec klemu`.
//
//	klemu [--profile=NAME] [--iwkey=random|zero] [--keysource=0|1] [--nobackup]
//	      [--rotate-after=N] [--stats[=FILE]] [--cpuid=auto|fault|patch] PROG [ARGS...]
//
// See internal/klemu/README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/go-keylocker/keylocker/internal/cliutil"
	"github.com/go-keylocker/keylocker/internal/klemu/cpuid"
	"github.com/go-keylocker/keylocker/internal/klemu/tracer"
)

// Exit statuses of klemu itself (ARCHITECTURE.md).
const (
	exitUnavailable = 120
	exitUsage       = 125
	exitNoExec      = 126
	exitNotFound    = 127
)

// statsFlag is --stats (stderr) or --stats=FILE.
type statsFlag struct {
	on   bool
	file string
}

func (s *statsFlag) String() string   { return s.file }
func (s *statsFlag) IsBoolFlag() bool { return true }
func (s *statsFlag) Set(v string) error {
	switch v {
	case "true":
		s.on, s.file = true, ""
	case "false":
		s.on, s.file = false, ""
	default:
		s.on, s.file = true, v
	}
	return nil
}

const about = `Runs PROG under ptrace as if the CPU had Intel Key Locker (go test -exec klemu).
Exit status: PROG's; 120 emulation unavailable here, 125 usage or internal
error, 126 PROG cannot run, 127 PROG not found. See internal/klemu/README.md.`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fset := cliutil.NewFlagSet("klemu", "[flags] PROG [ARGS...]", about)
	profile := fset.String("profile", "full", "what CPUID reports, the `NAME` of a profile: full, no-wide, disabled, absent")
	iwkey := fset.String("iwkey", "random", "the IWKey, `KIND` random (per run) or zero (tests only: the spec vector)")
	keysource := fset.Uint("keysource", 0, "IWKey.KeySource reported by ENCODEKEY, `N` 0 or 1")
	nobackup := fset.Bool("nobackup", false, "IWKey.NoBackup reported by ENCODEKEY")
	rotate := fset.Int("rotate-after", 0, "replace the IWKey after every `N` emulated AES instructions\n(0: never; SIGUSR2 rotates at once)")
	cpuidMode := fset.String("cpuid", "auto", "how CPUID is intercepted, `MODE` auto (faulting where the CPU has it,\n"+
		"else patch, with a notice once per run), fault (CPUID faulting; exit 120\n"+
		"without it) or patch (in the executable's *cpuid* helpers only)")
	var stats statsFlag
	fset.Var(&stats, "stats", "print counters at exit: to stderr, or with `=FILE` to FILE (opened before\n"+
		"PROG runs); go test shows a passing test's stderr only with -v: use\n"+
		"--stats=FILE or --stats=/dev/tty there")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fset.Usage(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "klemu: %v\n\n", err)
		fset.Usage(stderr)
		return exitUsage
	}
	cfg := tracer.Config{NoBackup: *nobackup, RotateAfter: *rotate}
	var err error
	if cfg.Profile, err = cpuid.Parse(*profile); err != nil {
		fmt.Fprintf(stderr, "klemu: --profile: %v\n", err)
		return exitUsage
	}
	switch *iwkey {
	case "random":
	case "zero":
		cfg.ZeroIWKey = true
	default:
		fmt.Fprintf(stderr, "klemu: --iwkey=%s: want random or zero\n", *iwkey)
		return exitUsage
	}
	if *keysource > 1 {
		fmt.Fprintf(stderr, "klemu: --keysource=%d: want 0 or 1\n", *keysource)
		return exitUsage
	}
	cfg.KeySource = uint32(*keysource)
	if cfg.CPUID, err = tracer.ParseMode(*cpuidMode); err != nil {
		fmt.Fprintf(stderr, "klemu: --cpuid: %v\n", err)
		return exitUsage
	}
	if *rotate < 0 {
		fmt.Fprintf(stderr, "klemu: --rotate-after=%d: want N >= 0\n", *rotate)
		return exitUsage
	}
	if cfg.Break, err = tracer.ParseBreak(os.Getenv("KLEMU_BREAK")); err != nil {
		fmt.Fprintf(stderr, "klemu: %v\n", err)
		return exitUsage
	}
	if v := os.Getenv("KLEMU_BREAK"); v != "" {
		fmt.Fprintf(stderr, "klemu: WARNING: KLEMU_BREAK=%s: this emulator is deliberately broken (test of the tests)\n", v)
	}
	if os.Getenv("KLEMU_DEBUG") != "" {
		cfg.Debug = stderr
	}
	if fset.NArg() == 0 {
		fmt.Fprint(stderr, "klemu: no program given\n\n")
		fset.Usage(stderr)
		return exitUsage
	}
	var statsOut io.Writer = stderr
	var statsFile *os.File // closed (and the error reported) after the counters are written
	if stats.on && stats.file != "" {
		f, err := os.OpenFile(stats.file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "klemu: --stats=%s: %v\n", stats.file, err)
			return exitUsage
		}
		defer func() {
			if statsFile != nil { // a return before the counters were written
				statsFile.Close()
			}
		}()
		statsOut, statsFile = f, f
	}
	env := os.Environ()
	if cfg.CPUID == tracer.ModeAuto {
		cfg.Notice = func(msg string) {
			if firstNotice(os.TempDir(), os.Getenv, os.Getppid()) {
				fmt.Fprintln(stderr, msg)
			}
		}
	}
	env = append(env, noticeEnv+"=1")
	prog := fset.Arg(0)
	path, err := exec.LookPath(prog)
	if err != nil {
		fmt.Fprintf(stderr, "klemu: %v\n", err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return exitNotFound
		}
		return exitNoExec
	}
	t, err := tracer.New(cfg)
	if err != nil {
		return report(stderr, err)
	}
	sigc := make(chan os.Signal, 8)
	signal.Notify(sigc, forwarded...)
	if rotateSignal != nil {
		signal.Notify(sigc, rotateSignal)
	}
	go func() {
		for s := range sigc {
			if s == rotateSignal {
				t.Rotate()
				continue
			}
			if sig, ok := s.(syscall.Signal); ok && !t.Signal(sig) {
				// No leader to forward to (left-over background tracees):
				// take the signal's default action; PTRACE_O_EXITKILL then
				// ends every tracee with klemu.
				signal.Reset(sig)
				if self, err := os.FindProcess(os.Getpid()); err == nil {
					self.Signal(sig)
				}
			}
		}
	}()
	ws, err := t.Run(path, fset.Args(), env)
	signal.Stop(sigc)
	if err != nil {
		return report(stderr, err)
	}
	// Counters that were asked for and could not be written (or whose
	// file could not be closed: the data may not have reached it) turn a
	// successful PROG's status into klemu's own error status; a failing
	// PROG keeps its status.
	statsFailed := false
	if stats.on {
		err := t.Stats().Write(statsOut)
		if statsFile != nil {
			if cerr := statsFile.Close(); err == nil {
				err = cerr
			}
			statsFile = nil
		}
		if err != nil {
			fmt.Fprintf(stderr, "klemu: --stats: %v\n", err)
			statsFailed = true
		}
	}
	switch {
	case ws.Exited():
		if statsFailed && ws.ExitStatus() == 0 {
			return exitUsage
		}
		return ws.ExitStatus()
	case ws.Signaled():
		reraise(ws.Signal())
		return 128 + int(ws.Signal())
	}
	fmt.Fprintf(stderr, "klemu: unexpected wait status %v\n", ws)
	return exitUsage
}

func report(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, err.Error())
	var u *tracer.Unavailable
	var nf *tracer.ErrNotFound
	switch {
	case errors.As(err, &u):
		return exitUnavailable
	case errors.As(err, &nf):
		if errors.Is(err, syscall.ENOENT) {
			return exitNotFound
		}
		return exitNoExec
	}
	return exitUsage
}
