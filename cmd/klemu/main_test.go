package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUsageExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want int
		msg  string
	}{
		{nil, "", exitUsage, "usage: klemu"},
		{[]string{"-h"}, "", 0, "usage: klemu"},
		{[]string{"--profile=bogus", "true"}, "", exitUsage, "unknown profile"},
		{[]string{"--iwkey=one", "true"}, "", exitUsage, "want random or zero"},
		{[]string{"--keysource=2", "true"}, "", exitUsage, "want 0 or 1"},
		{[]string{"--rotate-after=-1", "true"}, "", exitUsage, "want N >= 0"},
		{[]string{"--cpuid=magic", "true"}, "", exitUsage, "unknown CPUID mode"},
		{[]string{"--bogus", "true"}, "", exitUsage, "not defined"},
		{[]string{"true"}, "bogus", exitUsage, "unknown KLEMU_BREAK"},
		{[]string{"/nonexistent/klemu-prog"}, "", exitNotFound, "no such file"},
		{[]string{"klemu-no-such-program-anywhere"}, "", exitNotFound, "not found"},
	} {
		t.Setenv("KLEMU_BREAK", tc.env)
		var stderr bytes.Buffer
		if got := run(tc.args, &stderr); got != tc.want || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("klemu %q: exit %d (want %d), stderr %q (want %q)", tc.args, got, tc.want, stderr.String(), tc.msg)
		}
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
