// Command aeskl works with AES keys that never sit in memory: it reports
// what this machine offers (Intel Key Locker, the sealed AES-NI fallback)
// and which implementation the aeskl package chooses, and measures them
// against crypto/aes. Each subcommand lives in its own file and registers
// itself in commands.
//
//	aeskl info [--json]
//	aeskl bench [--size N] [--time D] [--json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/go-keylocker/keylocker/aeskl"
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

func init() {
	register(command{name: "info", usage: "[--json]", run: runInfo,
		summary: "print what the CPU and OS support (Key Locker, AES-NI, VAES...),\n" +
			"which implementation aeskl.New chooses per key size, and why."})
	register(command{name: "bench", usage: "[--size N] [--time D] [--json]", run: runBench,
		summary: "measure every implementation that runs here against crypto/aes\n" +
			"(one block, CTR, GCM, CBC decryption, XTS), a few seconds."})
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
}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

// dispatch runs the subcommand named by args[0] and returns the exit status.
func dispatch(args []string) int {
	if len(args) < 1 {
		usage(os.Stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(os.Stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "aeskl: unknown command %q\n\n", args[0])
		usage(os.Stderr)
		return 2
	}
	return c.run(args[1:])
}

func runInfo(args []string) int {
	fs := flag.NewFlagSet("aeskl info", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "aeskl info: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	s := aeskl.Detect()
	if *asJSON {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(s); err != nil {
			fmt.Fprintln(os.Stderr, "aeskl:", err)
			return 1
		}
		return 0
	}
	fmt.Print(s)
	return 0
}
