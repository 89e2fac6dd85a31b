package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/go-keylocker/keylocker/aeskl"
)

func init() {
	register(command{name: "info", usage: "[--json]", run: runInfo,
		summary: "print what the CPU and OS support (Key Locker, AES-NI, VAES...),\n" +
			"which implementation aeskl.New chooses per key size, and why."})
}

func runInfo(args []string) int {
	fs := newFlags("info", "The JSON form is aeskl.Support's (snake_case keys, one per field): it reads\n"+
		"back into an aeskl.Support with encoding/json.")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if status, ok := fs.Run(args, 0, os.Stdout, os.Stderr); !ok {
		return status
	}
	s := aeskl.Detect()
	if *asJSON {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(s); err != nil {
			fmt.Fprintln(os.Stderr, "aeskl info:", err)
			return 1
		}
		return 0
	}
	fmt.Print(s)
	return 0
}
