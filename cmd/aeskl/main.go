// Command aeskl works with AES keys that never sit in memory: it encrypts
// files in Tink's streaming AEAD format, reads and writes dm-crypt plain
// and LUKS disk images, reports what this machine offers (Intel Key
// Locker, the sealed AES-NI fallback) and which implementation the aeskl
// package chooses, and measures them against crypto/aes. Each subcommand
// lives in its own file and registers itself in commands.
//
//	aeskl encrypt [--key-file F | --passphrase-file F] [--argon2 T,M,P] [--force] [--quiet] IN OUT
//	aeskl decrypt [--key-file F | --passphrase-file F] [--force] [--quiet] IN OUT
//	aeskl plain encrypt|decrypt [flags] IN OUT
//	aeskl luks dump|decrypt|encrypt [flags] IMAGE [OUT|IN]
//	aeskl info [--json]
//	aeskl bench [--mode LIST] [--size LIST] [--key LIST] [--impl LIST] [--threads N]
//	            [--time D] [--count N] [--json] [--out FILE] [--chart FILE] [--force]
//	aeskl bench compare [--chart FILE] [--force] A.json B.json...
//	aeskl version [--json]
//	aeskl help [COMMAND]
//
// `aeskl help COMMAND` or `aeskl COMMAND --help` describes a command.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/go-keylocker/keylocker/internal/cliutil"
)

// A command is one subcommand of aeskl.
type command struct {
	name    string
	usage   string // argument synopsis after the name
	summary string // one or two lines for the overview
	run     func(args []string) int
}

// commands holds every subcommand, registered by the files that
// implement them.
var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// newFlags returns the flag set of the registered command name: its usage
// line is the command's synopsis, followed by its summary and about.
func newFlags(name, about string) *cliutil.FlagSet {
	c := commands[name]
	text := c.summary
	if about != "" {
		text += "\n\n" + about
	}
	return cliutil.NewFlagSet("aeskl "+name, c.usage, text)
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		prefix := "       aeskl "
		if i == 0 {
			prefix = "usage: aeskl "
		}
		fmt.Fprintf(w, "%s%s %s\n", prefix, n, commands[n].usage)
	}
	fmt.Fprintln(w)
	for _, n := range names {
		lines := strings.Split(commands[n].summary, "\n")
		fmt.Fprintf(w, "%-8s %s\n", n, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%-8s %s\n", "", l)
		}
	}
	fmt.Fprintln(w, "\n'aeskl help COMMAND' or 'aeskl COMMAND --help' describes a command and its flags.")
}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

// dispatch runs the subcommand named by args[0] and returns the exit status.
func dispatch(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "aeskl: no command given")
		fmt.Fprintln(os.Stderr)
		usage(os.Stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(os.Stdout)
		return 0
	case "help":
		switch len(args) {
		case 1:
			usage(os.Stdout)
			return 0
		case 2:
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"--help"})
			}
			fmt.Fprintf(os.Stderr, "aeskl help: unknown command %q\n\n", args[1])
		default:
			fmt.Fprintf(os.Stderr, "aeskl help: unexpected argument %q\n\n", args[2])
		}
		usage(os.Stderr)
		return 2
	case "-version", "--version":
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "aeskl: unknown command %q\n\n", args[0])
		usage(os.Stderr)
		return 2
	}
	return c.run(args[1:])
}
