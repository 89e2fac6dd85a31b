package cliutil

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// BuildInfo describes the running binary, from debug.ReadBuildInfo: the
// module it was built from, its version ("(devel)" for a build inside the
// module's own tree, a tag or pseudo-version for `go install ...@version`),
// the VCS revision when the go command stamped one (a build in a git
// checkout, unless -buildvcs=false), and the Go version.
type BuildInfo struct {
	Module    string `json:"module"`
	Version   string `json:"version"`
	Revision  string `json:"vcs_revision,omitempty"`
	Time      string `json:"vcs_time,omitempty"`
	Modified  bool   `json:"vcs_modified,omitempty"` // the checkout had uncommitted changes
	GoVersion string `json:"go_version"`
}

// ReadBuildInfo returns the running binary's BuildInfo. Without build
// information (a binary built without module support) only GoVersion is
// set.
func ReadBuildInfo() BuildInfo {
	b := BuildInfo{GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Module, b.Version = bi.Main.Path, bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String formats b on one line: module, version, revision (with
// "+modified" when the checkout had changes), its time and the Go version.
func (b BuildInfo) String() string {
	s := b.Module
	if s == "" {
		s = "(unknown module)"
	}
	v := b.Version
	if v == "" {
		v = "(unknown version)"
	}
	s += " " + v
	if b.Revision != "" {
		s += " revision " + b.Revision
		if b.Modified {
			s += "+modified"
		}
		if b.Time != "" {
			s += " (" + b.Time + ")"
		}
	} else {
		s += " (no VCS revision recorded)"
	}
	return fmt.Sprintf("%s, %s", s, b.GoVersion)
}
