package cliutil

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func newTestFlags() *FlagSet {
	f := NewFlagSet("tool sub", "[flags] FILE", "Does things.")
	f.Bool("json", false, "print JSON")
	f.Duration("time", 10*time.Millisecond, "how long each `D`")
	f.String("size", "4k", "sizes, a `LIST`")
	f.Var(optional{}, "stats", "counters, or to `=FILE`")
	return f
}

func TestFlagSetUsage(t *testing.T) {
	var b bytes.Buffer
	newTestFlags().Usage(&b)
	want := `usage: tool sub [flags] FILE

Does things.

flags:
  --json          print JSON
  --size LIST     sizes, a LIST (default 4k)
  --stats[=FILE]  counters, or to =FILE
  --time D        how long each D (default 10ms)
`
	if b.String() != want {
		t.Errorf("usage:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFlagSetRun(t *testing.T) {
	for _, c := range []struct {
		args       []string
		status     int
		ok         bool
		stdout     string // substring; "" for empty
		stderr     string
		stderrMiss string // must not appear
	}{
		{[]string{"--json", "a"}, 0, true, "", "", ""},
		{[]string{"--help"}, 0, false, "usage: tool sub", "", ""},
		{[]string{"-h"}, 0, false, "--time D", "", ""},
		{[]string{"--bogus"}, 2, false, "", "tool sub: flag provided but not defined: --bogus\n", " -bogus"},
		{[]string{"-bogus"}, 2, false, "", "not defined: --bogus", ""},
		{[]string{"--time", "soon"}, 2, false, "", `invalid value "soon" for flag --time`, "flag -time"},
		{[]string{"--time"}, 2, false, "", "flag needs an argument: --time", ""},
		{[]string{"--json=maybe"}, 2, false, "", "--json", " -json"},
		{[]string{"a", "b"}, 2, false, "", `tool sub: unexpected argument "b"`, ""},
	} {
		var out, errb bytes.Buffer
		status, ok := newTestFlags().Run(c.args, 1, &out, &errb)
		if status != c.status || ok != c.ok {
			t.Errorf("%q: status %d ok %v, want %d %v", c.args, status, ok, c.status, c.ok)
		}
		if c.stdout == "" && out.Len() != 0 || !strings.Contains(out.String(), c.stdout) {
			t.Errorf("%q: stdout %q, want %q", c.args, out.String(), c.stdout)
		}
		if c.stderr == "" && errb.Len() != 0 || !strings.Contains(errb.String(), c.stderr) {
			t.Errorf("%q: stderr %q, want %q", c.args, errb.String(), c.stderr)
		}
		if c.stderrMiss != "" && strings.Contains(errb.String(), c.stderrMiss) {
			t.Errorf("%q: stderr %q has %q", c.args, errb.String(), c.stderrMiss)
		}
		if c.status == 2 && !strings.Contains(errb.String(), "usage: tool sub") {
			t.Errorf("%q: a usage error without the usage: %q", c.args, errb.String())
		}
	}
}

func TestBuildInfo(t *testing.T) {
	b := ReadBuildInfo()
	if !strings.HasPrefix(b.GoVersion, "go") {
		t.Errorf("Go version %q", b.GoVersion)
	}
	s := BuildInfo{Module: "m", Version: "v1.2.3", Revision: "abc", Modified: true, Time: "2025", GoVersion: "go1.26"}.String()
	if s != "m v1.2.3 revision abc+modified (2025), go1.26" {
		t.Errorf("String: %q", s)
	}
	if s := (BuildInfo{GoVersion: "go1"}).String(); !strings.Contains(s, "no VCS revision") {
		t.Errorf("String without a revision: %q", s)
	}
}

// optional is a boolean flag that also takes a value.
type optional struct{}

func (optional) String() string   { return "" }
func (optional) Set(string) error { return nil }
func (optional) IsBoolFlag() bool { return true }
