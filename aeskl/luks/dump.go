package luks

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

var priorities = map[int]string{0: "ignore", 1: "normal", 2: "prefer"}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func hexLines(b []byte, indent string) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%16 == 0 {
			sb.WriteString("\n" + indent)
		}
		fmt.Fprintf(&sb, "%02x ", c)
	}
	return sb.String()
}

func joinIDs(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// Dump writes the header in words, in the layout of cryptsetup luksDump,
// followed by whether this package can unlock the volume (Check).
func (h *Header) Dump(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("LUKS header information\n")
	p("Version:       \t%d\n", h.Version)
	if h.Version == 2 {
		p("Epoch:         \t%d\n", h.SeqID)
		p("Metadata area: \t%d [bytes]\n", h.HeaderSize)
		p("Keyslots area: \t%d [bytes]\n", h.Config.KeyslotsSize)
	}
	p("UUID:          \t%s\n", h.UUID)
	if h.Version == 2 {
		p("Label:         \t%s\n", orNone(h.Label, "(no label)"))
		p("Subsystem:     \t%s\n", orNone(h.Subsystem, "(no subsystem)"))
		p("Flags:         \t%s\n", orNone(strings.Join(h.Config.Flags, " "), "(no flags)"))
		if len(h.Config.Requirements) > 0 {
			p("Requirements:  \t%s\n", strings.Join(h.Config.Requirements, " "))
		}
		p("Checksum:      \t%s\n", h.ChecksumAlg)
		for i, c := range h.Copies {
			name := [...]string{"Primary", "Secondary"}[i]
			state := "valid"
			if c.Error != "" {
				state = "INVALID: " + c.Error
			}
			used := ""
			if c.Used {
				used = ", in use"
			}
			p("%s header:\tat %d, epoch %d, %s%s\n", name, c.Offset, c.SeqID, state, used)
		}
	}
	p("\nData segments:\n")
	for _, s := range h.Segments {
		p("  %d: %s\n", s.ID, s.Type)
		p("\toffset: %d [bytes]\n", s.Offset)
		if s.Dynamic {
			p("\tlength: (whole device)\n")
		} else {
			p("\tlength: %d [bytes]\n", s.Size)
		}
		p("\tcipher: %s\n", s.Encryption)
		p("\tsector: %d [bytes]\n", s.SectorSize)
		if s.IVTweak != 0 {
			p("\tIV tweak: %d\n", s.IVTweak)
		}
		if s.Integrity != "" {
			p("\tintegrity: %s\n", s.Integrity)
		}
		if len(s.Flags) > 0 {
			p("\tflags : %s\n", strings.Join(s.Flags, " "))
		}
	}
	p("\nKeyslots:\n")
	for _, k := range h.Keyslots {
		p("  %d: %s\n", k.ID, k.Type)
		p("\tKey:        %d bits\n", 8*k.KeySize)
		p("\tPriority:   %s\n", orNone(priorities[k.Priority], fmt.Sprint(k.Priority)))
		p("\tCipher:     %s\n", k.Area.Encryption)
		p("\tCipher key: %d bits\n", 8*k.Area.KeySize)
		p("\tPBKDF:      %s\n", k.KDF.Type)
		if k.KDF.Type == "pbkdf2" {
			p("\tHash:       %s\n", k.KDF.Hash)
			p("\tIterations: %d\n", k.KDF.Iterations)
		} else {
			p("\tTime cost:  %d\n", k.KDF.Time)
			p("\tMemory:     %d\n", k.KDF.Memory)
			p("\tThreads:    %d\n", k.KDF.CPUs)
		}
		p("\tSalt:       %s\n", hexLines(k.KDF.Salt, "\t            "))
		p("\tAF stripes: %d\n", k.AF.Stripes)
		p("\tAF hash:    %s\n", k.AF.Hash)
		p("\tArea offset:%d [bytes]\n", k.Area.Offset)
		p("\tArea length:%d [bytes]\n", k.Area.Size)
		for _, d := range h.Digests {
			if contains(d.Keyslots, k.ID) {
				p("\tDigest ID:  %d\n", d.ID)
			}
		}
	}
	p("Tokens:\n")
	for _, t := range h.Tokens {
		p("  %d: %s\n", t.ID, t.Type)
		p("\tKeyslot:    %s\n", joinIDs(t.Keyslots))
	}
	p("Digests:\n")
	for _, d := range h.Digests {
		p("  %d: %s\n", d.ID, d.Type)
		p("\tHash:       %s\n", d.Hash)
		p("\tIterations: %d\n", d.Iterations)
		p("\tSalt:       %s\n", hexLines(d.Salt, "\t            "))
		p("\tDigest:     %s\n", hexLines(d.Digest, "\t            "))
	}
	if err := h.Check(); err != nil {
		p("\naeskl: cannot use this volume: %v\n", err)
	} else {
		p("\naeskl: can unlock this volume and read and write its data segment\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DumpJSON writes the header as one JSON object: the fields of Header
// (the LUKS2 metadata as stored under "metadata") and "supported", with
// "unsupported" saying why not when it is false.
func (h *Header) DumpJSON(w io.Writer) error {
	v := struct {
		*Header
		Supported   bool   `json:"supported"`
		Unsupported string `json:"unsupported,omitempty"`
	}{Header: h, Supported: true}
	if err := h.Check(); err != nil {
		v.Supported, v.Unsupported = false, err.Error()
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(v)
}
