package luks

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/aeskl/disk"
)

// ErrWrongPassphrase is returned (wrapped) by Unlock when no keyslot
// accepts the passphrase.
var ErrWrongPassphrase = errors.New("no keyslot accepts this passphrase")

// Check reports whether this package can unlock the volume and read and
// write its data segment, as an *UnsupportedError naming the first
// feature it cannot handle: a mandatory requirement (a reencryption in
// progress, OPAL hardware encryption, inline integrity tags, or one it does
// not know), a reencryption keyslot or segment, integrity protection, a
// segment type or cipher other than disk's, a sector size or an IV tweak
// dm-crypt does not take, or no keyslot of a type that opens with a
// passphrase. Tokens do not matter: a token only says where a program may
// find a keyslot's passphrase, and Unlock tries the keyslot with the
// passphrase it is given, as cryptsetup does.
func (h *Header) Check() error {
	if len(h.Config.Requirements) > 0 {
		r := h.Config.Requirements[0]
		what := "a requirement this program does not know"
		switch {
		case strings.HasPrefix(r, "online-reencrypt") || r == "offline-reencrypt":
			what = "a reencryption in progress"
		case strings.HasPrefix(r, "opal"):
			what = "OPAL self-encrypting drive hardware encryption"
		case r == "inline-hw-tags":
			what = "integrity tags stored inline by the hardware"
		}
		return &UnsupportedError{Feature: fmt.Sprintf("%s (mandatory requirement %q)", what, r)}
	}
	for _, k := range h.Keyslots {
		if k.Type == "reencrypt" {
			return &UnsupportedError{Feature: fmt.Sprintf("a reencryption in progress (keyslot %d is a reencryption keyslot)", k.ID)}
		}
	}
	s, err := h.DataSegment()
	if err != nil {
		return err
	}
	if s.Type != "crypt" {
		return &UnsupportedError{Feature: fmt.Sprintf("segment %d of type %q (supported: crypt)", s.ID, s.Type)}
	}
	if s.Integrity != "" {
		return &UnsupportedError{Feature: fmt.Sprintf("integrity protection (segment %d: dm-integrity with %s)", s.ID, s.Integrity)}
	}
	if _, ok := h.digestOfSegment(s.ID); !ok {
		return fmt.Errorf("segment %d has no digest", s.ID)
	}
	if err := checkSpec(s.Encryption); err != nil {
		return err
	}
	if err := (disk.Layout{SectorSize: s.SectorSize}).Validate(); err != nil {
		return &UnsupportedError{Feature: fmt.Sprintf("segment %d's sector size %d", s.ID, s.SectorSize)}
	}
	if err := (disk.Layout{SectorSize: s.SectorSize, IVOffset: s.IVTweak}).Validate(); err != nil {
		return &UnsupportedError{Feature: fmt.Sprintf("segment %d's iv_tweak %d is not a multiple of %d (its %d-byte sectors in 512-byte units): dm-crypt refuses it",
			s.ID, s.IVTweak, s.SectorSize>>disk.SectorShift, s.SectorSize)}
	}
	var why []string
	for _, k := range h.Keyslots {
		if passphraseType(k) {
			return nil
		}
		why = append(why, fmt.Sprintf("keyslot %d is of type %q", k.ID, k.Type))
	}
	if len(why) == 0 {
		return errors.New("the header has no keyslot")
	}
	return &UnsupportedError{Feature: "every keyslot: " + strings.Join(why, "; ")}
}

// checkSpec reports a cipher specification disk does not implement as an
// UnsupportedError.
func checkSpec(spec string) error {
	var u disk.UnsupportedCipherError
	if err := disk.CheckSpec(spec, -1); errors.As(err, &u) {
		return &UnsupportedError{Feature: strings.TrimPrefix(err.Error(), "disk: ")}
	}
	return nil
}

func (h *Header) digestOfSegment(seg int) (*Digest, bool) {
	for i := range h.Digests {
		if contains(h.Digests[i].Segments, seg) {
			return &h.Digests[i], true
		}
	}
	return nil, false
}

func (h *Header) tokenOf(keyslot int) *Token {
	for i := range h.Tokens {
		if contains(h.Tokens[i].Keyslots, keyslot) {
			return &h.Tokens[i]
		}
	}
	return nil
}

// passphraseType reports whether k is of a type that opens with a
// passphrase.
func passphraseType(k Keyslot) bool { return k.Type == "luks2" || k.Type == "luks1" }

// Keyslot priorities (cryptsetup's crypt_keyslot_priority).
const (
	priorityIgnore = 0
	priorityNormal = 1
	priorityPrefer = 2
)

// keyslotNote says why keyslot k is not tried when no keyslot is named,
// or "" if it is.
func keyslotNote(k Keyslot) string {
	switch {
	case !passphraseType(k):
		return fmt.Sprintf("keyslot %d is of type %q", k.ID, k.Type)
	case k.Priority == priorityIgnore:
		return fmt.Sprintf("keyslot %d has priority ignore (name it to use it)", k.ID)
	case k.Priority != priorityNormal && k.Priority != priorityPrefer:
		return fmt.Sprintf("keyslot %d has the unknown priority %d (name it to use it)", k.ID, k.Priority)
	}
	return ""
}

// usableKeyslots returns the keyslots to try with a passphrase, in order,
// as cryptsetup's LUKS2_keyslot_open: only the one named by keyslot if it
// is >= 0, whatever its priority; otherwise those of priority prefer, then
// those of priority normal, each in the order of their IDs. Tokens play no
// part.
func (h *Header) usableKeyslots(keyslot int) []Keyslot {
	var out []Keyslot
	if keyslot >= 0 {
		for _, k := range h.Keyslots {
			if k.ID == keyslot && passphraseType(k) {
				out = append(out, k)
			}
		}
		return out
	}
	for _, prio := range []int{priorityPrefer, priorityNormal} {
		for _, k := range h.Keyslots {
			if passphraseType(k) && k.Priority == prio {
				out = append(out, k)
			}
		}
	}
	return out
}

// A Volume is an unlocked data segment.
type Volume struct {
	// Cipher holds the volume key as aeskl handles.
	Cipher *disk.Cipher
	// Layout is the IV numbering of the segment (LUKS counts IVs in
	// 512-byte sectors whatever the sector size: IVLargeSectors is false).
	Layout disk.Layout
	// Offset is where the segment starts, in bytes from the start of the
	// device.
	Offset int64
	// Size is the segment's length in bytes, or -1 if it runs to the end of
	// the device (Length resolves it).
	Size int64
	// Keyslot is the keyslot that opened it.
	Keyslot int
	// KDFNote, when not empty, says that the working memory of an
	// Argon2 that Unlock ran (often 1 GiB) could not be locked against
	// swap, and why (RLIMIT_MEMLOCK without CAP_IPC_LOCK, typically); it
	// was wiped all the same.
	KDFNote string
}

// XTS returns the volume key's XTS for an aes-xts-plain64 segment, nil for
// the other ciphers.
func (v *Volume) XTS() *aeskl.XTS { return v.Cipher.XTS() }

// Close wipes the volume key's handles.
func (v *Volume) Close() { v.Cipher.Close() }

// Length returns the segment's length in bytes on a device of devSize
// bytes, checking that it fits and is a whole number of sectors.
func (v *Volume) Length(devSize int64) (int64, error) {
	if v.Offset > devSize {
		return 0, fmt.Errorf("the data segment starts at byte %d, beyond the end of the device (%d bytes)", v.Offset, devSize)
	}
	n := devSize - v.Offset
	if v.Size >= 0 {
		if v.Size > n {
			return 0, fmt.Errorf("the data segment (%d bytes at byte %d) ends beyond the end of the device (%d bytes)", v.Size, v.Offset, devSize)
		}
		n = v.Size
	}
	if n%int64(v.Layout.SectorSize) != 0 {
		return 0, fmt.Errorf("the data segment's %d bytes are not a whole number of %d-byte sectors", n, v.Layout.SectorSize)
	}
	return n, nil
}

// Unlock recovers the volume key from the keyslots with the passphrase
// (only from keyslot keyslot if it is >= 0, whatever its priority;
// otherwise, as cryptsetup does, those of priority prefer, then normal,
// never ignore; tokens play no part), checks it against the data
// segment's digest, and turns it into a disk.Cipher. r is the device the
// header came from. Every buffer that held the key or material from which
// it follows (the KDF's working memory: Argon2's blocks and its BLAKE2b
// states, in scratch memory of their own, locked against swap as far as
// RLIMIT_MEMLOCK allows (KDFNote says when not), PBKDF2's HMAC states; the
// key derived from the passphrase, in scratch memory too, the decrypted
// anti-forensic stripes, the volume key) is wiped before Unlock
// returns; the passphrase is the caller's to wipe. Not wiped: what the Go
// compiler spills to goroutine stacks during the computation (registers,
// and the copies crypto/sha1, sha256 and sha512 make of their state in
// Sum), which no Go code can reach.
//
// A passphrase that opens no keyslot gives an error wrapping
// ErrWrongPassphrase (an *UnlockError when Argon2's memory was not
// locked); a header that Check refuses, its error.
func (h *Header) Unlock(r io.ReaderAt, passphrase []byte, keyslot int, opts ...aeskl.Option) (*Volume, error) {
	if err := h.Check(); err != nil {
		return nil, err
	}
	seg, _ := h.DataSegment()
	slots := h.usableKeyslots(keyslot)
	var notes []string
	if keyslot < 0 {
		for _, k := range h.Keyslots {
			if n := keyslotNote(k); n != "" {
				notes = append(notes, n)
			}
		}
	}
	if len(slots) == 0 {
		if keyslot >= 0 {
			return nil, fmt.Errorf("keyslot %d: no such keyslot holding a key", keyslot)
		}
		return nil, errors.New("no keyslot to try without naming one: " + strings.Join(notes, "; "))
	}
	var failures []string
	var kdfNote string
	for _, k := range slots {
		d, err := h.keyslotDigest(k, seg.ID)
		if err == nil {
			var v *Volume
			v, err = h.openKeyslot(r, k, d, seg, passphrase, opts, &kdfNote)
			if err == nil {
				v.KDFNote = kdfNote
				return v, nil
			}
		}
		if errors.Is(err, ErrWrongPassphrase) {
			continue
		}
		failures = append(failures, fmt.Sprintf("keyslot %d: %v", k.ID, err))
	}
	var tokens []string
	for _, k := range slots {
		if t := h.tokenOf(k.ID); t != nil {
			tokens = append(tokens, fmt.Sprintf("keyslot %d is bound to token %d of type %q", k.ID, t.ID, t.Type))
		}
	}
	msg := ""
	if len(failures) > 0 {
		msg += " (" + strings.Join(failures, "; ") + ")"
	}
	if len(notes) > 0 {
		msg += "; not tried: " + strings.Join(notes, "; ")
	}
	if len(tokens) > 0 {
		msg += "; " + strings.Join(tokens, "; ") + " (a token's program, for a TPM or a FIDO2 key for example, may hold such a keyslot's passphrase; this program runs none)"
	}
	if len(failures) == len(slots) {
		// No keyslot could even be tried: that is not a wrong passphrase.
		return nil, unlockError(errors.New("no keyslot could be opened"+msg), kdfNote)
	}
	return nil, unlockError(fmt.Errorf("%w%s", ErrWrongPassphrase, msg), kdfNote)
}

// An UnlockError is Unlock's error when an Argon2 it ran could not lock
// its working memory against swap: Err is the error (errors.Is and As see
// it), KDFNote says so as Volume.KDFNote does.
type UnlockError struct {
	Err     error
	KDFNote string
}

func (e *UnlockError) Error() string { return e.Err.Error() }
func (e *UnlockError) Unwrap() error { return e.Err }

// unlockError returns err, as an *UnlockError with the note if there is one.
func unlockError(err error, note string) error {
	if note == "" {
		return err
	}
	return &UnlockError{Err: err, KDFNote: note}
}

// maxKeyMaterial bounds a keyslot's anti-forensic material, as
// cryptsetup's LUKS1 code does (16 MiB: 4000 stripes of a 4096-byte key).
const maxKeyMaterial = 16 << 20

// keyslotDigest returns the digest that checks keyslot k's key, which
// must also be the digest of the data segment.
func (h *Header) keyslotDigest(k Keyslot, seg int) (*Digest, error) {
	for i := range h.Digests {
		d := &h.Digests[i]
		if contains(d.Keyslots, k.ID) {
			if !contains(d.Segments, seg) {
				return nil, fmt.Errorf("its digest %d is not the data segment's", d.ID)
			}
			return d, nil
		}
	}
	return nil, errors.New("no digest checks it")
}

// openKeyslot opens keyslot k with the passphrase; note gets what derive
// has to say about Argon2's memory, if it has not got a note yet.
func (h *Header) openKeyslot(r io.ReaderAt, k Keyslot, d *Digest, seg *Segment, pass []byte, opts []aeskl.Option, note *string) (*Volume, error) {
	if k.AF.Type != "luks1" {
		return nil, &UnsupportedError{Feature: fmt.Sprintf("anti-forensic splitter %q", k.AF.Type)}
	}
	if k.Area.Type != "raw" {
		return nil, &UnsupportedError{Feature: fmt.Sprintf("keyslot area type %q", k.Area.Type)}
	}
	if h.Version == 2 && k.AF.Stripes != 4000 {
		// cryptsetup reads 4000 stripes whatever the header says.
		return nil, fmt.Errorf("%d anti-forensic stripes (LUKS2 keyslots have 4000)", k.AF.Stripes)
	}
	if k.KeySize < 1 || k.KeySize > 128 || k.AF.Stripes < 1 {
		return nil, fmt.Errorf("bad key size %d or stripes %d", k.KeySize, k.AF.Stripes)
	}
	if err := checkSpec(k.Area.Encryption); err != nil {
		return nil, err
	}
	if err := disk.CheckSpec(k.Area.Encryption, k.Area.KeySize); err != nil {
		return nil, fmt.Errorf("its area: %v", strings.TrimPrefix(err.Error(), "disk: "))
	}
	if h.Version == 2 && len(k.KDF.Salt) != 32 {
		return nil, fmt.Errorf("a %d-byte KDF salt (LUKS2 salts are 32 bytes)", len(k.KDF.Salt))
	}
	if err := disk.CheckSpec(seg.Encryption, k.KeySize); err != nil {
		return nil, fmt.Errorf("its %d-byte key does not fit the segment's cipher: %v", k.KeySize, strings.TrimPrefix(err.Error(), "disk: "))
	}
	afHash, err := hashByName(k.AF.Hash)
	if err != nil {
		return nil, err
	}
	size := afSplitSize(k.KeySize, k.AF.Stripes)
	if size > maxKeyMaterial {
		return nil, fmt.Errorf("%d bytes of key material (at most %d)", size, maxKeyMaterial)
	}
	if uint64(size) > k.Area.Size {
		return nil, fmt.Errorf("its area (%d bytes) is smaller than its key material (%d bytes)", k.Area.Size, size)
	}
	if k.Area.Offset > 1<<62 {
		return nil, fmt.Errorf("its area offset %d is out of range", k.Area.Offset)
	}
	material := make([]byte, size)
	defer clear(material)
	if n, err := r.ReadAt(material, int64(k.Area.Offset)); n < size {
		if err == io.EOF || err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading its key material at byte %d: %w", k.Area.Offset, err)
	}

	derived, err := k.KDF.derive(pass, k.Area.KeySize, note)
	if err != nil {
		return nil, err
	}
	c, err := disk.NewCipher(k.Area.Encryption, derived.Bytes(), opts...)
	derived.Close()
	if err != nil {
		return nil, err
	}
	err = c.CryptSectors(material, material, 0, 1, 512, true)
	c.Close()
	if err != nil {
		return nil, err
	}
	key := afMerge(material, k.KeySize, k.AF.Stripes, afHash)
	defer clear(key)
	ok, err := d.verify(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrWrongPassphrase
	}
	if seg.Offset > 1<<62 || seg.Size > 1<<62 {
		return nil, fmt.Errorf("segment offset %d or size %d out of range", seg.Offset, seg.Size)
	}
	vc, err := disk.NewCipher(seg.Encryption, key, opts...)
	if err != nil {
		return nil, err
	}
	v := &Volume{Cipher: vc, Offset: int64(seg.Offset), Size: -1, Keyslot: k.ID,
		Layout: disk.Layout{SectorSize: seg.SectorSize, IVOffset: seg.IVTweak}}
	if !seg.Dynamic {
		v.Size = int64(seg.Size)
	}
	return v, nil
}
