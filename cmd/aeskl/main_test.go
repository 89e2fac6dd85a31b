package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/benchcmd"
)

// runInProcess runs the aeskl command in this process (dispatch, with
// os.Stdout and os.Stderr sent to files) and returns its standard output,
// standard error and exit status. TestExitStatus checks the real binary's.
func runInProcess(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	dir := t.TempDir()
	o, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	saveOut, saveErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = o, e
	status = dispatch(args)
	os.Stdout, os.Stderr = saveOut, saveErr
	o.Close()
	e.Close()
	ob, _ := os.ReadFile(o.Name())
	eb, _ := os.ReadFile(e.Name())
	return string(ob), string(eb), status
}

// runBinary runs this test binary as the aeskl command.
func runBinary(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		status = ee.ExitCode()
	case err != nil:
		t.Fatalf("aeskl %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), status
}

// mustDispatch runs aeskl and fails the test unless it exits 0 with nothing
// on stderr.
func mustDispatch(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, status := runInProcess(t, args...)
	if status != 0 || errOut != "" {
		t.Fatalf("aeskl %s: status %d, stderr:\n%s", strings.Join(args, " "), status, errOut)
	}
	return out
}

// TestExitStatus: the binary exits with the status dispatch returns and
// writes where it says.
func TestExitStatus(t *testing.T) {
	if out, errOut, status := runBinary(t, "info", "--json"); status != 0 || errOut != "" || !strings.HasPrefix(out, "{") {
		t.Errorf("aeskl info --json: status %d, stdout %.40q, stderr %q", status, out, errOut)
	}
	if out, errOut, status := runBinary(t, "info", "extra"); status != 2 || out != "" || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("aeskl info extra: status %d, stdout %q, stderr %q", status, out, errOut)
	}
	if out, errOut, status := runBinary(t, "--help"); status != 0 || errOut != "" || !strings.HasPrefix(out, "usage: aeskl") {
		t.Errorf("aeskl --help: status %d, stdout %.40q, stderr %q", status, out, errOut)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv("AESKL_CMD_TEST") != "" {
		main()
	}
	os.Exit(m.Run())
}

// singleDashFlag finds a flag documented with one dash ("-json", "-time").
var singleDashFlag = regexp.MustCompile(`(^|[\s\[(])-[a-z][a-z-]+`)

// TestHelpAndUsageErrors: help goes to stdout with status 0; usage errors
// go to stderr with status 2, name the bad argument and show the usage;
// flags are written with two dashes everywhere.
func TestHelpAndUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args   []string
		status int
		want   string // in stdout for status 0, in stderr otherwise
	}{
		{[]string{"--help"}, 0, "usage: aeskl bench"},
		{[]string{"-h"}, 0, "usage: aeskl bench"},
		{[]string{"help"}, 0, "       aeskl version [--json]"},
		{[]string{"help", "bench"}, 0, "--threads N"},
		{[]string{"help", "info"}, 0, "usage: aeskl info [--json]"},
		{[]string{"info", "--help"}, 0, "encoding/json"},
		{[]string{"bench", "--help"}, 0, "aeskl bench compare"},
		{[]string{"bench", "-h"}, 0, "--chart FILE"},
		{[]string{"bench", "compare", "--help"}, 0, "usage: aeskl bench compare [--chart FILE] [--force] A.json B.json..."},
		{[]string{"version", "--help"}, 0, "usage: aeskl version"},
		{[]string{"encrypt", "--help"}, 0, "--passphrase-file FILE"},
		{[]string{"decrypt", "-h"}, 0, "usage: aeskl decrypt [--key-file F | --passphrase-file F]"},
		{[]string{"help", "encrypt"}, 0, "--argon2 T,M,P"},
		{nil, 2, "aeskl: no command given"},
		{[]string{"frobnicate"}, 2, `aeskl: unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, 2, `aeskl help: unknown command "frobnicate"`},
		{[]string{"help", "info", "x"}, 2, `unexpected argument "x"`},
		{[]string{"info", "extra"}, 2, `aeskl info: unexpected argument "extra"`},
		{[]string{"info", "--bogus"}, 2, "aeskl info: flag provided but not defined: --bogus"},
		{[]string{"info", "--json=maybe"}, 2, `invalid boolean value "maybe" for --json`},
		{[]string{"bench", "extra"}, 2, `aeskl bench: unexpected argument "extra"`},
		{[]string{"bench", "--time", "0"}, 2, "aeskl bench: --time 0s: want a duration > 0"},
		{[]string{"bench", "--time", "-1s"}, 2, "--time -1s: want a duration > 0"},
		{[]string{"bench", "--time", "soon"}, 2, `invalid value "soon" for flag --time`},
		{[]string{"bench", "--time"}, 2, "flag needs an argument: --time"},
		{[]string{"bench", "--size", "4k,17"}, 2, `aeskl bench: --size: size "17" is not a multiple of 16`},
		{[]string{"bench", "--mode", "gcm,ocb"}, 2, `--mode: unknown mode "ocb"`},
		{[]string{"bench", "--key", "512"}, 2, `--key: unknown key size "512"`},
		{[]string{"bench", "--impl", "openssl"}, 2, `--impl: unknown implementation "openssl"`},
		{[]string{"bench", "--threads", "0"}, 2, "--threads 0: want at least 1"},
		{[]string{"bench", "--count", "0"}, 2, "--count 0: want at least 1"},
		{[]string{"bench", "--chart", "out.jpg"}, 2, `--chart: chart file "out.jpg": the name must end in .svg or .png`},
		{[]string{"bench", "compare", "a.json"}, 2, "aeskl bench compare: want at least two reports, got 1"},
		{[]string{"bench", "compare", "--chart", "c.gif", "a.json", "b.json"}, 2, "--chart"},
		{[]string{"bench", "compare", "/nonexistent/a.json", "/nonexistent/b.json"}, 1, "no such file"},
		{[]string{"version", "now"}, 2, `aeskl version: unexpected argument "now"`},
		{[]string{"encrypt", "--bogus", "a", "b"}, 2, "aeskl encrypt: flag provided but not defined: --bogus"},
		{[]string{"decrypt", "a", "b", "--argon2", "1,1,1"}, 2, "aeskl decrypt: flag provided but not defined: --argon2"},
		{[]string{"encrypt", "a", "--key-file"}, 2, "aeskl encrypt: flag needs an argument: --key-file"},
		{[]string{"decrypt", "a"}, 2, "aeskl decrypt: want IN and OUT, got 1 argument(s)"},
		{[]string{"encrypt", "a", "b", "c"}, 2, `aeskl encrypt: unexpected argument "c"`},
		{[]string{"encrypt", "--argon2", "1,x,1", "a", "b"}, 2, `aeskl encrypt: --argon2 "1,x,1": "x" is not a number`},
	} {
		out, errOut, status := runInProcess(t, c.args...)
		name := strings.Join(c.args, " ")
		if status != c.status {
			t.Errorf("aeskl %s: status %d, want %d\nstdout: %s\nstderr: %s", name, status, c.status, out, errOut)
			continue
		}
		if c.status == 0 {
			if !strings.Contains(out, c.want) || errOut != "" {
				t.Errorf("aeskl %s: stdout lacks %q or stderr is not empty\nstdout: %s\nstderr: %s", name, c.want, out, errOut)
			}
			if m := singleDashFlag.FindString(out); m != "" {
				t.Errorf("aeskl %s: help documents a flag with one dash (%q):\n%s", name, m, out)
			}
			continue
		}
		if !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("aeskl %s: stderr lacks %q or stdout is not empty\nstdout: %s\nstderr: %s", name, c.want, out, errOut)
		}
		if c.status == 2 && !strings.Contains(errOut, "usage: aeskl") {
			t.Errorf("aeskl %s: a usage error without the usage:\n%s", name, errOut)
		}
		if m := singleDashFlag.FindString(errOut); m != "" {
			t.Errorf("aeskl %s: a flag with one dash (%q) in:\n%s", name, m, errOut)
		}
	}
}

// TestInfo: the text and the JSON say the same, and the JSON is exactly
// aeskl.Support's (every key known, read back equal to what Detect says
// in this process).
func TestInfo(t *testing.T) {
	want := aeskl.Detect()
	text := mustDispatch(t, "info")
	for _, s := range []string{"AES-128 uses:       " + want.Implementation128.String(), "Key Locker (CPU):", "AES-192 uses:", want.CPUName} {
		if !strings.Contains(text, s) {
			t.Errorf("info output lacks %q:\n%s", s, text)
		}
	}
	d := json.NewDecoder(strings.NewReader(mustDispatch(t, "info", "--json")))
	d.DisallowUnknownFields()
	var s aeskl.Support
	if err := d.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("info --json read back as\n%+v\nDetect here says\n%+v", s, want)
	}
}

func TestVersion(t *testing.T) {
	out := mustDispatch(t, "version")
	if !strings.HasPrefix(out, "aeskl ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: %q", out)
	}
	if again := mustDispatch(t, "--version"); again != out {
		t.Errorf("--version says %q, version %q", again, out)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(mustDispatch(t, "version", "--json")), &v); err != nil || v["go_version"] == nil {
		t.Errorf("version --json: %v %v", v, err)
	}
}

// TestBench runs short benches to JSON, with a chart, then the table
// and a comparison of the two reports. Off a terminal nothing but the
// output is written.
func TestBench(t *testing.T) {
	dir := t.TempDir()
	chart := filepath.Join(dir, "b.svg")
	args := []string{"bench", "--time", "1ms", "--count", "2", "--size", "16,64", "--key", "128", "--mode", "ctr,xts"}
	out := mustDispatch(t, append(args, "--json", "--chart", chart)...)
	r, err := benchcmd.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, res := range r.Results {
		seen[res.Op+"/"+res.Implementation] = true
		if res.MBPerS.Median <= 0 || len(res.MBPerS.Samples) != 2 {
			t.Errorf("%+v: nothing measured", res)
		}
	}
	for _, want := range []string{"ctr/crypto/aes", "xts-encrypt/x/crypto/xts", "xts-decrypt/generic", "ctr/generic"} {
		if !seen[want] {
			t.Errorf("bench did not measure %s", want)
		}
	}
	if b, err := os.ReadFile(chart); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("chart: %v", err)
	}
	a := filepath.Join(dir, "a.json")
	os.WriteFile(a, []byte(out), 0o644)

	saved := filepath.Join(dir, "saved.json")
	table := mustDispatch(t, append(args, "--out", saved)...)
	if r2, err := os.Open(saved); err != nil {
		t.Error(err)
	} else if _, err := benchcmd.ReadReport(r2); err != nil {
		t.Errorf("--out: %v", err)
	}
	for _, want := range []string{"CPU: ", "op           key  size  implementation", "xts-decrypt  128    64  x/crypto/xts"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	cmp := mustDispatch(t, "bench", "compare", "--chart", filepath.Join(dir, "c.png"), a, a)
	if !strings.Contains(cmp, "B/A") || !strings.Contains(cmp, "1.00x") {
		t.Errorf("compare of a report with itself:\n%s", cmp)
	}
}

// TestBenchOutputs: --out and --chart files are started before the run:
// an existing one stops it at once without --force (and is left as it
// was), as does a directory that does not exist; with --force they are
// replaced. compare --chart refuses and replaces the same way.
func TestBenchOutputs(t *testing.T) {
	dir := t.TempDir()
	out, chart := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.svg")
	write(t, out, []byte("old report"))
	write(t, chart, []byte("old chart"))
	// A run that would take over 3 s: the refusals must come before it.
	slow := []string{"bench", "--time", "3s", "--count", "1", "--size", "16", "--key", "128", "--mode", "ctr", "--impl", "crypto/aes"}
	for _, c := range []struct {
		flags []string
		msg   string
	}{
		{[]string{"--out", out}, "--out: " + out + ": output exists (use --force"},
		{[]string{"--chart", chart}, "--chart: " + chart + ": output exists (use --force"},
		{[]string{"--out", filepath.Join(dir, "r2.json"), "--chart", chart}, "--chart: " + chart + ": output exists"},
		{[]string{"--out", filepath.Join(dir, "missing", "r.json")}, "no such file or directory"},
	} {
		start := time.Now()
		stdout, errOut, status := runInProcess(t, append(slow, c.flags...)...)
		if status != 1 || stdout != "" || !strings.Contains(errOut, c.msg) {
			t.Errorf("bench %s: status %d, stdout %q, stderr %q; want 1 and %q", strings.Join(c.flags, " "), status, stdout, errOut, c.msg)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("bench %s: refused after %v, after the run", strings.Join(c.flags, " "), d)
		}
	}
	if string(read(t, out)) != "old report" || string(read(t, chart)) != "old chart" {
		t.Error("an existing file was changed without --force")
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("files left: %v", names)
	}
	quick := []string{"bench", "--time", "1ms", "--count", "1", "--size", "16", "--key", "128", "--mode", "ctr", "--impl", "crypto/aes"}
	mustDispatch(t, append(quick, "--out", out, "--chart", chart, "--force")...)
	if _, err := benchcmd.ReadReport(bytes.NewReader(read(t, out))); err != nil {
		t.Errorf("--out --force: %v", err)
	}
	if b := read(t, chart); !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("--chart --force: %.40q", b)
	}
	for _, p := range []string{out, chart} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, %v; want 0644", p, fi.Mode(), err)
		}
	}

	cmpChart := write(t, filepath.Join(dir, "c.png"), []byte("old"))
	if _, errOut, status := runInProcess(t, "bench", "compare", "--chart", cmpChart, out, out); status != 1 || !strings.Contains(errOut, "output exists") || string(read(t, cmpChart)) != "old" {
		t.Errorf("compare over an existing chart: status %d, %q", status, errOut)
	}
	mustDispatch(t, "bench", "compare", "--force", "--chart", cmpChart, out, out)
	if b := read(t, cmpChart); !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("compare --chart --force: %.10q", b)
	}
	if names := dirNames(t, dir); len(names) != 3 {
		t.Errorf("files left: %v", names)
	}
}

// TestBenchInterrupt: an interrupt during the run removes the --out and
// --chart files started before it, and the status is 130.
func TestBenchInterrupt(t *testing.T) {
	dir := t.TempDir()
	out, chart := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.png")
	cmd := exec.Command(os.Args[0], "bench", "--time", "5s", "--count", "1", "--size", "16", "--key", "128", "--mode", "ctr", "--impl", "crypto/aes", "--out", out, "--chart", chart)
	cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1", "GORACE=atexit_sleep_ms=0")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if tmp, _ := filepath.Glob(filepath.Join(dir, ".r.*.aeskl-*")); len(tmp) == 2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no temporary files after a minute: %s", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 || !strings.Contains(errb.String(), out+" was not written") || !strings.Contains(errb.String(), chart+" was not written") {
		t.Errorf("interrupted: %v, %q", err, errb.String())
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("left behind: %v", names)
	}
}

// TestPackageDoc: the package documentation shows every command.
func TestPackageDoc(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	for name := range commands {
		if !strings.Contains(doc, "\taeskl "+name+" ") {
			t.Errorf("the package documentation lacks a line for aeskl %s:\n%s", name, doc)
		}
	}
	if !strings.Contains(doc, "\taeskl help [COMMAND]") {
		t.Errorf("the package documentation lacks aeskl help:\n%s", doc)
	}
}
