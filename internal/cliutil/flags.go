package cliutil

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// A FlagSet is a flag.FlagSet for one command that speaks as the command
// does: its usage lists the flags with the double dashes the
// documentation uses (--size LIST, not -size), and its errors name the
// command and the flag as it was documented. Parse never prints; the
// caller prints help to standard output (status 0) and errors with the
// usage to standard error (status 2), which Run does.
type FlagSet struct {
	*flag.FlagSet
	name     string // "aeskl bench"
	synopsis string // what follows the name on the usage line
	about    string // a paragraph after the usage line
}

// NewFlagSet returns a FlagSet for the command name (the words a user
// types, such as "aeskl bench"), with the usage line "usage: NAME
// SYNOPSIS" and a paragraph about the command.
func NewFlagSet(name, synopsis, about string) *FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &FlagSet{FlagSet: fs, name: name, synopsis: synopsis, about: about}
}

// Name returns the command's name, as given to NewFlagSet.
func (f *FlagSet) Name() string { return f.name }

// singleDash finds a flag name written with Go's single dash in the flag
// package's messages ("flag provided but not defined: -x", "invalid value
// ... for flag -size: ...", "flag needs an argument: -time").
var singleDash = regexp.MustCompile(`(: |flag |for )-([A-Za-z0-9])`)

// Parse parses args. It returns flag.ErrHelp for -h, -help and --help, and
// any other error with the flag written as --name.
func (f *FlagSet) Parse(args []string) error {
	err := f.FlagSet.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errors.New(singleDash.ReplaceAllString(err.Error(), "$1--$2"))
}

// Usage writes the usage line, the paragraph about the command and the
// flags, one per line as --name VALUE, with their defaults. A flag whose
// usage names its value "`=VALUE`" (a boolean flag that also takes a
// value) is written --name[=VALUE].
func (f *FlagSet) Usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s %s\n", f.name, f.synopsis)
	if f.about != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(f.about, "\n"))
	}
	var lines [][2]string
	f.VisitAll(func(fl *flag.Flag) {
		arg, usage := flag.UnquoteUsage(fl)
		left := "--" + fl.Name
		switch {
		case strings.HasPrefix(arg, "="): // an optional value: --stats[=FILE]
			left += "[" + arg + "]"
		case arg != "":
			left += " " + arg
		}
		if d := fl.DefValue; d != "" && d != "false" && d != "0" && d != "[]" {
			usage += " (default " + d + ")"
		}
		lines = append(lines, [2]string{left, usage})
	})
	if len(lines) == 0 {
		return
	}
	width := 0
	for _, l := range lines {
		width = max(width, len(l[0]))
	}
	fmt.Fprintf(w, "\nflags:\n")
	for _, l := range lines {
		usage := strings.ReplaceAll(l[1], "\n", "\n  "+strings.Repeat(" ", width+2))
		fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], usage)
	}
}

// UsageError writes "NAME: message" and the usage to stderr and returns 2,
// the exit status of a usage error.
func (f *FlagSet) UsageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "%s: %s\n\n", f.name, fmt.Sprintf(format, args...))
	f.Usage(stderr)
	return 2
}

// Run parses args and, when the command should not go on, says why: with
// --help it writes the usage to stdout and returns (0, false); on a flag
// error it writes the error and the usage to stderr and returns (2,
// false). With maxArgs >= 0, more positional arguments than that are a
// usage error naming the first one too many. Otherwise it returns (0,
// true).
func (f *FlagSet) Run(args []string, maxArgs int, stdout, stderr io.Writer) (status int, ok bool) {
	err := f.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.Usage(stdout)
		return 0, false
	case err != nil:
		return f.UsageError(stderr, "%v", err), false
	case maxArgs >= 0 && f.NArg() > maxArgs:
		return f.UsageError(stderr, "unexpected argument %q", f.Arg(maxArgs)), false
	}
	return 0, true
}
