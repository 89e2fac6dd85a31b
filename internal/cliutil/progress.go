package cliutil

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// A Progress reports bytes done, rate and time left on a terminal. It is
// silent when its writer is not a terminal or when quiet; Done reports the
// total and the average rate either way unless quiet.
type Progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	quiet bool
	start time.Time
	n     int64
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// NewProgress starts a progress report of total bytes (-1 if unknown)
// described by desc, on w (normally os.Stderr).
func NewProgress(w *os.File, total int64, desc string, quiet bool) *Progress {
	p := &Progress{w: w, quiet: quiet, start: time.Now()}
	if !quiet && IsTerminal(w) {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// Add records n more bytes done. It is safe for one goroutine at a time.
func (p *Progress) Add(n int) {
	p.n += int64(n)
	if p.bar != nil {
		p.bar.Add(n)
	}
}

// Done ends the report and prints "N bytes in T (R MB/s)" unless quiet.
func (p *Progress) Done() {
	if p.bar != nil {
		p.bar.Finish()
	}
	if p.quiet {
		return
	}
	d := time.Since(p.start)
	rate := float64(p.n) / d.Seconds() / 1e6
	fmt.Fprintf(p.w, "%d bytes in %v (%.0f MB/s)\n", p.n, d.Round(time.Millisecond), rate)
}

// Writer returns an io.Writer that passes writes to w and counts them.
func (p *Progress) Writer(w io.Writer) io.Writer { return progressWriter{w, p} }

type progressWriter struct {
	w io.Writer
	p *Progress
}

func (pw progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.p.Add(n)
	return n, err
}
