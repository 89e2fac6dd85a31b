package disk

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/go-keylocker/keylocker/internal/alias"
)

// DefaultChunkSize is the bytes of one unit of work when a Transformer's
// ChunkSize is zero.
const DefaultChunkSize = 256 << 10

// A Transformer encrypts or decrypts a volume, or a range of it, in chunks
// of whole sectors on Workers goroutines: CryptAt from an io.ReaderAt to an
// io.WriterAt (each worker reads, transforms and writes its chunks; the
// writes go in order), Stream from an io.Reader to an io.Writer (read and
// written in order, transformed in parallel), Crypt from one buffer to
// another. Whatever the length, CryptAt holds Workers chunks in memory and
// Stream 2*Workers+2.
//
// The cipher runs on the Transformer's own goroutines: a panic there (a
// Cipher closed during the run, a SectorCipher's bug) is recovered and
// returned as the error of the call, as a failure of that chunk.
type Transformer struct {
	Cipher  SectorCipher
	Layout  Layout
	Decrypt bool
	// Workers is the number of goroutines that run the cipher; zero means
	// runtime.GOMAXPROCS(0). Short runs use fewer.
	Workers int
	// ChunkSize is the bytes per unit of work, rounded down to whole
	// sectors; zero means DefaultChunkSize.
	ChunkSize int
	// Progress, if not nil, is called with the bytes of each chunk once it
	// is written, from one goroutine at a time.
	Progress func(n int)
}

// An IOError is a read or write error of a Transformer, with the number of
// bytes written before it: the output holds the transformed first Written
// bytes of the range, and may hold nothing meaningful after them.
type IOError struct {
	Op      string // "read" or "write"
	Offset  int64  // bytes from the start of the range where the operation failed
	Written int64
	Err     error
}

func (e *IOError) Error() string {
	return fmt.Sprintf("%s at byte %d of the range: %v", e.Op, e.Offset, e.Err)
}

func (e *IOError) Unwrap() error { return e.Err }

// ErrPartialSector is wrapped by the error of Stream for an input whose end
// falls inside a sector.
var ErrPartialSector = errors.New("input ends inside a sector")

// CryptAt transforms length bytes (whole sectors) of the volume starting at
// its byte pos (a sector boundary, which determines the IVs): it reads them
// from src at srcOff and writes the result to dst at dstOff. Each worker
// reads, transforms and writes its own chunks, and the writes happen in
// order: it returns the number of bytes written, n, a whole number of
// chunks. After a failure the first n bytes of the range in dst hold the
// transformed data; the write that failed may have written part of its
// chunk after them (io.WriterAt allows a short write); the rest of the
// range in dst was not written by CryptAt. In place, that rest is
// therefore still the input, untransformed, except for such a partial
// chunk, which is then neither. Read and write failures are *IOError. dst
// and src may be the same file with the same offsets (in place): a chunk
// is read before it is written, and chunks do not overlap.
func (t *Transformer) CryptAt(dst io.WriterAt, dstOff int64, src io.ReaderAt, srcOff int64, pos, length int64) (int64, error) {
	if length < 0 {
		return 0, fmt.Errorf("disk: negative length %d", length)
	}
	ss, chunk, workers, err := t.setup(pos, length)
	if err != nil {
		return 0, err
	}
	nchunks := (length + chunk - 1) / chunk
	workers = int(min(int64(workers), nchunks))
	var (
		next    atomic.Int64 // the next chunk to take
		mu      sync.Mutex
		turn    = sync.NewCond(&mu)
		written int64 // chunks written, in order
		failed  error
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, chunk)
			for {
				i := next.Add(1) - 1
				if i >= nchunks {
					return
				}
				off := i * chunk
				b := buf[:min(chunk, length-off)]
				var err error
				if n, rerr := src.ReadAt(b, srcOff+off); n < len(b) {
					if rerr == nil || rerr == io.EOF {
						rerr = fmt.Errorf("%w: the input ends %d bytes into a range of %d", io.ErrUnexpectedEOF, off+int64(n), length)
					}
					err = &IOError{Op: "read", Offset: off + int64(n), Err: rerr}
				} else {
					err = t.crypt(b, b, pos+off, ss)
				}
				mu.Lock()
				for written != i && failed == nil {
					turn.Wait()
				}
				if failed != nil {
					mu.Unlock()
					return
				}
				mu.Unlock()
				if err == nil {
					if n, werr := dst.WriteAt(b, dstOff+off); werr != nil || n != len(b) {
						if werr == nil {
							werr = io.ErrShortWrite
						}
						err = &IOError{Op: "write", Offset: off + int64(n), Err: werr}
					}
				}
				mu.Lock()
				if err != nil {
					if ioe, ok := err.(*IOError); ok {
						ioe.Written = off
					}
					failed = err
				} else {
					written++
					if t.Progress != nil {
						t.Progress(len(b))
					}
				}
				turn.Broadcast()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return min(written*chunk, length), failed
}

// Crypt transforms src, whole sectors of the volume starting at its byte
// pos (a sector boundary, which determines the IVs), into dst: the chunks
// run on the Workers goroutines, with no copy. dst may be src itself (the
// same memory, transformed in place); other overlaps are refused with an
// error before anything is written, since the chunks run in any order.
// After a failure, dst holds the transformed chunks before the failed one
// and nothing meaningful after them.
func (t *Transformer) Crypt(dst, src []byte, pos int64) error {
	length := int64(len(src))
	ss, chunk, workers, err := t.setup(pos, length)
	if err != nil {
		return err
	}
	if len(dst) < len(src) {
		return errors.New("disk: output smaller than input")
	}
	if alias.InexactOverlap(dst[:len(src)], src) {
		return errOverlap
	}
	nchunks := (length + chunk - 1) / chunk
	workers = int(min(int64(workers), nchunks))
	var (
		next   atomic.Int64
		mu     sync.Mutex
		failed error
		failAt = nchunks
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= nchunks {
					return
				}
				off := i * chunk
				end := min(off+chunk, length)
				err := t.crypt(dst[off:end], src[off:end], pos+off, ss)
				mu.Lock()
				if err == nil && t.Progress != nil {
					t.Progress(int(end - off))
				}
				if err != nil && i < failAt {
					failed, failAt = err, i
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

// crypt runs the cipher over one chunk, at byte pos of the volume. It runs
// on a worker goroutine, where a panic could not be recovered by the
// caller of the Transformer: it returns the panic as an error instead.
func (t *Transformer) crypt(dst, src []byte, pos, ss int64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("disk: the sector cipher panicked at byte %d: %w", pos, e)
			} else {
				err = fmt.Errorf("disk: the sector cipher panicked at byte %d: %v", pos, r)
			}
		}
	}()
	return t.Cipher.CryptSectors(dst, src, t.Layout.IV(pos), t.Layout.IVStep(), int(ss), t.Decrypt)
}

var errOverlap = errors.New("disk: output and input overlap without being the same memory")

// setup checks a run's arguments and returns the sector size, the chunk
// size (whole sectors, at most length when it is known) and the number of
// workers.
func (t *Transformer) setup(pos, length int64) (ss, chunk int64, workers int, err error) {
	if t.Cipher == nil {
		return 0, 0, 0, errors.New("disk: Transformer without a Cipher")
	}
	if err := t.Layout.Validate(); err != nil {
		return 0, 0, 0, err
	}
	ss = int64(t.Layout.SectorSize)
	if pos < 0 || pos%ss != 0 {
		return 0, 0, 0, fmt.Errorf("disk: position %d is not a %d-byte sector boundary", pos, ss)
	}
	if length >= 0 && length%ss != 0 {
		return 0, 0, 0, fmt.Errorf("disk: length %d is not a whole number of %d-byte sectors", length, ss)
	}
	chunk = int64(t.ChunkSize)
	if chunk <= 0 {
		chunk = DefaultChunkSize
	}
	chunk = max(chunk/ss*ss, ss)
	workers = t.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if length >= 0 {
		chunk = max(min(chunk, length), ss)
		workers = int(min(int64(workers), max((length+chunk-1)/chunk, 1)))
	}
	return ss, chunk, workers, nil
}

type job struct {
	buf  []byte
	n    int
	pos  int64
	err  error
	done chan struct{}
}

// Stream transforms the volume's bytes from byte pos on (a sector
// boundary, which determines the IVs) as they come from r, and writes them
// to w in order. With length >= 0 it transforms exactly length bytes (whole
// sectors) and an input that ends sooner is an error (io.ErrUnexpectedEOF);
// with length < 0 it runs to the end of r, which must fall on a sector
// boundary (ErrPartialSector). It returns the number of bytes written;
// read and write failures are *IOError.
func (t *Transformer) Stream(w io.Writer, r io.Reader, pos, length int64) (int64, error) {
	ss, chunk, workers, err := t.setup(pos, length)
	if err != nil {
		return 0, err
	}
	nbuf := 2*workers + 2

	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- nil // allocated on first use: short runs stay small
	}
	work := make(chan *job, nbuf)
	order := make(chan *job, nbuf)
	stop := make(chan struct{})

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				b := j.buf[:j.n]
				j.err = t.crypt(b, b, j.pos, ss)
				close(j.done)
			}
		}()
	}

	var written int64
	var werr error
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		for j := range order {
			<-j.done
			if werr == nil {
				if j.err != nil {
					werr = j.err
				} else if n, err := w.Write(j.buf[:j.n]); err != nil || n != j.n {
					if err == nil {
						err = io.ErrShortWrite
					}
					werr = &IOError{Op: "write", Offset: written + int64(n), Written: written, Err: err}
				} else {
					written += int64(n)
					if t.Progress != nil {
						t.Progress(n)
					}
				}
				if werr != nil {
					close(stop)
				}
			}
			free <- j.buf
		}
	}()

	var rerr error
	var read int64
	for length < 0 || read < length {
		var buf []byte
		ok := false
		select {
		case <-stop:
		default:
			select {
			case buf = <-free:
				ok = true
			case <-stop:
			}
		}
		if !ok {
			break // the writer failed
		}
		if buf == nil {
			buf = make([]byte, chunk)
		}
		want := chunk
		if length >= 0 {
			want = min(chunk, length-read)
		}
		n, err := io.ReadFull(r, buf[:want])
		end := false
		switch {
		case err == nil:
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			end = true
			if length >= 0 {
				rerr = &IOError{Op: "read", Offset: read + int64(n), Err: fmt.Errorf("%w: the input ends %d bytes into a range of %d",
					io.ErrUnexpectedEOF, read+int64(n), length)}
				n = 0
			} else if int64(n)%ss != 0 {
				rerr = &IOError{Op: "read", Offset: read + int64(n), Err: fmt.Errorf("%w: %d bytes after the last whole %d-byte sector",
					ErrPartialSector, int64(n)%ss, ss)}
				n = 0
			}
		default:
			rerr = &IOError{Op: "read", Offset: read + int64(n), Err: err}
			end = true
			n = 0
		}
		if n == 0 {
			free <- buf
		} else {
			j := &job{buf: buf, n: n, pos: pos + read, done: make(chan struct{})}
			read += int64(n)
			work <- j
			order <- j
		}
		if end {
			break
		}
	}
	close(work)
	close(order)
	<-wdone
	wg.Wait()
	if werr != nil {
		return written, werr
	}
	if rerr != nil {
		if ioe, ok := rerr.(*IOError); ok {
			ioe.Written = written
		}
		return written, rerr
	}
	return written, nil
}
