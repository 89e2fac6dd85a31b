package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/go-keylocker/keylocker/internal/cliutil"
)

func init() {
	register(command{name: "version", usage: "[--json]", run: runVersion,
		summary: "print the module version, VCS revision and Go version of this binary."})
}

func runVersion(args []string) int {
	fs := newFlags("version", "The go command records the revision when it builds in a git clone (not with\n"+
		"its VCS stamping, the buildvcs flag, off; Go 1.26 records none in a linked git\n"+
		"worktree); 'go install ...@VERSION' records the version instead.")
	asJSON := fs.Bool("json", false, "print JSON (module, version, vcs_revision, vcs_time, vcs_modified, go_version)")
	if status, ok := fs.Run(args, 0, os.Stdout, os.Stderr); !ok {
		return status
	}
	b := cliutil.ReadBuildInfo()
	if *asJSON {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(b); err != nil {
			fmt.Fprintln(os.Stderr, "aeskl version:", err)
			return 1
		}
		return 0
	}
	fmt.Println("aeskl", b)
	return 0
}
