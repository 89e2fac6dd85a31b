package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/aeskl/stream"
	"github.com/go-keylocker/keylocker/internal/cliutil"
	"github.com/go-keylocker/keylocker/internal/fallback"
	"github.com/go-keylocker/keylocker/internal/kdf"
)

// The file format of aeskl encrypt (README.md, "Encrypting files"): a
// header of ours, then a Tink AES-GCM-HKDF streaming AEAD stream whose
// associated data is the header.
//
//	off len
//	  0   6  magic "aeskl" 0x00
//	  6   1  version, 1
//	  7   1  key source: 0 = key file (the main key), 1 = argon2id passphrase
//	  8   1  AES key size of the stream (Tink's derived key size), 16 or 32
//	  9   4  ciphertext segment size of the stream, big-endian
//	key source 1 only:
//	 13   4  argon2id time (passes), big-endian
//	 17   4  argon2id memory in KiB, big-endian
//	 21   1  argon2id threads (lanes)
//	 22   1  salt length, 16
//	 23  16  salt
const (
	fileMagic       = "aeskl\x00"
	fileVersion     = 1
	kdfKeyFile      = 0
	kdfArgon2id     = 1
	fileFixedLen    = 13
	argon2SaltLen   = 16
	argon2HeaderLen = 10 + argon2SaltLen
	fileSegmentSize = 1 << 20
	// Bounds on what a header may ask for: they bound the memory and time
	// a decryption spends before anything is authenticated.
	maxSegmentSize   = 64 << 20
	maxArgon2Time    = 100
	maxArgon2MemKiB  = 4 << 20 // 4 GiB
	maxArgon2Threads = 255
)

// argon2Params are argon2id's cost parameters; memory is in KiB.
type argon2Params struct {
	time, memory uint32
	threads      uint8
}

// The default is RFC 9106's second recommended option: 3 passes over
// 64 MiB with 4 lanes.
var defaultArgon2 = argon2Params{time: 3, memory: 64 << 10, threads: 4}

func (a argon2Params) String() string {
	return fmt.Sprintf("%d,%d,%d", a.time, a.memory>>10, a.threads)
}

func (a argon2Params) check() error {
	switch {
	case a.time < 1 || a.time > maxArgon2Time:
		return fmt.Errorf("argon2id time %d: want 1 to %d", a.time, maxArgon2Time)
	case a.threads < 1:
		return errors.New("argon2id threads 0: want 1 to 255")
	case a.memory < 8*uint32(a.threads) || a.memory > maxArgon2MemKiB:
		return fmt.Errorf("argon2id memory %d KiB: want %d KiB to 4 GiB", a.memory, 8*uint32(a.threads))
	}
	return nil
}

// parseArgon2 reads "TIME,MEMORY_MIB,THREADS".
func parseArgon2(s string) (argon2Params, error) {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return argon2Params{}, fmt.Errorf("--argon2 %q: want TIME,MEMORY_MIB,THREADS", s)
	}
	var v [3]uint64
	for i, x := range f {
		n, err := strconv.ParseUint(strings.TrimSpace(x), 10, 32)
		if err != nil {
			return argon2Params{}, fmt.Errorf("--argon2 %q: %q is not a number", s, x)
		}
		v[i] = n
	}
	if v[2] > maxArgon2Threads || v[1] > maxArgon2MemKiB>>10 {
		return argon2Params{}, fmt.Errorf("--argon2 %q: at most 4096 MiB and 255 threads", s)
	}
	a := argon2Params{time: uint32(v[0]), memory: uint32(v[1]) << 10, threads: uint8(v[2])}
	if err := a.check(); err != nil {
		return argon2Params{}, fmt.Errorf("--argon2 %q: %v", s, err)
	}
	return a, nil
}

// fileHeader is the parsed header.
type fileHeader struct {
	kdf         byte
	keySize     int
	segmentSize int
	argon2      argon2Params
	salt        []byte
	raw         []byte // the header's bytes: the stream's associated data
}

func (h *fileHeader) marshal() []byte {
	b := make([]byte, fileFixedLen, fileFixedLen+argon2HeaderLen)
	copy(b, fileMagic)
	b[6], b[7], b[8] = fileVersion, h.kdf, byte(h.keySize)
	binary.BigEndian.PutUint32(b[9:], uint32(h.segmentSize))
	if h.kdf == kdfArgon2id {
		b = binary.BigEndian.AppendUint32(b, h.argon2.time)
		b = binary.BigEndian.AppendUint32(b, h.argon2.memory)
		b = append(b, h.argon2.threads, byte(len(h.salt)))
		b = append(b, h.salt...)
	}
	h.raw = b
	return b
}

// readHeader reads and checks the header of an encrypted file.
func readHeader(r io.Reader) (*fileHeader, error) {
	b := make([]byte, fileFixedLen, fileFixedLen+argon2HeaderLen)
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errors.New("not an aeskl encrypted file (too short for a header)")
		}
		return nil, err
	}
	if string(b[:6]) != fileMagic {
		return nil, errors.New("not an aeskl encrypted file (no aeskl header)")
	}
	if b[6] != fileVersion {
		return nil, fmt.Errorf("file format version %d: this aeskl reads version %d", b[6], fileVersion)
	}
	h := &fileHeader{kdf: b[7], keySize: int(b[8]), segmentSize: int(binary.BigEndian.Uint32(b[9:]))}
	p := stream.Params{KeySize: h.keySize, SegmentSize: h.segmentSize}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("invalid header: %v", err)
	}
	if h.segmentSize > maxSegmentSize {
		return nil, fmt.Errorf("invalid header: segment size %d, this aeskl reads up to %d", h.segmentSize, maxSegmentSize)
	}
	switch h.kdf {
	case kdfKeyFile:
	case kdfArgon2id:
		b = b[:fileFixedLen+argon2HeaderLen]
		if _, err := io.ReadFull(r, b[fileFixedLen:]); err != nil {
			return nil, errors.New("not an aeskl encrypted file (too short for a header)")
		}
		a := b[fileFixedLen:]
		h.argon2 = argon2Params{time: binary.BigEndian.Uint32(a), memory: binary.BigEndian.Uint32(a[4:]), threads: a[8]}
		if err := h.argon2.check(); err != nil {
			return nil, fmt.Errorf("invalid header: %v", err)
		}
		if a[9] != argon2SaltLen {
			return nil, fmt.Errorf("invalid header: salt length %d, want %d", a[9], argon2SaltLen)
		}
		h.salt = a[10:]
	default:
		return nil, fmt.Errorf("invalid header: unknown key source %d", h.kdf)
	}
	h.raw = b
	return h, nil
}

func init() {
	register(command{name: "encrypt", usage: "[--key-file F | --passphrase-file F] [--argon2 T,M,P] [--force] [--quiet] IN OUT",
		summary: "encrypt IN to OUT (- for stdin/stdout) with a key file or a passphrase:\n" +
			"Tink's AES-GCM-HKDF streaming format behind a small header (README.md).",
		run: func(args []string) int { return runFile("encrypt", args) }})
	register(command{name: "decrypt", usage: "[--key-file F | --passphrase-file F] [--force] [--quiet] IN OUT",
		summary: "decrypt what encrypt wrote; OUT appears only if all of IN authenticated\n" +
			"(to stdout, only authenticated data is written, but it may stop short).",
		run: func(args []string) int { return runFile("decrypt", args) }})
}

// fileAbout is the help of encrypt and decrypt after their summary.
const fileAbout = `IN and OUT may be - for standard input or output. The key is the raw 16- or
32-byte key in --key-file (AES-128 or AES-256), or comes from a passphrase
through argon2id: read from --passphrase-file (its contents without one
trailing \n or \r\n), or asked for on the terminal when neither flag is
given. OUT is written to a temporary file renamed into place at the end (an
interrupt removes it), and an existing OUT is kept unless --force.

encrypt exits with status 1 and leaves no OUT when IN cannot be read to its
end; when OUT is -, the stream written so far lacks its last segment, so that
decrypt refuses it.

decrypt checks every segment (1 MiB) before writing it: on any failure
(wrong key or passphrase, a modified or truncated file) it exits with
status 1 and OUT is not created. When OUT is -, the segments that
authenticated before the failure have been written, and nothing after.`

// runFile runs encrypt or decrypt and returns the exit status.
func runFile(op string, args []string) int {
	fs := newFlags(op, fileAbout)
	keyFile := fs.String("key-file", "", "read the raw 16- or 32-byte key from `FILE`")
	passFile := fs.String("passphrase-file", "", "read the passphrase from `FILE`")
	force := fs.Bool("force", false, "overwrite OUT if it exists")
	quiet := fs.Bool("quiet", false, "print no progress or summary")
	var argon2Flag *string
	if op == "encrypt" {
		argon2Flag = fs.String("argon2", defaultArgon2.String(), "argon2id cost of a passphrase: `T,M,P` = passes, memory in MiB, threads")
	}
	// Flags may come before, between or after IN and OUT.
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); errors.Is(err, flag.ErrHelp) {
			fs.Usage(os.Stdout)
			return 0
		} else if err != nil {
			return fs.UsageError(os.Stderr, "%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	switch {
	case len(pos) < 2:
		return fs.UsageError(os.Stderr, "want IN and OUT, got %d argument(s)", len(pos))
	case len(pos) > 2:
		return fs.UsageError(os.Stderr, "unexpected argument %q (want IN and OUT only)", pos[2])
	case *keyFile != "" && *passFile != "":
		return fs.UsageError(os.Stderr, "--key-file and --passphrase-file exclude each other")
	}
	cost := defaultArgon2
	if argon2Flag != nil {
		var err error
		if cost, err = parseArgon2(*argon2Flag); err != nil {
			return fs.UsageError(os.Stderr, "%v", err)
		}
	}
	name := fs.Name()
	f := &fileOp{name: name, in: pos[0], out: pos[1], keyFile: *keyFile, passFile: *passFile,
		force: *force, quiet: *quiet, argon2: cost}
	var err error
	if op == "encrypt" {
		err = f.encrypt()
	} else {
		err = f.decrypt()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		if errors.Is(err, cliutil.ErrInterrupted) {
			return 130 // Ctrl-C at the prompt, as SIGINT elsewhere
		}
		return 1
	}
	return 0
}

type fileOp struct {
	name, in, out     string
	keyFile, passFile string
	force, quiet      bool
	argon2            argon2Params
}

// openInput opens IN ("-": standard input) and returns its size (-1 if
// unknown).
func (f *fileOp) openInput() (*os.File, int64, error) {
	if f.in == "-" {
		return os.Stdin, -1, nil
	}
	in, err := os.Open(f.in)
	if err != nil {
		return nil, 0, err
	}
	size := int64(-1)
	if fi, err := in.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return in, size, nil
}

// readKeyFile reads a raw 16- or 32-byte key straight into locked
// scratch memory (no copy in Go memory). The caller closes it, which wipes
// it.
func readKeyFile(path string) (*cliutil.Secret, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() > 32 {
		return nil, fmt.Errorf("key file %s: longer than 32 bytes; want a raw 16- or 32-byte key", path)
	}
	k, err := cliutil.ReadPassphraseFile("key file", path, 0, 0, 32)
	if err != nil {
		return nil, err
	}
	if n := len(k.Bytes()); n != 16 && n != 32 {
		k.Close()
		return nil, fmt.Errorf("key file %s: %d bytes; want a raw 16- or 32-byte key", path, n)
	}
	return k, nil
}

// maxFilePassphrase is the longest passphrase encrypt and decrypt read
// from a file or the terminal.
const maxFilePassphrase = 64 << 10

// readPassphraseFile reads a passphrase straight into locked scratch
// memory: the file without one trailing "\n" or "\r\n". It returns the
// Secret, which the caller closes (that wipes it), and the passphrase in
// it.
func readPassphraseFile(path string) (*cliutil.Secret, []byte, error) {
	s, err := cliutil.ReadPassphraseFile("passphrase file", path, 0, 0, maxFilePassphrase)
	if errors.Is(err, cliutil.ErrTooLarge) {
		return nil, nil, fmt.Errorf("passphrase file %s: longer than 64 KiB", path)
	} else if err != nil {
		return nil, nil, err
	}
	pw := s.Bytes()
	if bytes.HasSuffix(pw, []byte("\r\n")) {
		pw = pw[:len(pw)-2]
	} else {
		pw = bytes.TrimSuffix(pw, []byte("\n"))
	}
	if len(pw) == 0 {
		s.Close()
		return nil, nil, fmt.Errorf("passphrase file %s: empty passphrase", path)
	}
	return s, pw, nil
}

// passphrase returns the passphrase from --passphrase-file or the
// terminal (asked twice with confirm), in locked scratch memory: the
// Secret, which the caller closes, and the passphrase in it.
func (f *fileOp) passphrase(confirm bool) (*cliutil.Secret, []byte, error) {
	if f.passFile != "" {
		return readPassphraseFile(f.passFile)
	}
	s, err := cliutil.PromptSecret("Passphrase: ", maxFilePassphrase, confirm)
	if err != nil {
		return nil, nil, err
	}
	if len(s.Bytes()) == 0 {
		s.Close()
		return nil, nil, errors.New("empty passphrase")
	}
	return s, s.Bytes(), nil
}

// deriveKey is argon2id into dst, and the protections its working memory
// got (the tests' control child replaces it with x/crypto/argon2, whose
// memory is not wiped).
var deriveKey = func(dst, pw, salt []byte, a argon2Params) (fallback.MemoryStatus, error) {
	return kdf.Argon2Status(dst, kdf.Impl(aeskl.Detect().Argon2), kdf.Argon2id, pw, salt, nil, nil, a.time, a.memory, a.threads)
}

// unlockedNote is what the command says, once, when Argon2's working
// memory could not be locked against swap ("" when it was).
func unlockedNote(name string, a argon2Params, st fallback.MemoryStatus) string {
	if n := kdf.UnlockedNote("argon2id", a.memory, st); n != "" {
		return name + ": note: " + n + "\n"
	}
	return ""
}

// passphraseKey reads the passphrase and derives the main key of the
// header's size from it with the header's parameters, all in locked
// scratch memory (internal/kdf's for Argon2's working memory): the
// passphrase is wiped before it returns, the key when the caller closes
// it.
func (f *fileOp) passphraseKey(h *fileHeader, confirm bool) (*fallback.Scratch, error) {
	s, pw, err := f.passphrase(confirm)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	mk, err := fallback.NewScratch(h.keySize)
	if err != nil {
		return nil, err
	}
	st, err := deriveKey(mk.Bytes(), pw, h.salt, h.argon2)
	if err != nil {
		mk.Close()
		return nil, err
	}
	fmt.Fprint(os.Stderr, unlockedNote(f.name, h.argon2, st))
	return mk, nil
}

// openOutput starts OUT with plain's openOutput, whose outputs an
// interrupt (SIGINT, SIGTERM, SIGHUP) removes before the command exits
// with status 130: a file goes to a temporary file renamed into place by commit,
// standard output ("-") is written as it comes. Unlike plain's OUT, an
// existing OUT must be a regular file: a device or pipe would be written
// in place, and OUT must hold nothing until it holds the whole result.
func (f *fileOp) openOutput() (*output, io.Writer, error) {
	if f.out != "-" {
		if fi, err := os.Stat(f.out); err == nil && !fi.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("%s: not a regular file", f.out)
		}
	}
	o, err := openOutput(f.out, f.force, false, 0, 0o600)
	if err != nil {
		return nil, nil, err
	}
	if o.w != nil {
		return o, o.w, nil
	}
	return o, io.NewOffsetWriter(o.wa, o.at), nil
}

// notWritten, deferred by encrypt and decrypt once OUT is open, says in a
// failure's error that OUT (a file: its temporary file is removed) was
// not written; the message is the same whether a signal's handler or the
// command's own return ends the process first.
func notWritten(out string, err *error) {
	if *err != nil && out != "-" {
		*err = fmt.Errorf("%w (%s was not written)", *err, out)
	}
}

// encrypt and decrypt open IN and OUT before they ask for a passphrase:
// a missing input or an existing output fails at once.
func (f *fileOp) encrypt() (err error) {
	if f.out == "-" && cliutil.IsTerminal(os.Stdout) && !f.force {
		return errors.New("not writing ciphertext to a terminal (redirect it, or --force)")
	}
	in, size, err := f.openInput()
	if err != nil {
		return err
	}
	defer in.Close()
	o, out, err := f.openOutput()
	if err != nil {
		return err
	}
	defer o.abort()
	defer notWritten(f.out, &err)
	h := &fileHeader{keySize: 32, segmentSize: fileSegmentSize}
	var mk []byte
	if f.keyFile != "" {
		k, err := readKeyFile(f.keyFile)
		if err != nil {
			return err
		}
		defer k.Close()
		h.kdf, h.keySize, mk = kdfKeyFile, len(k.Bytes()), k.Bytes()
	} else {
		h.kdf, h.argon2 = kdfArgon2id, f.argon2
		h.salt = make([]byte, argon2SaltLen)
		rand.Read(h.salt)
		k, err := f.passphraseKey(h, true)
		if err != nil {
			return err
		}
		defer k.Close()
		mk = k.Bytes()
	}
	key, err := stream.NewKey(mk, stream.Params{KeySize: h.keySize, SegmentSize: h.segmentSize})
	clear(mk)
	if err != nil {
		return err
	}
	defer key.Close()
	hdr := h.marshal()
	if _, err := out.Write(hdr); err != nil {
		return err
	}
	w, err := key.NewWriter(out, hdr)
	if err != nil {
		return err
	}
	// Only a Close seals the last segment: on any error the stream is
	// aborted, so that the part written (to standard output, where it
	// cannot be taken back) never reads as a whole file.
	defer w.Abort()
	prog := cliutil.NewProgress(os.Stderr, size, "encrypting", f.quiet)
	if err := copyBuf(prog.Writer(w), in); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := o.commit(); err != nil {
		return err
	}
	prog.Done()
	return nil
}

func (f *fileOp) decrypt() (err error) {
	in, size, err := f.openInput()
	if err != nil {
		return err
	}
	defer in.Close()
	h, err := readHeader(in)
	if err != nil {
		return fmt.Errorf("%s: %v", f.in, err)
	}
	switch {
	case h.kdf == kdfKeyFile && f.keyFile == "":
		return fmt.Errorf("%s was encrypted with a key file: give it with --key-file", f.in)
	case h.kdf == kdfArgon2id && f.keyFile != "":
		return fmt.Errorf("%s was encrypted with a passphrase, not a key file", f.in)
	}
	o, out, err := f.openOutput()
	if err != nil {
		return err
	}
	defer o.abort()
	defer notWritten(f.out, &err)
	var mk []byte
	if h.kdf == kdfKeyFile {
		k, err := readKeyFile(f.keyFile)
		if err != nil {
			return err
		}
		defer k.Close()
		mk = k.Bytes()
		if len(mk) != h.keySize {
			clear(mk)
			return fmt.Errorf("%s was encrypted with a %d-byte key; %s holds %d bytes", f.in, h.keySize, f.keyFile, len(mk))
		}
	} else {
		k, err := f.passphraseKey(h, false)
		if err != nil {
			return err
		}
		defer k.Close()
		mk = k.Bytes()
	}
	p := stream.Params{KeySize: h.keySize, SegmentSize: h.segmentSize}
	key, err := stream.NewKey(mk, p)
	clear(mk)
	if err != nil {
		return err
	}
	defer key.Close()
	r, err := key.NewReader(in, h.raw)
	if err != nil {
		return fmt.Errorf("%s: %w", f.in, err)
	}
	defer r.Close()
	total := int64(-1)
	if size >= 0 {
		if n, err := p.PlaintextSize(size - int64(len(h.raw))); err == nil {
			total = n
		}
	}
	prog := cliutil.NewProgress(os.Stderr, total, "decrypting", f.quiet)
	if err := copyBuf(prog.Writer(out), r); err != nil {
		if errors.Is(err, stream.ErrAuthentication) || errors.Is(err, stream.ErrTruncated) {
			what := "OUT not written"
			if f.out == "-" {
				what = "the output stops after the last authenticated segment"
			}
			return fmt.Errorf("%s: %v: wrong key or passphrase, or the file was modified or truncated; %s", f.in, err, what)
		}
		return err
	}
	if err := o.commit(); err != nil {
		return err
	}
	prog.Done()
	return nil
}

// copyBuf copies src to dst through a buffer of four 1 MiB segments, so
// that the stream's Reader and Writer work on whole segments.
func copyBuf(dst io.Writer, src io.Reader) error {
	buf := make([]byte, 4<<20)
	defer clear(buf)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
