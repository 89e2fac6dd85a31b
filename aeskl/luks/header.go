// Package luks reads LUKS2 and LUKS1 volume headers as cryptsetup writes
// them and unlocks their data segment with a passphrase, into aeskl
// handles: the keyslot's KDF (argon2id, argon2i or PBKDF2), the
// decryption of its key material, the anti-forensic merge and the digest
// check follow the LUKS2 on-disk format (and LUKS1's), and the volume key
// exists as bytes only until aeskl has made its handles.
//
// Read parses a header (for LUKS2 both copies, with their checksums; the
// newer valid copy wins, as in cryptsetup); Header.Check says whether this
// package can use the volume and names what it cannot (integrity
// protection, a reencryption in progress, a cipher other than those of
// package disk...); Header.Unlock returns a Volume: the data segment's
// place, its IV layout and a disk.Cipher holding the key.
package luks

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// A Header is a LUKS2 or LUKS1 header.
type Header struct {
	Version   int    `json:"version"` // 1 or 2
	UUID      string `json:"uuid"`
	Label     string `json:"label,omitempty"`     // LUKS2
	Subsystem string `json:"subsystem,omitempty"` // LUKS2
	// SeqID is the LUKS2 header's sequence number (cryptsetup's epoch).
	SeqID uint64 `json:"seqid,omitempty"`
	// HeaderSize is the LUKS2 binary header and JSON area, in bytes (the
	// secondary copy's offset).
	HeaderSize  uint64 `json:"header_size,omitempty"`
	ChecksumAlg string `json:"checksum_alg,omitempty"` // LUKS2
	// Copies are the LUKS2 header copies found, primary first.
	Copies []Copy `json:"copies,omitempty"`

	Keyslots []Keyslot `json:"keyslots"`
	Segments []Segment `json:"segments"`
	Digests  []Digest  `json:"digests"`
	Tokens   []Token   `json:"tokens"`
	Config   Config    `json:"config"`

	// Metadata is the LUKS2 JSON metadata as stored.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// A Copy is one LUKS2 header copy.
type Copy struct {
	Offset int64  `json:"offset"`
	SeqID  uint64 `json:"seqid"`
	Used   bool   `json:"used"`            // the copy Read took the metadata from
	Error  string `json:"error,omitempty"` // why the copy is not valid; empty if it is
}

// A Keyslot holds the volume key encrypted under a passphrase.
type Keyslot struct {
	ID       int    `json:"id"`
	Type     string `json:"type"`     // "luks2"; "reencrypt" during a reencryption
	KeySize  int    `json:"key_size"` // bytes of the volume key
	Priority int    `json:"priority"` // 0 ignore, 1 normal, 2 prefer
	Area     Area   `json:"area"`
	KDF      KDF    `json:"kdf"`
	AF       AF     `json:"af"`
}

// An Area is where a keyslot's key material lies and how it is encrypted.
type Area struct {
	Type       string `json:"type"`
	Offset     uint64 `json:"offset"` // bytes from the start of the device
	Size       uint64 `json:"size"`
	Encryption string `json:"encryption"`
	KeySize    int    `json:"key_size"` // bytes of the key derived from the passphrase
}

// A KDF derives a keyslot's key from the passphrase.
type KDF struct {
	Type       string `json:"type"`                 // "pbkdf2", "argon2i", "argon2id"
	Hash       string `json:"hash,omitempty"`       // pbkdf2
	Iterations int    `json:"iterations,omitempty"` // pbkdf2
	Time       int    `json:"time,omitempty"`       // argon2
	Memory     int    `json:"memory,omitempty"`     // argon2, KiB
	CPUs       int    `json:"cpus,omitempty"`       // argon2
	Salt       []byte `json:"salt"`
}

// AF is a keyslot's anti-forensic splitter.
type AF struct {
	Type    string `json:"type"` // "luks1"
	Stripes int    `json:"stripes"`
	Hash    string `json:"hash"`
}

// A Segment is a region of the device with its encryption.
type Segment struct {
	ID         int      `json:"id"`
	Type       string   `json:"type"`   // "crypt"
	Offset     uint64   `json:"offset"` // bytes from the start of the device
	Size       uint64   `json:"size"`   // bytes; 0 when Dynamic
	Dynamic    bool     `json:"dynamic"`
	IVTweak    uint64   `json:"iv_tweak"` // added to the 512-byte sector number for the IVs
	Encryption string   `json:"encryption"`
	SectorSize int      `json:"sector_size"`
	Integrity  string   `json:"integrity,omitempty"` // the integrity type, if any
	Flags      []string `json:"flags,omitempty"`
}

// A Digest checks a volume key.
type Digest struct {
	ID         int    `json:"id"`
	Type       string `json:"type"` // "pbkdf2"
	Keyslots   []int  `json:"keyslots"`
	Segments   []int  `json:"segments"`
	Hash       string `json:"hash"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
	Digest     []byte `json:"digest"`
}

// A Token tells a program where to find a keyslot's passphrase.
type Token struct {
	ID       int    `json:"id"`
	Type     string `json:"type"`
	Keyslots []int  `json:"keyslots"`
}

// Config is the LUKS2 config section.
type Config struct {
	JSONSize     uint64   `json:"json_size,omitempty"`
	KeyslotsSize uint64   `json:"keyslots_size,omitempty"`
	Flags        []string `json:"flags,omitempty"`
	Requirements []string `json:"requirements,omitempty"` // mandatory requirements
}

// An UnsupportedError names a feature of a header that this package does
// not implement.
type UnsupportedError struct {
	Feature string
}

func (e *UnsupportedError) Error() string { return "not supported: " + e.Feature }

// ErrNotLUKS is returned by Read for a device without a LUKS header.
var ErrNotLUKS = errors.New("not a LUKS volume (no LUKS header found)")

const (
	binHeaderLen = 4096
	minHdrSize   = 0x4000   // 16 KiB
	maxHdrSize   = 0x400000 // 4 MiB
)

var (
	magic1 = []byte("LUKS\xba\xbe")
	magic2 = []byte("SKUL\xba\xbe")
	// The offsets cryptsetup looks for a secondary LUKS2 header at when
	// the primary is unusable.
	secondaryOffsets = []int64{0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000, 0x200000, 0x400000}
)

// Read reads the LUKS header at the start of r.
func Read(r io.ReaderAt) (*Header, error) {
	var bin [binHeaderLen]byte
	n, err := r.ReadAt(bin[:], 0)
	if n < 592 { // LUKS1's header, the smallest
		if err == nil || err == io.EOF {
			return nil, fmt.Errorf("%w: the device holds %d bytes", ErrNotLUKS, n)
		}
		return nil, err
	}
	if bytes.Equal(bin[:6], magic1) && binary.BigEndian.Uint16(bin[6:]) == 1 {
		return readLUKS1(r, bin[:])
	}
	return readLUKS2(r)
}

// cstring returns the NUL-terminated string at the start of b.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

type hdrCopy struct {
	magic  bool   // the copy's magic is there
	summed bool   // its checksum is right: its binary header can be trusted
	bin    []byte // the binary header, once its size is known to be sane
	json   []byte // the JSON text, without the zero padding
	err    error
}

func readCopy(r io.ReaderAt, off int64, secondary bool) hdrCopy {
	bin := make([]byte, binHeaderLen)
	if n, err := r.ReadAt(bin, off); n < binHeaderLen {
		if err == io.EOF {
			err = errors.New("the device ends before it")
		}
		return hdrCopy{err: err}
	}
	m := magic1
	if secondary {
		m = magic2
	}
	if !bytes.Equal(bin[:6], m) {
		return hdrCopy{err: errors.New("no LUKS2 magic")}
	}
	if v := binary.BigEndian.Uint16(bin[6:]); v != 2 {
		return hdrCopy{magic: true, err: fmt.Errorf("version %d", v)}
	}
	if o := binary.BigEndian.Uint64(bin[256:]); o != uint64(off) {
		return hdrCopy{magic: true, err: fmt.Errorf("it says it is at byte %d", o)}
	}
	size := binary.BigEndian.Uint64(bin[8:])
	if size < minHdrSize || size > maxHdrSize || size&(size-1) != 0 {
		return hdrCopy{magic: true, err: fmt.Errorf("bad header size %d", size)}
	}
	if secondary && uint64(off) != size {
		return hdrCopy{magic: true, err: fmt.Errorf("header size %d differs from its offset", size)}
	}
	c := hdrCopy{magic: true, bin: bin}
	area := make([]byte, size-binHeaderLen)
	if n, err := r.ReadAt(area, off+binHeaderLen); n < len(area) {
		if err == io.EOF {
			err = errors.New("the device ends inside its JSON area")
		}
		c.err = err
		return c
	}
	alg := cstring(bin[72:104])
	newHash, err := hashByName(alg)
	if err != nil {
		c.err = fmt.Errorf("checksum: %v", err)
		return c
	}
	h := newHash()
	if h.Size() > 64 {
		c.err = fmt.Errorf("checksum %s longer than the 64-byte field", alg)
		return c
	}
	var zero [64]byte
	h.Write(bin[:448])
	h.Write(zero[:])
	h.Write(bin[512:])
	h.Write(area)
	if subtle.ConstantTimeCompare(h.Sum(nil), bin[448:448+h.Size()]) != 1 {
		c.err = fmt.Errorf("%s checksum mismatch", alg)
		return c
	}
	c.summed = true
	// The JSON text, then only zeros.
	d := json.NewDecoder(bytes.NewReader(area))
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		c.err = fmt.Errorf("JSON area: %v", err)
		return c
	}
	end := d.InputOffset()
	for _, b := range area[end:] {
		if b != 0 {
			c.err = errors.New("JSON area: bytes other than zeros after the JSON text")
			return c
		}
	}
	c.json = area[:end]
	return c
}

func readLUKS2(r io.ReaderAt) (*Header, error) {
	c1 := readCopy(r, 0, false)
	var c2 hdrCopy
	off2 := int64(-1)
	if c1.summed {
		// The secondary follows the primary, whose size is known once its
		// checksum is right (even if its JSON is not).
		off2 = int64(binary.BigEndian.Uint64(c1.bin[8:]))
		c2 = readCopy(r, off2, true)
	} else {
		// No primary binary header to trust: look where cryptsetup does,
		// and take the first copy whose checksum is right.
		for _, o := range secondaryOffsets {
			c := readCopy(r, o, true)
			if (c.magic && off2 < 0) || c.summed {
				c2, off2 = c, o
			}
			if c.summed {
				break
			}
		}
		if !c1.magic && off2 < 0 {
			return nil, ErrNotLUKS
		}
	}
	h := &Header{Version: 2}
	use := -1
	var p1, p2 *Header
	var e1, e2 error = c1.err, c2.err
	if e1 == nil {
		p1, e1 = parseLUKS2(c1.bin, c1.json)
	}
	if e2 == nil && off2 >= 0 {
		p2, e2 = parseLUKS2(c2.bin, c2.json)
	}
	switch {
	case p1 != nil && p2 != nil:
		use = 0
		if p2.SeqID > p1.SeqID {
			use = 1
		}
	case p1 != nil:
		use = 0
	case p2 != nil:
		use = 1
	default:
		return nil, fmt.Errorf("no valid LUKS2 header: primary: %v; secondary: %v", e1, orNotFound(e2, off2))
	}
	if use == 0 {
		*h = *p1
	} else {
		*h = *p2
	}
	h.Copies = []Copy{{Offset: 0}, {Offset: off2}}
	for i, p := range []*Header{p1, p2} {
		c := &h.Copies[i]
		c.Used = i == use
		if p != nil {
			c.SeqID = p.SeqID
		} else if err := []error{e1, e2}[i]; err != nil {
			c.Error = orNotFound(err, []int64{0, off2}[i]).Error()
		}
	}
	if off2 < 0 {
		h.Copies = h.Copies[:1]
	}
	return h, nil
}

func orNotFound(err error, off int64) error {
	if off < 0 {
		return errors.New("not found")
	}
	return err
}

// num is a JSON string holding a decimal uint64, as LUKS2 stores offsets
// and sizes.
type num uint64

func (v *num) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a number in a string, got %s", b)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want a number in a string, got %q", s)
	}
	*v = num(n)
	return nil
}

// ids parses a list of object IDs ("0", "1"...).
type ids []int

func (v *ids) UnmarshalJSON(b []byte) error {
	var s []string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for _, x := range s {
		n, err := parseID(x)
		if err != nil {
			return err
		}
		*v = append(*v, n)
	}
	return nil
}

func parseID(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 31 || strconv.Itoa(n) != s {
		return 0, fmt.Errorf("bad object ID %q", s)
	}
	return n, nil
}

type jsonMeta struct {
	Keyslots map[string]json.RawMessage `json:"keyslots"`
	Tokens   map[string]json.RawMessage `json:"tokens"`
	Segments map[string]json.RawMessage `json:"segments"`
	Digests  map[string]json.RawMessage `json:"digests"`
	Config   *struct {
		JSONSize     num      `json:"json_size"`
		KeyslotsSize num      `json:"keyslots_size"`
		Flags        []string `json:"flags"`
		Requirements *struct {
			Mandatory []string `json:"mandatory"`
		} `json:"requirements"`
	} `json:"config"`
}

type jsonKeyslot struct {
	Type     string `json:"type"`
	KeySize  int    `json:"key_size"`
	Priority *int   `json:"priority"`
	Area     struct {
		Type       string `json:"type"`
		Offset     num    `json:"offset"`
		Size       num    `json:"size"`
		Encryption string `json:"encryption"`
		KeySize    int    `json:"key_size"`
	} `json:"area"`
	KDF KDF `json:"kdf"`
	AF  AF  `json:"af"`
}

type jsonSegment struct {
	Type       string          `json:"type"`
	Offset     num             `json:"offset"`
	Size       string          `json:"size"`
	IVTweak    num             `json:"iv_tweak"`
	Encryption string          `json:"encryption"`
	SectorSize int             `json:"sector_size"`
	Integrity  json.RawMessage `json:"integrity"`
	Flags      []string        `json:"flags"`
}

type jsonDigest struct {
	Type       string `json:"type"`
	Keyslots   ids    `json:"keyslots"`
	Segments   ids    `json:"segments"`
	Hash       string `json:"hash"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
	Digest     []byte `json:"digest"`
}

type jsonToken struct {
	Type     string `json:"type"`
	Keyslots ids    `json:"keyslots"`
}

// parseLUKS2 parses one checksummed header copy.
func parseLUKS2(bin, js []byte) (*Header, error) {
	h := &Header{
		Version:     2,
		HeaderSize:  binary.BigEndian.Uint64(bin[8:]),
		SeqID:       binary.BigEndian.Uint64(bin[16:]),
		Label:       cstring(bin[24:72]),
		ChecksumAlg: cstring(bin[72:104]),
		UUID:        cstring(bin[168:208]),
		Subsystem:   cstring(bin[208:256]),
		Metadata:    json.RawMessage(js),
	}
	var m jsonMeta
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("JSON metadata: %v", err)
	}
	if m.Keyslots == nil || m.Segments == nil || m.Digests == nil || m.Tokens == nil || m.Config == nil {
		return nil, errors.New("JSON metadata: a section (keyslots, tokens, segments, digests, config) is missing")
	}
	h.Config = Config{JSONSize: uint64(m.Config.JSONSize), KeyslotsSize: uint64(m.Config.KeyslotsSize), Flags: m.Config.Flags}
	if m.Config.Requirements != nil {
		h.Config.Requirements = m.Config.Requirements.Mandatory
	}
	if h.Config.JSONSize != h.HeaderSize-binHeaderLen {
		return nil, fmt.Errorf("JSON metadata: json_size %d does not match the header's JSON area of %d bytes", h.Config.JSONSize, h.HeaderSize-binHeaderLen)
	}
	for k, raw := range m.Keyslots {
		id, err := parseID(k)
		if err != nil {
			return nil, fmt.Errorf("keyslots: %v", err)
		}
		var j jsonKeyslot
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, fmt.Errorf("keyslot %d: %v", id, err)
		}
		ks := Keyslot{ID: id, Type: j.Type, KeySize: j.KeySize, Priority: 1, KDF: j.KDF, AF: j.AF,
			Area: Area{Type: j.Area.Type, Offset: uint64(j.Area.Offset), Size: uint64(j.Area.Size),
				Encryption: j.Area.Encryption, KeySize: j.Area.KeySize}}
		if j.Priority != nil {
			ks.Priority = *j.Priority
		}
		h.Keyslots = append(h.Keyslots, ks)
	}
	for k, raw := range m.Segments {
		id, err := parseID(k)
		if err != nil {
			return nil, fmt.Errorf("segments: %v", err)
		}
		var j jsonSegment
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, fmt.Errorf("segment %d: %v", id, err)
		}
		s := Segment{ID: id, Type: j.Type, Offset: uint64(j.Offset), IVTweak: uint64(j.IVTweak),
			Encryption: j.Encryption, SectorSize: j.SectorSize, Flags: j.Flags}
		if j.Size == "dynamic" {
			s.Dynamic = true
		} else if s.Size, err = strconv.ParseUint(j.Size, 10, 64); err != nil || s.Size == 0 {
			return nil, fmt.Errorf("segment %d: bad size %q", id, j.Size)
		}
		if s.Offset%512 != 0 || s.Size%512 != 0 {
			return nil, fmt.Errorf("segment %d: offset %d or size %d not a multiple of 512", id, s.Offset, s.Size)
		}
		if len(j.Integrity) > 0 && string(j.Integrity) != "null" {
			var in struct {
				Type string `json:"type"`
			}
			json.Unmarshal(j.Integrity, &in)
			s.Integrity = in.Type
			if s.Integrity == "" {
				s.Integrity = "(unnamed)"
			}
		}
		h.Segments = append(h.Segments, s)
	}
	for k, raw := range m.Digests {
		id, err := parseID(k)
		if err != nil {
			return nil, fmt.Errorf("digests: %v", err)
		}
		var j jsonDigest
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, fmt.Errorf("digest %d: %v", id, err)
		}
		h.Digests = append(h.Digests, Digest{ID: id, Type: j.Type, Keyslots: j.Keyslots, Segments: j.Segments,
			Hash: j.Hash, Iterations: j.Iterations, Salt: j.Salt, Digest: j.Digest})
	}
	for k, raw := range m.Tokens {
		id, err := parseID(k)
		if err != nil {
			return nil, fmt.Errorf("tokens: %v", err)
		}
		var j jsonToken
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, fmt.Errorf("token %d: %v", id, err)
		}
		h.Tokens = append(h.Tokens, Token{ID: id, Type: j.Type, Keyslots: j.Keyslots})
	}
	sort.Slice(h.Keyslots, func(i, j int) bool { return h.Keyslots[i].ID < h.Keyslots[j].ID })
	sort.Slice(h.Segments, func(i, j int) bool { return h.Segments[i].ID < h.Segments[j].ID })
	sort.Slice(h.Digests, func(i, j int) bool { return h.Digests[i].ID < h.Digests[j].ID })
	sort.Slice(h.Tokens, func(i, j int) bool { return h.Tokens[i].ID < h.Tokens[j].ID })
	return h, nil
}

// LUKS1 keyslot states.
const (
	luks1KeyEnabled  = 0x00AC71F3
	luks1KeyDisabled = 0x0000DEAD
)

// readLUKS1 parses a LUKS1 header into the LUKS2 model: one dynamic crypt
// segment at the payload offset, one pbkdf2 digest, a pbkdf2 keyslot per
// enabled key slot.
func readLUKS1(r io.ReaderAt, b []byte) (*Header, error) {
	be := binary.BigEndian
	cipherName, cipherMode, hashSpec := cstring(b[8:40]), cstring(b[40:72]), cstring(b[72:104])
	payload := be.Uint32(b[104:])
	keyBytes := int(be.Uint32(b[108:]))
	if keyBytes < 1 || keyBytes > 128 {
		return nil, fmt.Errorf("LUKS1: bad key size %d bytes", keyBytes)
	}
	spec := cipherName + "-" + cipherMode
	h := &Header{Version: 1, UUID: cstring(b[168:208])}
	h.Segments = []Segment{{ID: 0, Type: "crypt", Offset: uint64(payload) * 512, Dynamic: true,
		Encryption: spec, SectorSize: 512}}
	d := Digest{ID: 0, Type: "pbkdf2", Segments: []int{0}, Hash: hashSpec,
		Iterations: int(be.Uint32(b[164:])), Salt: bytes.Clone(b[132:164]), Digest: bytes.Clone(b[112:132])}
	for i := range 8 {
		k := b[208+48*i : 208+48*(i+1)]
		switch be.Uint32(k) {
		case luks1KeyDisabled:
			continue
		case luks1KeyEnabled:
		default:
			return nil, fmt.Errorf("LUKS1: key slot %d has the bad state %#x", i, be.Uint32(k))
		}
		stripes := int(be.Uint32(k[44:]))
		if stripes < 1 || stripes > 1<<20 {
			return nil, fmt.Errorf("LUKS1: key slot %d has %d stripes", i, stripes)
		}
		h.Keyslots = append(h.Keyslots, Keyslot{ID: i, Type: "luks1", KeySize: keyBytes, Priority: 1,
			Area: Area{Type: "raw", Offset: uint64(be.Uint32(k[40:])) * 512, Size: uint64(afSplitSize(keyBytes, stripes)),
				Encryption: spec, KeySize: keyBytes},
			KDF: KDF{Type: "pbkdf2", Hash: hashSpec, Iterations: int(be.Uint32(k[4:])), Salt: bytes.Clone(k[8:40])},
			AF:  AF{Type: "luks1", Stripes: stripes, Hash: hashSpec}})
		d.Keyslots = append(d.Keyslots, i)
	}
	h.Digests = []Digest{d}
	return h, nil
}

// DataSegment returns the segment that holds the volume's data: the one
// crypt segment of a header that is not in the middle of a reencryption.
func (h *Header) DataSegment() (*Segment, error) {
	var data []*Segment
	for i := range h.Segments {
		s := &h.Segments[i]
		if hasFlagPrefix(s.Flags, "backup-") {
			return nil, &UnsupportedError{Feature: fmt.Sprintf("a reencryption in progress (segment %d is flagged %s)", s.ID, strings.Join(s.Flags, ", "))}
		}
		data = append(data, s)
	}
	switch {
	case len(data) == 0:
		return nil, errors.New("the header has no data segment")
	case len(data) > 1:
		return nil, &UnsupportedError{Feature: fmt.Sprintf("a reencryption in progress (%d data segments)", len(data))}
	}
	return data[0], nil
}

func hasFlagPrefix(flags []string, prefix string) bool {
	for _, f := range flags {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

func contains(v []int, x int) bool {
	for _, y := range v {
		if y == x {
			return true
		}
	}
	return false
}
