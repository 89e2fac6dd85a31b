package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/go-keylocker/keylocker/internal/benchcmd"
	"github.com/go-keylocker/keylocker/internal/cliutil"
)

func init() {
	register(command{name: "bench", usage: "[flags] | compare [--chart FILE] [--force] A.json B.json...", run: runBench,
		summary: "measure every implementation that runs here against crypto/aes\n" +
			"(every mode, both directions, threads, charts); compare reports."})
}

const benchAbout = `Each figure is the total throughput of --threads goroutines, the median of
--count repetitions interleaved with the other cases, with its spread, its
ratio to crypto/aes (xts: x/crypto/xts) in the same repetitions and its
share of this CPU's raw AES rate (AESENC/VAESENC over registers, measured in
each repetition). A terminal shows progress on stderr. --json and --out write
the report that 'aeskl bench compare' reads (format: README, "Benchmarks").
The --out and --chart files are created before the run: an existing one is
replaced only with --force, and an interrupt removes them.

'aeskl bench compare [--chart FILE] [--force] A.json B.json...' lines up
reports of other machines or builds, with each one's ratio to the first.`

func runBench(args []string) int {
	if len(args) > 0 && args[0] == "compare" {
		return runCompare(args[1:])
	}
	def := benchcmd.DefaultConfig()
	fs := newFlags("bench", benchAbout)
	mode := fs.String("mode", strings.Join(benchcmd.Modes, ","), "modes, a comma-separated `LIST` of ecb, ctr, gcm, cbc, xts\n(each in both directions: encrypt/decrypt, GCM seal/open)")
	size := fs.String("size", "16,512,4k,64k", "bytes per operation, a `LIST` of multiples of 16 (k: KiB, m: MiB)")
	key := fs.String("key", "128,256", "AES key sizes, a `LIST` of 128, 192, 256")
	impl := fs.String("impl", "", "implementations, a `LIST` of "+strings.Join(benchcmd.KnownImpls(), ", ")+"\n(default: every one that runs here)")
	threads := fs.Int("threads", runtime.NumCPU(), "`N` goroutines run each case at once, the figures are their total (the default is\nthe number of logical CPUs)")
	d := fs.Duration("time", def.Time, "each repetition of each case runs for `D` (> 0)")
	count := fs.Int("count", def.Count, "`N` repetitions of each case, interleaved with the other cases")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of the table")
	chartPath := fs.String("chart", "", "also draw a chart to `FILE` (.svg or .png)")
	outPath := fs.String("out", "", "also write the JSON report to `FILE` (to share, or for 'aeskl bench compare')")
	force := fs.Bool("force", false, "replace the --out and --chart files if they exist")
	if status, ok := fs.Run(args, 0, os.Stdout, os.Stderr); !ok {
		return status
	}
	cfg := def
	var err error
	if cfg.Modes, err = benchcmd.ParseModes(*mode); err != nil {
		return fs.UsageError(os.Stderr, "--mode: %v", err)
	}
	if cfg.Sizes, err = benchcmd.ParseSizes(*size); err != nil {
		return fs.UsageError(os.Stderr, "--size: %v", err)
	}
	if cfg.KeyBits, err = benchcmd.ParseKeys(*key); err != nil {
		return fs.UsageError(os.Stderr, "--key: %v", err)
	}
	if *impl != "" {
		if cfg.Impls, err = benchcmd.ParseImpls(*impl); err != nil {
			return fs.UsageError(os.Stderr, "--impl: %v", err)
		}
	}
	switch {
	case *threads < 1:
		return fs.UsageError(os.Stderr, "--threads %d: want at least 1", *threads)
	case *d <= 0:
		return fs.UsageError(os.Stderr, "--time %v: want a duration > 0, such as 10ms", *d)
	case *count < 1:
		return fs.UsageError(os.Stderr, "--count %d: want at least 1", *count)
	}
	var chartFormat string
	if *chartPath != "" {
		if chartFormat, err = benchcmd.ChartFormat(*chartPath); err != nil {
			return fs.UsageError(os.Stderr, "--chart: %v", err)
		}
	}
	// The files are started before the run, which takes long: a name that
	// is taken (without --force) or a directory that cannot be written to
	// stops it at once.
	chartFile, status := createShared(fs.Name(), "--chart", *chartPath, *force)
	if status != 0 {
		return status
	}
	defer chartFile.abort()
	outFile, status := createShared(fs.Name(), "--out", *outPath, *force)
	if status != 0 {
		return status
	}
	defer outFile.abort()
	cfg.Threads, cfg.Time, cfg.Count = *threads, *d, *count
	progress, finish := benchcmd.TerminalProgress(os.Stderr)
	cfg.Progress = progress
	r, err := benchcmd.Run(cfg)
	finish()
	if err != nil {
		fmt.Fprintln(os.Stderr, "aeskl bench:", err)
		return 1
	}
	if chartFile != nil {
		if err := chartFile.finish(func(w io.Writer) error { return r.WriteChart(w, chartFormat) }); err != nil {
			fmt.Fprintln(os.Stderr, "aeskl bench: --chart:", err)
			return 1
		}
	}
	if outFile != nil {
		if err := outFile.finish(r.WriteJSON); err != nil {
			fmt.Fprintln(os.Stderr, "aeskl bench: --out:", err)
			return 1
		}
	}
	if *asJSON {
		err = r.WriteJSON(os.Stdout)
	} else {
		r.Describe(os.Stdout)
		fmt.Println()
		err = r.WriteTable(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "aeskl bench:", err)
		return 1
	}
	return 0
}

// A sharedFile is a report or chart file being written: a temporary file
// (mode 0644, a file to share) that commit renames into place, guarded
// as plain's outputs are, so that an interrupt during the run removes it.
type sharedFile struct {
	out *cliutil.Output
	o   *output
}

// createShared starts the file of the flag (nil if path is empty); an
// existing path is refused without force. A failure is reported on
// stderr and returned as the exit status 1.
func createShared(cmd, flagName, path string, force bool) (*sharedFile, int) {
	if path == "" {
		return nil, 0
	}
	if path != "-" {
		// As openOutput: a signal once the temporary file exists waits
		// until it is registered to be removed.
		installInterrupt()
		sigMu.Lock()
	}
	out, err := cliutil.CreateOutput(path, force)
	if err != nil {
		if path != "-" {
			sigMu.Unlock()
		}
		fmt.Fprintf(os.Stderr, "%s: %s: %v\n", cmd, flagName, err)
		return nil, 1
	}
	f := &sharedFile{out: out, o: &output{commit: out.Commit, abort: out.Abort, path: path}}
	if path != "-" {
		f.o.register()
		sigMu.Unlock()
		if err := out.Chmod(0o644); err != nil {
			f.o.abort()
			fmt.Fprintf(os.Stderr, "%s: %s: %v\n", cmd, flagName, err)
			return nil, 1
		}
	}
	return f, 0
}

// finish writes the contents and commits the file.
func (f *sharedFile) finish(write func(io.Writer) error) error {
	if err := write(f.out); err != nil {
		return err
	}
	return f.o.commit()
}

// abort removes the file unless it was committed; nil does nothing.
func (f *sharedFile) abort() {
	if f != nil {
		f.o.abort()
	}
}

func runCompare(args []string) int {
	fs := cliutil.NewFlagSet("aeskl bench compare", "[--chart FILE] [--force] A.json B.json...",
		"Lines up reports written by 'aeskl bench --json' or --out (other machines, or\n"+
			"before and after a change): each one's median MB/s and its ratio to the first\n"+
			"report, '-' where a report lacks the case.")
	chartPath := fs.String("chart", "", "also draw a chart to `FILE` (.svg or .png)")
	force := fs.Bool("force", false, "replace the --chart file if it exists")
	if status, ok := fs.Run(args, -1, os.Stdout, os.Stderr); !ok {
		return status
	}
	if fs.NArg() < 2 {
		return fs.UsageError(os.Stderr, "want at least two reports, got %d", fs.NArg())
	}
	var chartFormat string
	if *chartPath != "" {
		var err error
		if chartFormat, err = benchcmd.ChartFormat(*chartPath); err != nil {
			return fs.UsageError(os.Stderr, "--chart: %v", err)
		}
	}
	chartFile, status := createShared(fs.Name(), "--chart", *chartPath, *force)
	if status != 0 {
		return status
	}
	defer chartFile.abort()
	var reports []*benchcmd.Report
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "aeskl bench compare:", err)
			return 1
		}
		r, err := benchcmd.ReadReport(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "aeskl bench compare: %s: %v\n", name, err)
			return 1
		}
		reports = append(reports, r)
	}
	c := benchcmd.Compare(fs.Args(), reports)
	if chartFile != nil {
		if err := chartFile.finish(func(w io.Writer) error { return c.WriteChart(w, chartFormat) }); err != nil {
			fmt.Fprintln(os.Stderr, "aeskl bench compare: --chart:", err)
			return 1
		}
	}
	if err := c.WriteTable(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "aeskl bench compare:", err)
		return 1
	}
	return 0
}
