package benchcmd

import (
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config says what a bench run measures.
type Config struct {
	Modes   []string // from ParseModes; nil: every mode
	Sizes   []int    // bytes per operation, from ParseSizes
	KeyBits []int    // from ParseKeys
	Impls   []string // from ParseImpls; nil: every implementation that runs here
	Threads int      // goroutines running each case at once; 0: runtime.NumCPU()
	Time    time.Duration
	Count   int // repetitions of each case, interleaved

	// Progress, if not nil, is called before each measurement with the
	// number done so far, the total and what runs next.
	Progress func(done, total int, what string)
}

// DefaultConfig is what `aeskl bench` measures without flags.
func DefaultConfig() Config {
	return Config{
		Modes:   Modes,
		Sizes:   []int{16, 512, 4 << 10, 64 << 10},
		KeyBits: []int{128, 256},
		Threads: runtime.NumCPU(),
		Time:    10 * time.Millisecond,
		Count:   5,
	}
}

// benchCase is one operation of one implementation with one key size and
// one size, and what its repetitions measured (bytes per second).
type benchCase struct {
	op      Op
	impl    string
	bits    int
	size    int
	batch   int // calls per check of the stop flag, set by the first repetition
	samples []float64
}

func (c *benchCase) String() string {
	return fmt.Sprintf("%s AES-%d %s %s", c.op.Name, c.bits, SizeLabel(c.size), c.impl)
}

// plan returns the cases of cfg in measuring order (operation, key size,
// size, then implementation with the baseline first: the cases one ratio
// compares run one after the other), the implementations that take part,
// and notes on the combinations left out.
func plan(cfg Config) (cases []*benchCase, impls []string, notes []string, err error) {
	impls = cfg.Impls
	explicit := impls != nil
	if !explicit {
		impls = KnownImpls()
	}
	var keep []string
	for _, name := range impls {
		var missing []string
		why := ""
		for _, bits := range cfg.KeyBits {
			if w := unavailable(name, bits); w != "" {
				missing, why = append(missing, fmt.Sprintf("AES-%d", bits)), w
			}
		}
		if len(missing) == len(cfg.KeyBits) && explicit {
			return nil, nil, nil, fmt.Errorf("implementation %s cannot run here with %s: %s", name, strings.Join(missing, ", "), why)
		}
		if len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("%s does not run here with %s: %s", name, strings.Join(missing, ", "), why))
		}
		if len(missing) < len(cfg.KeyBits) && slices.ContainsFunc(cfg.Modes, func(m string) bool { return runsMode(name, m) }) {
			keep = append(keep, name)
		}
	}
	impls = keep
	// Baselines first among the implementations of each group.
	ordered := slices.Clone(impls)
	slices.SortStableFunc(ordered, func(a, b string) int {
		switch {
		case isPeer(a) && !isPeer(b):
			return -1
		case !isPeer(a) && isPeer(b):
			return 1
		}
		return 0
	})
	for _, op := range Ops {
		if !slices.Contains(cfg.Modes, op.Mode) {
			continue
		}
		for _, bits := range cfg.KeyBits {
			for _, size := range cfg.Sizes {
				for _, name := range ordered {
					if runsMode(name, op.Mode) && unavailable(name, bits) == "" {
						cases = append(cases, &benchCase{op: op, impl: name, bits: bits, size: size})
					}
				}
			}
		}
	}
	if len(cases) == 0 {
		return nil, nil, nil, errors.New("nothing to measure: no implementation asked for runs any mode asked for")
	}
	return cases, impls, notes, nil
}

// measure runs each of runs on a goroutine of its own, all started
// together, each in batches of batch calls until d has passed since the
// start (at least one batch each), and returns the calls made in all and
// the time from the start to the end of the last batch. Each goroutine
// reads the clock after each batch itself: with as many goroutines as
// CPUs, a sleeping coordinator would wake only when the scheduler preempts
// one of them (about 10 ms).
func measure(runs []func() error, batch int, d time.Duration) (calls int64, elapsed time.Duration, err error) {
	var (
		total atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		last  time.Time
		first error
	)
	start := make(chan struct{})
	var t0 time.Time
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			n := int64(0)
			var err error
			var end time.Time
		loop:
			for {
				for range batch {
					if err = run(); err != nil {
						break loop
					}
					n++
				}
				if end = time.Now(); end.Sub(t0) >= d {
					break
				}
			}
			if err != nil {
				end = time.Now()
			}
			total.Add(n)
			mu.Lock()
			if end.After(last) {
				last = end
			}
			if err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		}()
	}
	t0 = time.Now()
	close(start)
	wg.Wait()
	return total.Load(), last.Sub(t0), first
}

// calibrate returns how many calls of run take about target (at least 1).
func calibrate(run func() error, target time.Duration) (int, error) {
	if err := run(); err != nil { // warm-up
		return 0, err
	}
	for n := 1; ; n *= 2 {
		t0 := time.Now()
		for range n {
			if err := run(); err != nil {
				return 0, err
			}
		}
		if d := time.Since(t0); d >= target/4 || n >= 1<<24 {
			return max(1, int(float64(n)*float64(target)/float64(max(d, 1)))), nil
		}
	}
}

// batchTime is how long one batch between two checks of the stop flag
// should take: short against a repetition, long against a clock read.
func batchTime(d time.Duration) time.Duration { return min(d/10, time.Millisecond) }

// runCase measures c once with threads workers for d and appends the
// throughput (bytes per second) to c.samples.
func runCase(c *benchCase, threads int, d time.Duration) error {
	key := make([]byte, c.bits/8)
	tweakKey := make([]byte, c.bits/8)
	in := make([]byte, c.size)
	rand.Read(key)
	rand.Read(tweakKey)
	rand.Read(in)
	defer clear(key)
	defer clear(tweakKey)
	runs := make([]func() error, threads)
	for i := range runs {
		w, err := newWorker(c.impl, c.op, key, tweakKey, in)
		if err != nil {
			return fmt.Errorf("%v: %w", c, err)
		}
		defer w.close()
		runs[i] = w.run
		if err := w.run(); err != nil { // warm-up: page faults, first use
			return fmt.Errorf("%v: %w", c, err)
		}
	}
	if c.batch == 0 {
		b, err := calibrate(runs[0], batchTime(d))
		if err != nil {
			return fmt.Errorf("%v: %w", c, err)
		}
		c.batch = b
	}
	calls, elapsed, err := measure(runs, c.batch, d)
	if err != nil {
		return fmt.Errorf("%v: %w", c, err)
	}
	c.samples = append(c.samples, float64(calls)*float64(c.size)/elapsed.Seconds())
	return nil
}
