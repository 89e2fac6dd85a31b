package benchcmd

import (
	"fmt"
	"os"
	"time"

	"github.com/go-keylocker/keylocker/internal/cliutil"
	"github.com/schollz/progressbar/v3"
)

// TerminalProgress returns a Config.Progress that shows, on f, a bar with
// the measurements done, how many are left, the time left and what runs
// now, and a function that clears it; when f is not a terminal it returns
// nil and a function that does nothing: nothing extra is written.
func TerminalProgress(f *os.File) (progress func(done, total int, what string), finish func()) {
	if !cliutil.IsTerminal(f) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	progress = func(done, total int, what string) {
		if bar == nil {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(f),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetWidth(20),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		}
		bar.Describe(fmt.Sprintf("%s (%d left)", what, total-done))
		bar.Set(done)
	}
	finish = func() {
		if bar != nil {
			bar.Finish() // clears the bar
		}
	}
	return progress, finish
}
