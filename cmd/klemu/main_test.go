package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

func TestUsageExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want int
		msg  string
	}{
		{nil, "", exitUsage, "klemu: no program given"},
		{[]string{"--profile=bogus", "true"}, "", exitUsage, "unknown profile"},
		{[]string{"--iwkey=one", "true"}, "", exitUsage, "want random or zero"},
		{[]string{"--keysource=2", "true"}, "", exitUsage, "want 0 or 1"},
		{[]string{"--rotate-after=-1", "true"}, "", exitUsage, "want N >= 0"},
		{[]string{"--cpuid=magic", "true"}, "", exitUsage, "unknown CPUID mode"},
		{[]string{"--bogus", "true"}, "", exitUsage, "klemu: flag provided but not defined: --bogus"},
		{[]string{"-rotate-after", "x", "true"}, "", exitUsage, `invalid value "x" for flag --rotate-after`},
		{[]string{"true"}, "bogus", exitUsage, "unknown KLEMU_BREAK"},
		{[]string{"/nonexistent/klemu-prog"}, "", exitNotFound, "no such file"},
		{[]string{"klemu-no-such-program-anywhere"}, "", exitNotFound, "not found"},
	} {
		t.Setenv("KLEMU_BREAK", tc.env)
		var stdout, stderr bytes.Buffer
		if got := run(tc.args, &stdout, &stderr); got != tc.want || !strings.Contains(stderr.String(), tc.msg) || stdout.Len() != 0 {
			t.Errorf("klemu %q: exit %d (want %d), stderr %q (want %q), stdout %q", tc.args, got, tc.want, stderr.String(), tc.msg, stdout.String())
		}
	}
}

// TestHelp: help goes to stdout with status 0 and documents the flags
// with two dashes, --stats with its optional value.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}} {
		var stdout, stderr bytes.Buffer
		if got := run(args, &stdout, &stderr); got != 0 || stderr.Len() != 0 {
			t.Errorf("klemu %s: exit %d, stderr %q", args[0], got, stderr.String())
		}
		help := stdout.String()
		for _, want := range []string{"usage: klemu [flags] PROG [ARGS...]", "--stats[=FILE]", "--cpuid MODE", "(default auto)", "--rotate-after N"} {
			if !strings.Contains(help, want) {
				t.Errorf("help lacks %q:\n%s", want, help)
			}
		}
		if m := regexp.MustCompile(`(^|\s)-(profile|iwkey|keysource|nobackup|rotate-after|stats|cpuid)\b|stats =`).FindString(help); m != "" {
			t.Errorf("help has %q:\n%s", m, help)
		}
	}
}

// TestStatsFileRefused: a --stats file that cannot be created is reported
// before the program runs, with klemu's usage status.
func TestStatsFileRefused(t *testing.T) {
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	var stdout, stderr bytes.Buffer
	got := run([]string{"--stats=" + filepath.Join(dir, "missing", "stats"), "/bin/sh", "-c", "touch " + ran}, &stdout, &stderr)
	if got != exitUsage || !strings.Contains(stderr.String(), "klemu: --stats="+filepath.Join(dir, "missing", "stats")+": open") {
		t.Errorf("exit %d, stderr %q", got, stderr.String())
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("the program ran although its --stats file could not be created")
	}
}

func TestStatsFlag(t *testing.T) {
	var s statsFlag
	if !s.IsBoolFlag() {
		t.Fatal("--stats must work without a value")
	}
	s.Set("true")
	if !s.on || s.file != "" {
		t.Errorf("--stats: %+v", s)
	}
	s.Set("/tmp/x")
	if !s.on || s.file != "/tmp/x" {
		t.Errorf("--stats=FILE: %+v", s)
	}
	s.Set("false")
	if s.on {
		t.Errorf("--stats=false: %+v", s)
	}
}

// TestFirstNotice: once per parent process, never below another klemu;
// markers of processes that are gone are removed.
func TestFirstNotice(t *testing.T) {
	if procStart(os.Getpid()) == "" {
		t.Skip("no /proc/PID/stat here: every klemu prints the notice")
	}
	dir := t.TempDir()
	none := func(string) string { return "" }
	stale := filepath.Join(dir, fmt.Sprintf("klemu-notice-%d-%d-%s", os.Getuid(), os.Getpid(), "1"))
	os.WriteFile(stale, nil, 0o600) // this pid, another start time: a process that is gone
	other := filepath.Join(dir, fmt.Sprintf("klemu-notice-%d-1-1", os.Getuid()+1))
	os.WriteFile(other, nil, 0o600) // another user's marker: left alone
	if !firstNotice(dir, none, os.Getpid()) {
		t.Error("the first klemu of a parent printed nothing")
	}
	if firstNotice(dir, none, os.Getpid()) {
		t.Error("the second klemu of the same parent printed the notice again")
	}
	if !firstNotice(dir, none, os.Getppid()) {
		t.Error("the first klemu of another parent printed nothing")
	}
	if firstNotice(t.TempDir(), func(k string) string {
		if k == noticeEnv {
			return "1"
		}
		return ""
	}, os.Getpid()) {
		t.Error("a klemu below another one printed the notice")
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a marker of a process that is gone was kept")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("another user's marker was removed")
	}
	if first, second := firstNotice(dir, none, -1), firstNotice(dir, none, -1); !first || !second {
		t.Error("without the parent's start time every klemu must print the notice")
	}
}

// TestCPUIDNotice runs klemu as a machine without CPUID faulting
// (KLEMU_BREAK=nofault): --cpuid=auto (the default) falls back to patching
// and says so once for the runs started by one process, and the program
// it runs is told (KLEMU_CPUID_NOTICE); --cpuid=fault refuses with 120.
func TestCPUIDNotice(t *testing.T) {
	bin := klemutest.Available(t)
	tmp := t.TempDir()
	klemu := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "KLEMU_BREAK=nofault", "TMPDIR="+tmp, noticeEnv+"=")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stderr.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return stderr.String(), 0
	}
	const notice = "klemu: no CPUID faulting here"
	marker := filepath.Join(tmp, "told")
	first, code := klemu("/bin/sh", "-c", `[ "$KLEMU_CPUID" = patch ] && [ "$`+noticeEnv+`" = 1 ] && touch `+marker)
	if code != 0 || strings.Count(first, notice) != 1 {
		t.Fatalf("first run: exit %d, stderr %q: want one notice", code, first)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the program did not see KLEMU_CPUID=patch and %s=1", noticeEnv)
	}
	if second, code := klemu("true"); code != 0 || strings.Contains(second, notice) {
		t.Errorf("second run from the same process: exit %d, stderr %q: want no notice", code, second)
	}
	if out, code := klemu("--cpuid=fault", "true"); code != klemutest.ExitUnavailable || !strings.Contains(out, "klemu: unavailable: CPUID faulting refused") {
		t.Errorf("--cpuid=fault without faulting: exit %d, stderr %q", code, out)
	}
}

// TestStatsFileFails: counters that cannot be written at exit (a file on
// a full device) are reported, and a program that succeeded ends with
// klemu's error status instead of 0; a failing program keeps its status.
func TestStatsFileFails(t *testing.T) {
	klemutest.Available(t)
	if f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0); err != nil {
		t.Skipf("SKIP: no /dev/full to fail the write: %v", err)
	} else {
		f.Close()
	}
	for _, c := range []struct {
		prog []string
		want int
	}{
		{[]string{"true"}, exitUsage},
		{[]string{"/bin/sh", "-c", "exit 3"}, 3},
	} {
		var stdout, stderr bytes.Buffer
		got := run(append([]string{"--stats=/dev/full"}, c.prog...), &stdout, &stderr)
		if got != c.want || !strings.Contains(stderr.String(), "klemu: --stats: ") {
			t.Errorf("klemu --stats=/dev/full %s: exit %d, stderr %q; want %d and the error", strings.Join(c.prog, " "), got, stderr.String(), c.want)
		}
	}
	// A file that can be written: PROG's status, the counters in it.
	stats := filepath.Join(t.TempDir(), "stats")
	var stdout, stderr bytes.Buffer
	if got := run([]string{"--stats=" + stats, "true"}, &stdout, &stderr); got != 0 {
		t.Fatalf("klemu --stats=FILE true: exit %d, %s", got, stderr.String())
	}
	b, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := klemutest.ParseStats(b); err != nil || len(m) == 0 {
		t.Errorf("stats file: %v, %q", err, b)
	}
}
