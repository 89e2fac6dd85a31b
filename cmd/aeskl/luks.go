package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/go-keylocker/keylocker/aeskl/disk"
	"github.com/go-keylocker/keylocker/aeskl/luks"
	"github.com/go-keylocker/keylocker/internal/cliutil"
)

func init() {
	register(command{name: "luks", usage: "dump|decrypt|encrypt [flags] IMAGE [OUT|IN]", run: runLUKS,
		summary: "show a LUKS2 (or LUKS1) header, or decrypt or encrypt the data\n" +
			"segment of a LUKS image or device, unlocked with its passphrase."})
}

const luksUsage = `usage: aeskl luks dump [--json] IMAGE
       aeskl luks decrypt [flags] IMAGE [OUT]
       aeskl luks encrypt [flags] IMAGE [IN]

dump shows the header (both LUKS2 copies, keyslots, segments, digests,
tokens) and whether aeskl can use the volume; --json as one JSON object.

decrypt writes the plaintext of the data segment (or of --start/--size)
to OUT, or to standard output when OUT is absent or -. A file OUT appears
whole or not at all, of mode 0600 (less the umask); an existing one is
replaced only with --force (its other hard links keep the old content). OUT
(and encrypt's IN) cannot be IMAGE itself, under any name, --force or not.

encrypt reads plaintext from IN (standard input when absent or -) and
writes it, encrypted, into IMAGE's data segment in place, from --start on:
as many sectors as IN holds (--size: exactly that many).

The passphrase is asked on the terminal without echo, or read from
--key-file (the whole file, as cryptsetup reads a key file), straight into
locked memory kept out of core dumps and wiped after use. It goes
through the keyslot's KDF, the anti-forensic merge and the digest check
as cryptsetup does; the volume key exists in memory only until aeskl has
turned it into handles. The keyslots are tried as cryptsetup tries them
with a passphrase: those of priority prefer, then normal (one of priority
ignore only when --key-slot names it); a keyslot bound to a token opens
with its passphrase like any other (aeskl runs no token programs). A wrong
passphrase or a header feature aeskl does not support (integrity, a
reencryption in progress, other ciphers) stops before anything is written.

Flags (--start and --size in 512-byte sectors of the data segment):
`

type luksFlags struct {
	keyFile       string
	keyfileOffset int64
	keyfileSize   int
	keySlot       int
	start, size   uint64
	force, quiet  bool
	json          bool
}

func runLUKS(args []string) int {
	fs := flag.NewFlagSet("aeskl luks", flag.ContinueOnError)
	var f luksFlags
	fs.BoolVar(&f.json, "json", false, "dump: print JSON")
	fs.StringVar(&f.keyFile, "key-file", "", "read the passphrase from `file` instead of the terminal")
	fs.Int64Var(&f.keyfileOffset, "keyfile-offset", 0, "skip `bytes` at the start of the key file")
	fs.IntVar(&f.keyfileSize, "keyfile-size", 0, "read `bytes` of the key file, at most 8 MiB (0: all of it, up to 8 MiB)")
	fs.IntVar(&f.keySlot, "key-slot", -1, "try only keyslot `n`, whatever its priority")
	fs.Uint64Var(&f.start, "start", 0, "start `n` sectors into the data segment")
	fs.Uint64Var(&f.size, "size", 0, "`n` sectors (0: to the end of the segment; encrypt: as much as IN holds)")
	fs.BoolVar(&f.force, "force", false, "decrypt: overwrite OUT if it exists")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress and no summary")
	pos, code := parseArgs(fs, args, luksUsage)
	if code >= 0 {
		return code
	}
	if len(pos) == 0 {
		return usageError(fs, luksUsage, "want dump, decrypt or encrypt")
	}
	op, pos := pos[0], pos[1:]
	prefix := "aeskl luks " + op
	var err error
	switch op {
	case "dump":
		if len(pos) != 1 {
			return usageError(fs, luksUsage, "dump wants IMAGE, got %q", pos)
		}
		err = luksDump(pos[0], f.json)
	case "decrypt", "encrypt":
		if len(pos) < 1 || len(pos) > 2 {
			return usageError(fs, luksUsage, "%s wants IMAGE and at most one more argument, got %q", op, pos)
		}
		if f.keyfileOffset < 0 || f.keyfileSize < 0 {
			return usageError(fs, luksUsage, "--keyfile-offset and --keyfile-size cannot be negative")
		}
		if f.keyfileSize > maxKeyFile {
			return usageError(fs, luksUsage, "--keyfile-size %d is more than %d bytes (8 MiB), the most aeskl reads of a key file", f.keyfileSize, maxKeyFile)
		}
		other := "-"
		if len(pos) == 2 {
			other = pos[1]
		}
		err = luksCrypt(f, op == "decrypt", pos[0], other)
	default:
		return usageError(fs, luksUsage, "unknown operation %q (want dump, decrypt or encrypt)", op)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", prefix, err)
		if errors.Is(err, cliutil.ErrInterrupted) {
			return 130 // Ctrl-C at the prompt, as SIGINT elsewhere
		}
		return 1
	}
	return 0
}

func luksDump(path string, asJSON bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := luks.Read(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if asJSON {
		return h.DumpJSON(os.Stdout)
	}
	return h.Dump(os.Stdout)
}

// maxKeyFile is the most cryptsetup reads of a key file by default, and
// the most aeskl reads of one at all.
const maxKeyFile = 8 << 20

// maxPassphrase is the longest passphrase asked for on the terminal (as
// cryptsetup's default).
const maxPassphrase = 512

// passphrase reads the passphrase from the key file (all of it, or
// keyfile-size bytes, after keyfile-offset) or asks for it on the
// terminal, straight into locked scratch memory. The caller closes it,
// which wipes it.
func (f *luksFlags) passphrase(image string) (*cliutil.Secret, error) {
	if f.keyFile == "" {
		return cliutil.PromptSecret("Enter passphrase for "+image+": ", maxPassphrase, false)
	}
	s, err := cliutil.ReadPassphraseFile("key file", f.keyFile, f.keyfileOffset, f.keyfileSize, maxKeyFile)
	if errors.Is(err, cliutil.ErrTooLarge) {
		err = fmt.Errorf("%w (give --keyfile-size)", err)
	}
	return s, err
}

func luksCrypt(f luksFlags, dec bool, imagePath, other string) error {
	mode := os.O_RDONLY
	if !dec {
		mode = os.O_RDWR
	}
	img, err := openInput(imagePath, mode)
	if err != nil {
		return err
	}
	defer img.Close()
	if img.size < 0 {
		return fmt.Errorf("%s is neither a file nor a block device", imagePath)
	}
	// The image must not be its own output or input (--force or not):
	// decrypting it over itself would destroy the volume.
	what := map[bool]string{true: "OUT", false: "IN"}[dec]
	if other == "-" {
		std, name := os.Stdin, "input"
		if dec {
			std, name = os.Stdout, "output"
		}
		if sameAsStd(std, img.fi) {
			return fmt.Errorf("standard %s is IMAGE itself (%s)", name, imagePath)
		}
	} else if ofi, err := os.Stat(other); err == nil && sameFile(img.fi, ofi) {
		return fmt.Errorf("%s %s is IMAGE itself (%s)", what, other, imagePath)
	}
	h, err := luks.Read(img)
	if err != nil {
		return fmt.Errorf("%s: %w", imagePath, err)
	}
	if err := h.Check(); err != nil {
		return fmt.Errorf("%s: %w", imagePath, err)
	}

	// The range, checked against the header before asking for anything.
	seg, _ := h.DataSegment()
	segLen := int64(seg.Size)
	if seg.Dynamic {
		segLen = img.size - int64(seg.Offset)
	}
	if int64(seg.Offset) > img.size || segLen > img.size-int64(seg.Offset) || segLen%int64(seg.SectorSize) != 0 {
		return fmt.Errorf("%s: the data segment (%d bytes at byte %d) does not fit the %d-byte device in whole %d-byte sectors",
			imagePath, segLen, seg.Offset, img.size, seg.SectorSize)
	}
	ss := int64(seg.SectorSize)
	if f.start > uint64(segLen)>>disk.SectorShift || f.size > uint64(segLen)>>disk.SectorShift {
		return fmt.Errorf("--start %d --size %d: the data segment has %d sectors", f.start, f.size, segLen>>disk.SectorShift)
	}
	start := int64(f.start) << disk.SectorShift
	length := segLen - start
	if f.size != 0 {
		length = int64(f.size) << disk.SectorShift
		if start+length > segLen {
			return fmt.Errorf("--start %d --size %d ends beyond the data segment's %d sectors", f.start, f.size, segLen>>disk.SectorShift)
		}
	}
	if start%ss != 0 || length%ss != 0 {
		return fmt.Errorf("--start %d --size %d: not whole %d-byte sectors of the data segment", f.start, f.size, ss)
	}

	// For encrypt, the plaintext's source and how much of it there is.
	var src source
	if !dec {
		in, err := openPlainSource(other)
		if err != nil {
			return err
		}
		defer in.Close()
		src = source{ra: in, off: in.off}
		if in.size < 0 {
			src = source{r: in} // a pipe
		}
		switch {
		case f.size != 0:
			if in.size >= 0 && in.size < length {
				return fmt.Errorf("%s holds %d bytes, --size %d asks for %d", other, in.size, f.size, length)
			}
		case in.size >= 0:
			if in.size > length {
				return fmt.Errorf("%s holds %d bytes: more than the %d bytes from --start to the end of the data segment", other, in.size, length)
			}
			if in.size%ss != 0 {
				return fmt.Errorf("%s holds %d bytes: not a whole number of %d-byte sectors", other, in.size, ss)
			}
			length = in.size
		default:
			length = -1 // to the end of a pipe, at most the segment
			src = source{r: io.LimitReader(in, segLen-start)}
		}
	} else if other == "-" && cliutil.IsTerminal(os.Stdout) {
		return errors.New("refusing to write the plaintext to a terminal: give OUT or redirect standard output")
	} else if _, err := os.Lstat(other); err == nil && other != "-" && !f.force {
		// Said now rather than after the passphrase; OUT is created
		// only once the volume is unlocked.
		return fmt.Errorf("%s: %w", other, cliutil.ErrExists)
	}

	pass, err := f.passphrase(imagePath)
	if err != nil {
		return err
	}
	v, err := h.Unlock(img, pass.Bytes(), f.keySlot)
	pass.Close()
	var note string
	var ue *luks.UnlockError
	if err == nil {
		note = v.KDFNote
	} else if errors.As(err, &ue) {
		note = ue.KDFNote
	}
	if note != "" {
		sub := "encrypt"
		if dec {
			sub = "decrypt"
		}
		fmt.Fprintf(os.Stderr, "aeskl luks %s: note: %s\n", sub, note)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", imagePath, err)
	}
	defer v.Close()
	t := &disk.Transformer{Cipher: v.Cipher, Layout: v.Layout, Decrypt: dec}
	if dec {
		// The plaintext file is the user's alone: the image's mode says who
		// may read the ciphertext, not the volume's content.
		out, err := openOutput(other, f.force, false, 0, 0o600)
		if err != nil {
			return err
		}
		return transform(t, out, source{ra: img, off: v.Offset + start}, start, length, "decrypting "+imagePath, f.quiet)
	}
	out := &output{wa: img, at: v.Offset + start, direct: true, path: imagePath,
		abort: func() {}, commit: img.Sync}
	out.guard()
	if err := transform(t, out, src, start, length, "encrypting into "+imagePath, f.quiet); err != nil {
		return err
	}
	if length < 0 {
		// A pipe: refuse what did not fit rather than drop it silently.
		var b [1]byte
		if n, _ := io.ReadFull(src.r.(*io.LimitedReader).R, b[:]); n > 0 {
			return fmt.Errorf("the input is longer than the %d bytes from --start to the end of the data segment: only those were written", segLen-start)
		}
	}
	return nil
}

// openPlainSource opens encrypt's IN ("-": standard input).
func openPlainSource(path string) (*input, error) {
	if path == "-" {
		if cliutil.IsTerminal(os.Stdin) {
			return nil, errors.New("refusing to read the plaintext from a terminal: give IN or redirect standard input")
		}
		fi, err := os.Stdin.Stat()
		if err != nil {
			return nil, err
		}
		in := &input{File: os.Stdin, path: "standard input", fi: fi, size: -1}
		if fi.Mode().IsRegular() {
			if cur, err := os.Stdin.Seek(0, io.SeekCurrent); err == nil {
				in.off, in.size = cur, fi.Size()-cur
			}
		}
		return in, nil
	}
	in, err := openInput(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	return in, nil
}
