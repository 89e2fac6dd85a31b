package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// noticeEnv is set in the environment of every program klemu runs: a
// klemu started below it (a test binary that runs klemu itself) leaves the
// CPUID notice to the klemu above.
const noticeEnv = "KLEMU_CPUID_NOTICE"

// firstNotice reports whether this klemu should print the notice that
// CPUID faulting is missing: not below another klemu (noticeEnv is set),
// nor when another klemu started by the same parent process printed it
// already (go test -exec starts one klemu per package). The first one
// leaves an empty marker file in dir named after its user, the parent and
// the parent's start time; markers of processes that are gone are removed.
// Where the parent's start time cannot be read, every klemu prints it.
func firstNotice(dir string, getenv func(string) string, ppid int) bool {
	if getenv(noticeEnv) != "" {
		return false
	}
	start := procStart(ppid)
	if start == "" {
		return true
	}
	prefix := fmt.Sprintf("klemu-notice-%d-", os.Getuid())
	removeStale(dir, prefix)
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%s%d-%s", prefix, ppid, start)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return !errors.Is(err, fs.ErrExist)
	}
	f.Close()
	return true
}

// removeStale removes the markers in dir whose process has gone.
func removeStale(dir, prefix string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pid, start, ok := strings.Cut(rest, "-")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || procStart(n) != start {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// procStart returns the start time of process pid (field 22 of
// /proc/PID/stat, in clock ticks since boot), or "" if it cannot be read.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := strings.LastIndexByte(string(b), ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19] // fields 3.. follow the name: field 22 is f[19]
}
