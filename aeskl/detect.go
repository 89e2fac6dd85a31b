package aeskl

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/go-keylocker/keylocker/internal/fallback"
)

// Support reports what this machine offers for AES with protected keys:
// what the CPU enumerates, what the OS enabled, which implementation New
// chooses for each key size, and why the better ones are not used.
//
// Its JSON form (snake_case keys, one per field; implementations by name)
// is what `aeskl info --json` prints, and unmarshals back into a Support.
type Support struct {
	Arch  string `json:"arch"`
	Build string `json:"build"` // "amd64", "amd64 with -tags purego", or another GOARCH

	// The CPU's brand string and vendor (CPUID leaves 80000002H-80000004H
	// and 0); empty where this build does not read CPUID.
	CPUName   string `json:"cpu_name"`
	CPUVendor string `json:"cpu_vendor"`

	// CPUID.(EAX=07H,ECX=0):ECX[23]: the CPU has Key Locker.
	KeyLocker bool `json:"keylocker"`
	// CPUID.19H:EBX[0]: the AES Key Locker instructions are enabled (the
	// OS has set CR4.KL and loaded an IWKey). Only then can they run.
	AESKLE bool `json:"aeskle"`
	// CPUID.19H:EBX[2]: the WIDE forms (8 blocks per instruction) exist.
	WideKL bool `json:"wide_kl"`
	// CPUID.19H:EBX[4]: IWKey backup MSRs (the IWKey survives S3/S4 when the
	// OS backs it up).
	IWKeyBackup bool `json:"iwkey_backup"`
	// CPUID.19H:EAX[0..2]: handle restrictions the CPU supports.
	RestrictCPL0      bool `json:"restrict_cpl0"`
	RestrictNoEncrypt bool `json:"restrict_no_encrypt"`
	RestrictNoDecrypt bool `json:"restrict_no_decrypt"`
	// CPUID.19H:ECX[0..1]: LOADIWKEY options the CPU supports.
	NoBackupSupported   bool `json:"nobackup_supported"`
	KeySource1Supported bool `json:"keysource1_supported"`

	// IWKeyPolicyKnown is true when Key Locker is usable and ENCODEKEY128
	// reported the OS's IWKey policy in IWKeyNoBackup and IWKeyKeySource
	// (0: the OS supplied the IWKey, 1: the CPU generated it at random).
	IWKeyPolicyKnown bool `json:"iwkey_policy_known"`
	IWKeyNoBackup    bool `json:"iwkey_nobackup"`
	IWKeyKeySource   int  `json:"iwkey_keysource"`

	Hypervisor bool `json:"hypervisor"` // CPUID.1:ECX[31]
	AESNI      bool `json:"aesni"`
	PCLMULQDQ  bool `json:"pclmulqdq"`
	SSSE3      bool `json:"ssse3"`
	SSE41      bool `json:"sse41"`
	AVX2       bool `json:"avx2"`   // and the OS saves YMM state
	AVX512     bool `json:"avx512"` // AVX-512 F+VL+BW and the OS saves ZMM state
	VAES       bool `json:"vaes"`
	VPCLMULQDQ bool `json:"vpclmulqdq"`

	// SignalFrameWipe is true when the assembly zeroes the signal frame of a
	// signal that interrupted a call holding key material (Linux on amd64;
	// see SECURITY.md), and SignalFrameDetail says how it is set up or why
	// it is off.
	SignalFrameWipe   bool   `json:"signal_frame_wipe"`
	SignalFrameDetail string `json:"signal_frame_detail,omitempty"`

	// The implementation New chooses for each key size.
	Implementation128 Implementation `json:"implementation_128"`
	Implementation192 Implementation `json:"implementation_192"`
	Implementation256 Implementation `json:"implementation_256"`
	// SealedPath is the bulk path aesni-sealed uses: aes-ni, vaes-ymm or vaes-zmm.
	SealedPath string `json:"sealed_path,omitempty"`
	// Argon2 is the code that computes Argon2 for passphrases (aeskl/luks
	// keyslots, the aeskl command's encrypt and decrypt): avx512 or avx2
	// (assembly, in amd64 builds without purego, on CPUs with AVX-512 or
	// AVX2) or generic (Go).
	Argon2 string `json:"argon2"`

	// WrapKeyMemory reports how the sealed implementations' software
	// wrapping key is protected (filled only when one of them is chosen).
	WrapKeyMemory *MemoryStatus `json:"wrap_key_memory,omitempty"`

	// Reasons explains, in plain language, every "no" above that matters.
	Reasons []string `json:"reasons"`

	// RDSEED (CPUID.(EAX=07H,ECX=0):EBX[18]) and RDRAND (CPUID.01H:ECX[30]):
	// the CPU's random source, which NewRandom draws keys from.
	RDSEED bool `json:"rdseed"`
	RDRAND bool `json:"rdrand"`

	// WrappingKey is how the key that wraps handles is managed here (the
	// OS's IWKey policy with Key Locker) and what that means for them.
	WrappingKey WrappingKeyPolicy `json:"wrapping_key"`
}

// MemoryStatus reports which protections the memory of the software
// wrapping key got from the OS. Every false field has a plain-language
// entry in Notes saying why and what it means.
type MemoryStatus struct {
	Locked     bool     `json:"locked"`       // mlock / VirtualLock: the page is not swapped out
	DontDump   bool     `json:"dont_dump"`    // excluded from core dumps (MADV_DONTDUMP, MAP_NOCORE)
	WipeOnFork bool     `json:"wipe_on_fork"` // a fork(2) child sees zeros (MADV_WIPEONFORK)
	GuardPages bool     `json:"guard_pages"`  // inaccessible pages before and after it
	ReadOnly   bool     `json:"read_only"`    // read-only once written
	Notes      []string `json:"notes"`
}

var (
	detectOnce sync.Once
	detected   Support
)

// detect is Detect without the copy, for the implementation choice.
func detect() *Support {
	detectOnce.Do(func() {
		detected.Arch = runtime.GOARCH
		detected.Build = buildDesc()
		probeCPU(&detected)
		s := &detected
		s.Implementation128 = s.choose(16)
		s.Implementation192 = s.choose(24)
		s.Implementation256 = s.choose(32)
		if hasAsm {
			s.SealedPath = sealedPathNames[s.sealedPath()]
		}
		switch {
		case hasAsm && s.AVX512 && s.AVX2:
			s.Argon2 = "avx512"
		case hasAsm && s.AVX2:
			s.Argon2 = "avx2"
		default:
			s.Argon2 = "generic"
		}
		s.Reasons = s.reasons()
		s.WrappingKey = s.wrappingKeyPolicy()
		setupRegion(s) // before any fallback.WrapKey: both callers run detect first
	})
	return &detected
}

// Detect reports what this machine supports and what New will choose.
func Detect() Support {
	s := *detect()
	s.Reasons = append([]string{}, s.Reasons...)
	for _, i := range []Implementation{s.Implementation128, s.Implementation192, s.Implementation256} {
		if i == AESNISealed || i == Generic {
			if _, err := fallback.WrapKey(); err != nil {
				s.Reasons = append(s.Reasons, "the software wrapping key could not be created: "+err.Error())
			} else {
				m := fallback.Status()
				s.WrapKeyMemory = &MemoryStatus{Locked: m.Locked, DontDump: m.DontDump, WipeOnFork: m.WipeOnFork,
					GuardPages: m.GuardPages, ReadOnly: m.ReadOnly, Notes: append([]string{}, m.Notes...)}
				s.Reasons = append(s.Reasons, m.Notes...)
			}
			break
		}
	}
	return s
}

// klReason explains why Key Locker is not usable (AESKLE=0).
func (s *Support) klReason() string {
	switch {
	case !hasAsm:
		return "this build has no assembly (" + buildDesc() + ")"
	case !s.KeyLocker && s.Hypervisor:
		return "the CPU does not report Key Locker (CPUID.07H:ECX[23]=0); this is a virtual machine, and hypervisors normally hide Key Locker"
	case !s.KeyLocker:
		return "the CPU does not have Key Locker (CPUID.07H:ECX[23]=0); Intel client cores from Tiger Lake (11th gen) to Raptor Lake (13th/14th gen) have it, no Xeon does"
	case !s.AESKLE:
		return "the CPU has Key Locker but the OS has not enabled it (CPUID.19H:EBX.AESKLE=0); mainline Linux never does"
	}
	return ""
}

func (s *Support) reasons() []string {
	var r []string
	if !hasAsm {
		r = append(r, "this build ("+buildDesc()+") has no assembly: every key uses the portable generic implementation, which cannot keep the key out of Go memory as well as the assembly does")
	}
	if hasAsm && !s.AESKLE {
		r = append(r, "Key Locker is not used: "+s.klReason())
	}
	if s.AESKLE && !s.WideKL {
		r = append(r, "Key Locker has no WIDE instructions here (CPUID.19H:EBX[2]=0): bulk work runs one block per instruction")
	}
	if s.AESKLE {
		r = append(r, "AES-192 has no Key Locker instructions: 24-byte keys use "+s.Implementation192.String())
	}
	if s.AESKLE && !s.IWKeyPolicyKnown {
		r = append(r, "the OS's IWKey policy could not be read")
	}
	if s.AESKLE && s.IWKeyPolicyKnown && s.IWKeyNoBackup {
		r = append(r, "the IWKey has NoBackup set: handles die at suspend to RAM or to disk unless the kernel keeps a copy of the key")
	}
	if hasAsm && (!s.AESNI || !s.PCLMULQDQ || !s.SSSE3 || !s.SSE41) {
		r = append(r, "the CPU lacks AES-NI, PCLMULQDQ, SSSE3 or SSE4.1: aesni-sealed cannot run, keys use the generic implementation")
	}
	if hasAsm && !s.SignalFrameWipe {
		r = append(r, "key material in the registers of an interrupted call can stay in memory: "+s.SignalFrameDetail)
	}
	if hasAsm && s.AESNI && !s.VAES {
		r = append(r, "no VAES: aesni-sealed bulk work uses 128-bit AES-NI")
	} else if hasAsm && s.VAES && !s.AVX512 {
		r = append(r, "VAES without AVX-512: aesni-sealed bulk work uses 256-bit VAES")
	}
	return r
}

// String formats s for people, one fact per line.
func (s Support) String() string {
	var b strings.Builder
	yn := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	if s.CPUName != "" {
		fmt.Fprintf(&b, "CPU:                %s (%s)\n", s.CPUName, s.CPUVendor)
	}
	fmt.Fprintf(&b, "build:              %s (GOARCH %s)\n", s.Build, s.Arch)
	fmt.Fprintf(&b, "Key Locker (CPU):   %s\n", yn(s.KeyLocker))
	fmt.Fprintf(&b, "AESKLE (OS on):     %s\n", yn(s.AESKLE))
	fmt.Fprintf(&b, "WIDE_KL:            %s\n", yn(s.WideKL))
	fmt.Fprintf(&b, "IWKey backup:       %s\n", yn(s.IWKeyBackup))
	fmt.Fprintf(&b, "restrictions:       cpl0=%s no-encrypt=%s no-decrypt=%s\n", yn(s.RestrictCPL0), yn(s.RestrictNoEncrypt), yn(s.RestrictNoDecrypt))
	fmt.Fprintf(&b, "LOADIWKEY options:  nobackup=%s keysource1=%s\n", yn(s.NoBackupSupported), yn(s.KeySource1Supported))
	if s.IWKeyPolicyKnown {
		src := "software (OS-supplied)"
		if s.IWKeyKeySource == 1 {
			src = "hardware random"
		}
		fmt.Fprintf(&b, "IWKey policy:       keysource=%d (%s) nobackup=%s\n", s.IWKeyKeySource, src, yn(s.IWKeyNoBackup))
	}
	fmt.Fprintf(&b, "hypervisor:         %s\n", yn(s.Hypervisor))
	fmt.Fprintf(&b, "AES-NI:             %s\n", yn(s.AESNI))
	fmt.Fprintf(&b, "PCLMULQDQ:          %s\n", yn(s.PCLMULQDQ))
	fmt.Fprintf(&b, "SSSE3, SSE4.1:      %s, %s\n", yn(s.SSSE3), yn(s.SSE41))
	fmt.Fprintf(&b, "AVX2:               %s\n", yn(s.AVX2))
	fmt.Fprintf(&b, "AVX-512:            %s\n", yn(s.AVX512))
	fmt.Fprintf(&b, "VAES:               %s\n", yn(s.VAES))
	fmt.Fprintf(&b, "VPCLMULQDQ:         %s\n", yn(s.VPCLMULQDQ))
	fmt.Fprintf(&b, "AES-128 uses:       %s\n", s.Implementation128)
	fmt.Fprintf(&b, "AES-192 uses:       %s\n", s.Implementation192)
	fmt.Fprintf(&b, "AES-256 uses:       %s\n", s.Implementation256)
	if s.SealedPath != "" {
		fmt.Fprintf(&b, "sealed bulk path:   %s\n", s.SealedPath)
	}
	fmt.Fprintf(&b, "Argon2 code:        %s\n", s.Argon2)
	if s.SignalFrameDetail != "" {
		fmt.Fprintf(&b, "signal frames:      %s\n", s.SignalFrameDetail)
	}
	if m := s.WrapKeyMemory; m != nil {
		fmt.Fprintf(&b, "wrapping key:       locked=%s dontdump=%s wipeonfork=%s guardpages=%s readonly=%s\n",
			yn(m.Locked), yn(m.DontDump), yn(m.WipeOnFork), yn(m.GuardPages), yn(m.ReadOnly))
	}
	s.writePolicy(&b)
	for _, r := range s.Reasons {
		fmt.Fprintf(&b, "- %s\n", r)
	}
	return b.String()
}
