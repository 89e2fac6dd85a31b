package stream

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/gcmbatch"
)

// A Writer or Reader whose caller's Write or Read is large enough works
// in rounds: roundBytes of segments, at least two for a Writer (which
// seals them on the calling goroutine and helpers) and at least one for a
// Reader (which opens a round right after reading it, on the goroutine
// that read it: a round of larger segments would no longer be in the
// core's cache when its first segment is opened; a ReaderAt, and a
// Reader over an io.ReaderAt, read and open runs on several goroutines,
// each its own). Reads from the
// underlying reader go in pieces of at most readPiece bytes, below the
// size from which Go's memmove bypasses the cache, so that the segments
// are still in cache when they are opened.
const (
	roundBytes = 512 << 10
	readPiece  = 512 << 10
	maxWorkers = 8
)

// roundSegments is the number of segments of a Writer's round.
func (p Params) roundSegments() int { return max(2, roundBytes/p.SegmentSize) }

// readSegments is the number of segments of a Reader's round.
func (p Params) readSegments() int { return max(1, roundBytes/p.SegmentSize) }

// parallel runs f(i) for every i in [0, n) and returns the smallest i
// for which f failed, with its error (-1 if none failed). The calling
// goroutine and up to GOMAXPROCS-1 helpers (at most maxWorkers in all)
// take the indices in increasing order from a shared counter, so that a
// helper that gets no CPU delays the call by one call of f at most (the
// caller makes an index a chunk of work: a Writer's grain of segments, a
// piece of a ReaderAt's range).
// After a failure no new index is taken; the calls under way finish, so
// every index below the one returned was run.
//
// A panic in f stops the taking of indices too, and parallel returns (or
// unwinds) only once no helper runs f any more: a panic on the calling
// goroutine goes on after the helpers have stopped, and the first panic
// of a helper is raised again on the calling goroutine, where its caller
// can recover it.
func parallel(n int, f func(i int) error) (int, error) {
	workers := min(n, runtime.GOMAXPROCS(0), maxWorkers)
	if workers <= 1 {
		for i := range n {
			if err := f(i); err != nil {
				return i, err
			}
		}
		return -1, nil
	}
	var (
		next     atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		failed   = n
		failErr  error
		panicked bool
		panicVal any
	)
	work := func() {
		for !stop.Load() {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			if err := f(i); err != nil {
				mu.Lock()
				if i < failed {
					failed, failErr = i, err
				}
				mu.Unlock()
				stop.Store(true)
			}
		}
	}
	helper := func() {
		defer func() {
			if r := recover(); r != nil {
				stop.Store(true)
				mu.Lock()
				if !panicked {
					panicked, panicVal = true, r
				}
				mu.Unlock()
			}
		}()
		work()
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(helper)
	}
	func() {
		// A panic of f here unwinds through this: the helpers stop
		// taking chunks, and the panic goes on once they have returned.
		defer func() {
			stop.Store(true)
			wg.Wait()
		}()
		work()
	}()
	if panicked {
		panic(panicVal)
	}
	if failErr == nil {
		return -1, nil
	}
	return failed, failErr
}

// grain is the number of segments a worker takes at a time: about 64 KiB.
func (p Params) grain() int { return max(1, (64<<10)/p.SegmentSize) }

// seal seals one segment, turning the panic of a rejected handle into an
// error: the Writer reports a rejected handle as an error, as the Reader
// does (GCM's Open returns it). Any other panic goes on.
func seal(g cipher.AEAD, dst []byte, nonce *[nonceSize]byte, pt []byte) (err error) {
	defer rejectedAsError(&err)
	g.Seal(dst[:0], nonce[:], pt, nil)
	return nil
}

// sealSegments seals segments with gcmbatch.Seal, turning the panic of a
// rejected handle into an error as seal does.
func sealSegments(g cipher.AEAD, msgs []gcmbatch.Msg) (err error) {
	defer rejectedAsError(&err)
	gcmbatch.Seal(g, msgs)
	return nil
}

// rejectedAsError, deferred, turns the panic of a rejected handle into
// *err; any other panic goes on.
func rejectedAsError(err *error) {
	if r := recover(); r != nil {
		e, ok := r.(error)
		if !ok || !errors.Is(e, aeskl.ErrInvalidHandle) {
			panic(r)
		}
		*err = fmt.Errorf("stream: %w", e)
	}
}
