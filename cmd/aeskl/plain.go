package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-keylocker/keylocker/aeskl/disk"
	"github.com/go-keylocker/keylocker/internal/cliutil"
)

func init() {
	register(command{name: "plain", usage: "encrypt|decrypt [flags] IN OUT", run: runPlain,
		summary: "encrypt or decrypt a dm-crypt plain-mode image or device with the\n" +
			"parameters of cryptsetup open --type plain (aes-xts-plain64...)."})
}

const plainUsage = `usage: aeskl plain encrypt|decrypt [flags] IN OUT

Reads and writes dm-crypt plain mode as cryptsetup open --type plain maps
it, with the key file's bytes as the key (as cryptsetup uses a key file in
plain mode: no hashing). The key file is read straight into locked memory
that is kept out of core dumps; the key exists there only until aeskl has
turned it into handles, then that memory is wiped.

  decrypt IN OUT   IN is the encrypted device or image; OUT gets the mapped
                   volume's plaintext (what /dev/mapper/NAME would show),
                   from its first byte.
  encrypt IN OUT   IN is the plaintext volume; OUT gets the encrypted data
                   at --offset (a file OUT has zeros before it; a block
                   device keeps what it holds there).

When OUT is IN (the same file or device, under any of its names), the data
is transformed where it lies, with --force: the volume at --offset becomes
plaintext (or ciphertext), the rest of IN is kept, and a file stays the
same file (its mode, owner and other hard links). An interrupted or failed
run leaves IN partly transformed: the message says how many bytes of the
volume, from its start, were transformed; the rest were not. Keep a copy
of what you cannot lose.

Any other file OUT is written to a temporary file renamed over OUT at the
end, so it appears whole or not at all: encrypt gives it IN's permission
bits (0600 when IN is a block device), decrypt 0600, less the umask; a replaced OUT's other hard
links keep its old content. A block device OUT is written in place. An
existing OUT is overwritten only with --force.

Flags (sizes and positions in 512-byte sectors, as cryptsetup's):
`

// plainFlags are the cryptsetup open --type plain parameters.
type plainFlags struct {
	cipher        string
	keyBits       int
	keyFile       string
	keyfileOffset int64
	sectorSize    int
	geo           disk.Plain
	force, quiet  bool
}

func runPlain(args []string) int {
	fs := flag.NewFlagSet("aeskl plain", flag.ContinueOnError)
	var f plainFlags
	fs.StringVar(&f.cipher, "cipher", "aes-xts-plain64", "cipher `spec`: aes-xts-plain64, aes-cbc-essiv:sha256 or aes-cbc-plain64")
	fs.IntVar(&f.keyBits, "key-size", 256, "key size in `bits` (aes-xts-plain64: 256 or 512; aes-cbc: 128, 192 or 256)")
	fs.StringVar(&f.keyFile, "key-file", "", "read the key from `file` (required): its first key-size/8 bytes")
	fs.Int64Var(&f.keyfileOffset, "keyfile-offset", 0, "skip `bytes` at the start of the key file")
	fs.IntVar(&f.sectorSize, "sector-size", 512, "encryption sector size in `bytes`: 512, 1024, 2048 or 4096")
	fs.Uint64Var(&f.geo.Offset, "offset", 0, "the volume starts `n` sectors into the device")
	fs.Uint64Var(&f.geo.Skip, "skip", 0, "add `n` to the sector numbers of the IVs (a multiple of sector-size/512)")
	fs.Uint64Var(&f.geo.Size, "size", 0, "the volume is `n` sectors long (0: to the end of the device, or of IN for encrypt)")
	fs.BoolVar(&f.geo.IVLargeSectors, "iv-large-sectors", false, "count IVs in sector-size units, not 512-byte sectors")
	fs.BoolVar(&f.force, "force", false, "overwrite OUT if it exists (IN itself, for in-place)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress and no summary")
	pos, code := parseArgs(fs, args, plainUsage)
	if code >= 0 {
		return code
	}
	if len(pos) != 3 || (pos[0] != "encrypt" && pos[0] != "decrypt") {
		return usageError(fs, plainUsage, "want encrypt or decrypt, IN and OUT, got %q", pos)
	}
	dec := pos[0] == "decrypt"
	prefix := "aeskl plain " + pos[0]
	if f.keyBits <= 0 || f.keyBits%8 != 0 {
		return usageError(fs, plainUsage, "--key-size %d is not a whole number of bytes", f.keyBits)
	}
	if err := disk.CheckSpec(f.cipher, f.keyBits/8); err != nil {
		return usageError(fs, plainUsage, "--cipher %s --key-size %d: %v", f.cipher, f.keyBits, strings.TrimPrefix(err.Error(), "disk: "))
	}
	f.geo.SectorSize = f.sectorSize
	if err := f.geo.Layout().Validate(); errors.Is(err, disk.ErrIVOffset) {
		return usageError(fs, plainUsage, "--skip %d is not a multiple of %d (--sector-size %d in 512-byte sectors): dm-crypt refuses such a mapping",
			f.geo.Skip, f.sectorSize>>disk.SectorShift, f.sectorSize)
	} else if err != nil {
		return usageError(fs, plainUsage, "--sector-size %d: not 512, 1024, 2048 or 4096", f.sectorSize)
	}
	if f.keyFile == "" {
		return usageError(fs, plainUsage, "--key-file is required (plain mode takes a raw key; passphrase hashing is not supported)")
	}
	if f.keyfileOffset < 0 {
		return usageError(fs, plainUsage, "--keyfile-offset %d is negative", f.keyfileOffset)
	}
	// Byte offsets and lengths are int64: the sector counts must fit.
	const maxSectors = math.MaxInt64 >> disk.SectorShift
	if f.geo.Offset > maxSectors {
		return usageError(fs, plainUsage, "--offset %d is out of range (at most %d sectors)", f.geo.Offset, uint64(maxSectors))
	}
	if f.geo.Size > maxSectors {
		return usageError(fs, plainUsage, "--size %d is out of range (at most %d sectors)", f.geo.Size, uint64(maxSectors))
	}
	if err := plainRun(f, dec, pos[1], pos[2]); err != nil {
		var ue usageErr
		if errors.As(err, &ue) {
			return usageError(fs, plainUsage, "%s", ue)
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", prefix, err)
		return 1
	}
	return 0
}

// A usageErr is an error of the arguments found once the input is known:
// it is reported with the usage line and exit status 2.
type usageErr string

func (e usageErr) Error() string { return string(e) }

// parseArgs parses flags that may come before, between or after the
// positional arguments (a "--" ends the flags). It returns the positional
// arguments and -1, or an exit status: 0 after printing the help to
// standard output, 2 for a bad flag (the flag package has said which).
func parseArgs(fs *flag.FlagSet, args []string, help string) ([]string, int) {
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), help)
		fs.PrintDefaults()
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(os.Stdout)
			fs.Usage()
			return nil, 0
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, 0
			}
			return nil, 2
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, -1
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), -1
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a bad argument with the usage line and returns 2.
func usageError(fs *flag.FlagSet, help, format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "%s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fmt.Fprintf(os.Stderr, "%s(aeskl %s -h for the flags)\n", help[:strings.Index(help, "\n")+1], strings.TrimPrefix(fs.Name(), "aeskl "))
	return 2
}

// input is an opened IN or IMAGE.
type input struct {
	*os.File
	path string
	fi   os.FileInfo
	off  int64 // where the data starts (standard input may be past its start)
	size int64 // bytes from off; -1 if unknown (a pipe)
}

func openInput(path string, flag int) (*input, error) {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	in := &input{File: f, path: path}
	if in.fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, err
	}
	switch m := in.fi.Mode(); {
	case m.IsRegular():
		in.size = in.fi.Size()
	case m&os.ModeDevice != 0 && m&os.ModeCharDevice == 0:
		// A block device: its size is where a seek to the end lands.
		if in.size, err = f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: size of the block device: %w", path, err)
		}
	case m.IsDir():
		f.Close()
		return nil, fmt.Errorf("%s is a directory", path)
	default:
		in.size = -1
	}
	return in, nil
}

// output is where a transformed range goes: at byte at of wa when the
// destination can seek, else to w as it comes.
type output struct {
	wa      io.WriterAt
	at      int64
	w       io.Writer
	commit  func() error
	abort   func()
	direct  bool // written where it lies (a device, or IN in place): an error leaves a partial write
	inPlace bool // OUT is the input, transformed where it lies
	path    string

	// A direct output's writes go through count (transform sets that up):
	// wmu is held during each write, written counts the bytes written.
	// CryptAt and Stream both write one chunk at a time, in order, so the
	// first written bytes of the range are all that was written so far.
	wmu     sync.Mutex
	written atomic.Int64
}

// count makes out's writes counted, one at a time.
func (o *output) count() {
	if o.wa != nil {
		o.wa = countedWriterAt{o, o.wa}
	}
	if o.w != nil {
		o.w = countedWriter{o, o.w}
	}
}

type countedWriterAt struct {
	o  *output
	wa io.WriterAt
}

func (c countedWriterAt) WriteAt(p []byte, off int64) (int, error) {
	c.o.wmu.Lock()
	defer c.o.wmu.Unlock()
	n, err := c.wa.WriteAt(p, off)
	c.o.written.Add(int64(n))
	return n, err
}

type countedWriter struct {
	o *output
	w io.Writer
}

func (c countedWriter) Write(p []byte) (int, error) {
	c.o.wmu.Lock()
	defer c.o.wmu.Unlock()
	n, err := c.w.Write(p)
	c.o.written.Add(int64(n))
	return n, err
}

// While an output is open, an interrupt (SIGINT, SIGTERM, SIGHUP: those
// of outputSignals not ignored) removes its temporary file, or says how
// much of a device or of a file transformed in place was written, before
// the command exits with status 130: no partial output file is left
// behind.
var (
	sigOnce sync.Once
	sigMu   sync.Mutex             // held by the handler from the signal to the exit
	sigOuts = map[*output]func(){} // the outputs and their unguarded aborts
)

// The signals that end a command with an output open (status 130, the
// output removed or its partial state said), unless ignored (nohup keeps
// ignoring SIGHUP): those a prompt restores the terminal on too
// (cliutil.PromptSecret), so that none of them leaves a temporary file
// behind when it comes at a prompt.
var outputSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// partial says what a direct output holds once its writes have stopped.
func (o *output) partial() string {
	n := o.written.Load()
	if o.inPlace {
		return fmt.Sprintf("%s is left partly transformed: the first %d bytes of the range are, the rest is not", o.path, n)
	}
	return fmt.Sprintf("%s was partly written: the first %d bytes of the range", o.path, n)
}

// guard registers o with the interrupt handler and makes its commit and
// abort unregister it; a commit under way finishes before the handler
// runs.
func (o *output) guard() {
	installInterrupt()
	sigMu.Lock()
	o.register()
	sigMu.Unlock()
}

// installInterrupt installs the interrupt handler (once).
func installInterrupt() {
	sigOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		var watch []os.Signal
		for _, sig := range outputSignals {
			if !signal.Ignored(sig) {
				watch = append(watch, sig)
			}
		}
		if len(watch) == 0 {
			return // all ignored (and Notify with none would relay every signal)
		}
		signal.Notify(ch, watch...)
		go func() {
			sig := <-ch
			sigMu.Lock()
			for o, abort := range sigOuts {
				if o.direct {
					// Let the write under way end, and no other start; but
					// a write blocked for good (a pipe nobody reads) must
					// not keep the command from exiting.
					locked := false
					for deadline := time.Now().Add(2 * time.Second); !locked && time.Now().Before(deadline); {
						if locked = o.wmu.TryLock(); !locked {
							time.Sleep(time.Millisecond)
						}
					}
					msg := o.partial()
					if !locked {
						msg += ", and a write still under way may have written part of what follows"
					}
					fmt.Fprintf(os.Stderr, "aeskl: %v: %s\n", sig, msg)
				} else {
					abort()
					fmt.Fprintf(os.Stderr, "aeskl: %v: %s was not written\n", sig, o.path)
				}
			}
			cliutil.RestoreTerminal() // echo back on, if a prompt was under way
			os.Exit(130)
		}()
	})
}

// register is guard with sigMu held.
func (o *output) register() {
	commit, abort := o.commit, o.abort
	sigOuts[o] = abort
	o.commit = func() error {
		sigMu.Lock()
		defer sigMu.Unlock()
		delete(sigOuts, o)
		return commit()
	}
	o.abort = func() {
		sigMu.Lock()
		defer sigMu.Unlock()
		delete(sigOuts, o)
		abort()
	}
}

// openOutput prepares OUT for a range that starts at its byte rangeAt.
// With inPlace (OUT is the input, and force was given), OUT is written
// where it lies, a file as a device. Otherwise a file (new, or existing
// with force) is written to a temporary file of mode perm (less the umask)
// that commit renames over OUT; a block device, character device or pipe
// is written directly (with force only, since it exists); standard output
// ("-") as it comes.
func openOutput(path string, force, inPlace bool, rangeAt int64, perm fs.FileMode) (*output, error) {
	fi, err := os.Stat(path)
	if path != "-" && err == nil && (inPlace || !fi.Mode().IsRegular()) {
		m := fi.Mode()
		if !m.IsRegular() && m&os.ModeDevice == 0 && m&os.ModeNamedPipe == 0 {
			return nil, fmt.Errorf("%s: not a regular file or a device", path)
		}
		if !force {
			return nil, fmt.Errorf("%s: %w", path, cliutil.ErrExists)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		seekable := m&os.ModeCharDevice == 0 && m&os.ModeNamedPipe == 0
		o := &output{direct: true, inPlace: inPlace, path: path, abort: func() { f.Close() },
			commit: func() error {
				var err error
				if seekable {
					err = f.Sync()
				}
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				return err
			}}
		switch {
		case seekable:
			o.wa, o.at = f, rangeAt
		case rangeAt != 0:
			f.Close()
			return nil, fmt.Errorf("%s cannot seek: the data would have to start at byte %d", path, rangeAt)
		default:
			o.w = f
		}
		o.guard()
		return o, nil
	}
	if path != "-" {
		// A signal from the moment the temporary file exists waits
		// (sigMu) until it is registered, so that the handler removes it.
		installInterrupt()
		sigMu.Lock()
		defer sigMu.Unlock()
	}
	out, err := cliutil.CreateOutputMode(path, force, perm)
	if err != nil {
		return nil, err
	}
	o := &output{commit: out.Commit, abort: out.Abort, path: path}
	if path == "-" {
		if rangeAt != 0 {
			out.Abort()
			return nil, fmt.Errorf("standard output cannot seek: the data would have to start at byte %d", rangeAt)
		}
		o.w = out
		return o, nil
	}
	o.register()
	o.wa, o.at = out.File, rangeAt // a new file has zeros before rangeAt
	return o, nil
}

// outputPerm is the mode of a new file made from in: 0600 for a
// decryption (plaintext is for its owner, whoever may read the
// ciphertext) or when in is not a regular file, else in's permission bits.
func outputPerm(in *input, decrypt bool) fs.FileMode {
	if !decrypt && in.fi.Mode().IsRegular() {
		return in.fi.Mode().Perm()
	}
	return 0o600
}

// source is where a range to transform comes from: byte off of ra, or r
// (read to its end) when ra is nil.
type source struct {
	ra  io.ReaderAt
	off int64
	r   io.Reader
}

func plainRun(f plainFlags, dec bool, inPath, outPath string) error {
	in, err := openInput(inPath, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer in.Close()
	if in.size < 0 {
		return fmt.Errorf("%s is neither a file nor a block device", inPath)
	}
	inPlace := false
	if outPath == "-" {
		if sameAsStd(os.Stdout, in.fi) {
			return fmt.Errorf("standard output is IN itself (%s): give IN as OUT (with --force) to transform it in place", inPath)
		}
	} else if ofi, err := os.Stat(outPath); err == nil {
		inPlace = sameFile(in.fi, ofi)
	}
	if inPlace && !f.force {
		return fmt.Errorf("OUT is IN: transforming %s in place overwrites it; add --force", inPath)
	}

	// Where the range is in IN and in OUT.
	var srcOff, dstOff, length int64
	switch {
	case dec || inPlace:
		start, n, err := f.geo.Extent(in.size)
		if err != nil {
			return fmt.Errorf("%s (%d bytes): %v", inPath, in.size, strings.TrimPrefix(err.Error(), "disk: "))
		}
		srcOff, length = start, n
		if inPlace {
			dstOff = start
		}
	default: // encrypt IN to another OUT
		length = in.size
		if f.geo.Size != 0 {
			length = int64(f.geo.Size) << disk.SectorShift
			if length > in.size {
				return fmt.Errorf("--size %d sectors is %d bytes, but %s holds %d", f.geo.Size, length, inPath, in.size)
			}
		}
		if length%int64(f.sectorSize) != 0 {
			return fmt.Errorf("%s: %d bytes are not a whole number of %d-byte sectors", inPath, length, f.sectorSize)
		}
		dstOff = int64(f.geo.Offset) << disk.SectorShift
		if dstOff > math.MaxInt64-length {
			return usageErr(fmt.Sprintf("--offset %d: the encrypted volume would end beyond byte %d (%d bytes from byte %d)",
				f.geo.Offset, int64(math.MaxInt64), length, dstOff))
		}
	}
	// A block device OUT must have room for the range.
	if ofi, err := os.Stat(outPath); err == nil && !inPlace && ofi.Mode()&os.ModeDevice != 0 && ofi.Mode()&os.ModeCharDevice == 0 {
		o, err := openInput(outPath, os.O_RDONLY)
		if err != nil {
			return err
		}
		o.Close()
		if dstOff+length > o.size {
			return fmt.Errorf("%s holds %d bytes: no room for %d bytes at byte %d", outPath, o.size, length, dstOff)
		}
	}

	// The key file's bytes go straight into locked scratch memory, and
	// from there into handles; the scratch memory is wiped.
	key, err := cliutil.ReadKeyFile(f.keyFile, f.keyfileOffset, f.keyBits/8)
	if err != nil {
		return err
	}
	c, err := disk.NewCipher(f.cipher, key.Bytes())
	key.Close()
	if err != nil {
		return err
	}
	defer c.Close()

	out, err := openOutput(outPath, f.force, inPlace, dstOff, outputPerm(in, dec))
	if err != nil {
		return err
	}
	verb := "encrypting"
	if dec {
		verb = "decrypting"
	}
	return transform(&disk.Transformer{Cipher: c, Layout: f.geo.Layout(), Decrypt: dec},
		out, source{ra: in, off: srcOff}, 0, length, verb+" "+inPath, f.quiet)
}

// transform runs t over the volume's bytes from pos on, length of them
// (-1: to the end of the source), from src to out with progress on
// standard error, on all cores, and commits out, or aborts it and says
// what the output holds.
func transform(t *disk.Transformer, out *output, src source, pos, length int64, desc string, quiet bool) error {
	p := cliutil.NewProgress(os.Stderr, length, desc, quiet)
	t.Progress = p.Add
	if out.direct {
		out.count()
	}
	var err error
	if out.wa != nil && src.ra != nil && length >= 0 {
		_, err = t.CryptAt(out.wa, out.at, src.ra, src.off, pos, length)
	} else {
		r, w := src.r, out.w
		if r == nil {
			r = io.NewSectionReader(src.ra, src.off, length)
		}
		if w == nil {
			w = io.NewOffsetWriter(out.wa, out.at)
		}
		_, err = t.Stream(w, r, pos, length)
	}
	if err == nil {
		err = out.commit()
		if err != nil {
			err = fmt.Errorf("%s: %w", out.path, err)
		}
	} else {
		out.abort()
		var ioe *disk.IOError
		if errors.As(err, &ioe) && ioe.Op == "write" {
			err = fmt.Errorf("writing %s: %w", out.path, err)
		} else if errors.As(err, &ioe) {
			err = fmt.Errorf("reading: %w", err)
		}
		if out.direct {
			err = fmt.Errorf("%w (%s)", err, out.partial())
		} else if out.path != "-" {
			err = fmt.Errorf("%w (%s was not written)", err, out.path)
		}
	}
	if err != nil {
		return err
	}
	p.Done()
	return nil
}
