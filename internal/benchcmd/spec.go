package benchcmd

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// An Op is one measured operation: a mode in one direction.
type Op struct {
	Name      string // "gcm-seal"
	Mode      string // "gcm"
	Direction string // "seal"
}

// Ops lists every operation in the order tables and charts use.
var Ops = []Op{
	{"ecb-encrypt", "ecb", "encrypt"},
	{"ecb-decrypt", "ecb", "decrypt"},
	{"ctr", "ctr", "xor"},
	{"gcm-seal", "gcm", "seal"},
	{"gcm-open", "gcm", "open"},
	{"cbc-encrypt", "cbc", "encrypt"},
	{"cbc-decrypt", "cbc", "decrypt"},
	{"xts-encrypt", "xts", "encrypt"},
	{"xts-decrypt", "xts", "decrypt"},
}

// Modes lists the modes in the order of Ops.
var Modes = []string{"ecb", "ctr", "gcm", "cbc", "xts"}

// opIndex returns the position of the operation name in Ops (len(Ops) if
// unknown, so that unknown operations of another file sort last).
func opIndex(name string) int {
	for i, o := range Ops {
		if o.Name == name {
			return i
		}
	}
	return len(Ops)
}

func opByName(name string) (Op, bool) {
	i := opIndex(name)
	if i == len(Ops) {
		return Op{}, false
	}
	return Ops[i], true
}

// list splits a comma-separated flag value into its non-empty items.
func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ParseModes reads a --mode value: a comma-separated list of ecb, ctr,
// gcm, cbc and xts, returned in the canonical order without repeats.
func ParseModes(s string) ([]string, error) {
	items := list(s)
	if len(items) == 0 {
		return nil, fmt.Errorf("no mode given (want some of %s)", strings.Join(Modes, ","))
	}
	for _, m := range items {
		if !slices.Contains(Modes, strings.ToLower(m)) {
			return nil, fmt.Errorf("unknown mode %q (want some of %s)", m, strings.Join(Modes, ","))
		}
	}
	var out []string
	for _, m := range Modes {
		if slices.ContainsFunc(items, func(i string) bool { return strings.EqualFold(i, m) }) {
			out = append(out, m)
		}
	}
	return out, nil
}

// MaxSize is the largest size --size accepts (64 MiB).
const MaxSize = 64 << 20

// ParseSizes reads a --size value: comma-separated byte counts with an
// optional k (KiB) or m (MiB) suffix, each a positive multiple of 16 up to
// MaxSize ("16,64,512,4k,64k,1m"). They are returned sorted without
// repeats.
func ParseSizes(s string) ([]int, error) {
	items := list(s)
	if len(items) == 0 {
		return nil, fmt.Errorf("no size given")
	}
	var out []int
	for _, it := range items {
		num, mul := strings.ToLower(it), 1
		switch {
		case strings.HasSuffix(num, "k"):
			num, mul = num[:len(num)-1], 1<<10
		case strings.HasSuffix(num, "m"):
			num, mul = num[:len(num)-1], 1<<20
		}
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("size %q is not a positive number of bytes (such as 16, 4k or 1m)", it)
		}
		if n > MaxSize/mul {
			return nil, fmt.Errorf("size %q is larger than %s", it, SizeLabel(MaxSize))
		}
		if n *= mul; n%16 != 0 {
			return nil, fmt.Errorf("size %q is not a multiple of 16 bytes (every mode here runs whole blocks)", it)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// SizeLabel writes n bytes as --size does: 4k for 4096, 1m for 1 MiB.
func SizeLabel(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "m"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "k"
	}
	return strconv.Itoa(n)
}

// ParseKeys reads a --key value: some of 128, 192 and 256 (AES key bits),
// returned sorted without repeats.
func ParseKeys(s string) ([]int, error) {
	items := list(s)
	if len(items) == 0 {
		return nil, fmt.Errorf("no key size given (want some of 128,192,256)")
	}
	var out []int
	for _, it := range items {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(it), "aes-"))
		if err != nil || n != 128 && n != 192 && n != 256 {
			return nil, fmt.Errorf("unknown key size %q (want some of 128,192,256)", it)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ParseImpls reads an --impl value: names of implementations (aeskl's, as
// aeskl.Implementation.String writes them, and the peers crypto/aes and
// x/crypto/xts). Whether they run here is checked when the bench starts.
func ParseImpls(s string) ([]string, error) {
	items := list(s)
	if len(items) == 0 {
		return nil, fmt.Errorf("no implementation given (want some of %s)", strings.Join(KnownImpls(), ","))
	}
	var out []string
	for _, it := range items {
		if !slices.Contains(KnownImpls(), it) {
			return nil, fmt.Errorf("unknown implementation %q (want some of %s)", it, strings.Join(KnownImpls(), ","))
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out, nil
}
