//go:build amd64 && !purego

package aeskl

import (
	"strings"

	"github.com/go-keylocker/keylocker/internal/asm"
	"github.com/go-keylocker/keylocker/internal/asm/kl"
	"golang.org/x/sys/cpu"
)

func probeCPU(s *Support) {
	bit := func(v uint32, n uint) bool { return v>>n&1 != 0 }
	s.SignalFrameWipe, s.SignalFrameDetail = asm.SignalFrameWipe()
	maxLeaf, vb, vc, vd := asm.CPUID(0, 0)
	s.CPUVendor = cpuString(vb, vd, vc)
	if maxExt, _, _, _ := asm.CPUID(0x80000000, 0); maxExt >= 0x80000004 {
		var name string
		for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
			a, b, c, d := asm.CPUID(leaf, 0)
			name += cpuString(a, b, c, d)
		}
		s.CPUName = strings.TrimSpace(name)
	}
	_, _, ecx1, _ := asm.CPUID(1, 0)
	s.Hypervisor = bit(ecx1, 31)
	s.AESNI = cpu.X86.HasAES
	s.PCLMULQDQ = cpu.X86.HasPCLMULQDQ
	s.SSSE3 = cpu.X86.HasSSSE3
	s.SSE41 = cpu.X86.HasSSE41
	s.AVX2 = cpu.X86.HasAVX2
	s.AVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW
	s.RDSEED, s.RDRAND = cpu.X86.HasRDSEED, cpu.X86.HasRDRAND
	if maxLeaf >= 7 {
		_, _, ecx7, _ := asm.CPUID(7, 0)
		s.KeyLocker = bit(ecx7, 23)
		// VAES and VPCLMULQDQ exist on VEX (ymm) without AVX-512; x/sys/cpu
		// reports them only with AVX-512, so read the bits here and require
		// the OS's YMM support.
		s.VAES = bit(ecx7, 9) && s.AVX2
		s.VPCLMULQDQ = bit(ecx7, 10) && s.AVX2
	}
	if s.KeyLocker && maxLeaf >= 0x19 {
		eax, ebx, ecx, _ := asm.CPUID(0x19, 0)
		s.RestrictCPL0, s.RestrictNoEncrypt, s.RestrictNoDecrypt = bit(eax, 0), bit(eax, 1), bit(eax, 2)
		s.AESKLE, s.WideKL, s.IWKeyBackup = bit(ebx, 0), bit(ebx, 2), bit(ebx, 4)
		s.NoBackupSupported, s.KeySource1Supported = bit(ecx, 0), bit(ecx, 1)
	}
	if s.AESKLE {
		// ENCODEKEY128 reports the IWKey's NoBackup (bit 0) and KeySource
		// (bits 4:1). The key wrapped is all zeros and the handle discarded.
		var key [16]byte
		var h kl.Handle
		info := kl.EncodeKey128(&key, 0, &h)
		s.IWKeyPolicyKnown = true
		s.IWKeyNoBackup = info&1 != 0
		s.IWKeyKeySource = int(info >> 1 & 0xF)
	}
}

// cpuString is the text CPUID returns in registers, 4 bytes each, in the
// order given, without trailing NULs.
func cpuString(regs ...uint32) string {
	b := make([]byte, 0, 4*len(regs))
	for _, r := range regs {
		b = append(b, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	return strings.TrimRight(string(b), "\x00")
}
