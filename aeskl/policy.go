package aeskl

import (
	"fmt"
	"strings"
)

// WrappingKeyMode names a way of managing the key that wraps handles. With
// Key Locker that key is the CPU's internal wrapping key (IWKey), which
// the OS loads with LOADIWKEY; how it does so decides when the handles of
// a program die. Five ways are possible with Key Locker (the first five
// constants); user space sees only what ENCODEKEY reports (KeySource,
// NoBackup), whether the CPU can back the IWKey up (CPUID.19H:EBX[4]) and
// whether it runs in a virtual machine, which sometimes leaves two modes
// possible. The last two constants are for machines where Key Locker is
// not used and for a Key Locker whose policy could not be read.
type WrappingKeyMode string

const (
	// WrapRandomPerBoot: a random IWKey per the ISA on every boot. The OS
	// asks the CPU to generate the IWKey from its own random source
	// (KeySource 1), so no software, not even the kernel, ever knows it, and
	// backs it up into the CPU's platform storage, which restores it after
	// suspend to RAM or to disk. A reboot or power-off makes a new one.
	WrapRandomPerBoot WrappingKeyMode = "random-per-boot"
	// WrapKernelRemembered: a random IWKey that the kernel chose
	// (KeySource 0) and keeps in its memory to load again at resume. It
	// survives suspend and hibernation whatever the backup does, but it
	// sits in kernel memory (and in the hibernation image on disk).
	WrapKernelRemembered WrappingKeyMode = "kernel-remembered"
	// WrapBackupOnly: a random IWKey that the kernel chose (KeySource 0),
	// loaded, backed up into the CPU's platform storage and then erased
	// from its memory: the backup storage is the only copy outside the
	// CPU. It survives suspend and hibernation through the backup.
	WrapBackupOnly WrappingKeyMode = "backup-only"
	// WrapLostAtPowerTransition: a random IWKey that nothing can restore
	// (NoBackup set, or a CPU without backup storage, and nobody keeps a
	// copy): any suspend to RAM or to disk loses it.
	WrapLostAtPowerTransition WrappingKeyMode = "lost-at-power-transition"
	// WrapHypervisor: in a virtual machine the hypervisor loads, keeps,
	// saves and restores the guest's IWKey as it sees fit; what the virtual
	// CPU reports is what the hypervisor chose to report.
	WrapHypervisor WrappingKeyMode = "hypervisor"
	// WrapProcess: Key Locker is not used (the sealed and generic
	// implementations): handles are wrapped under this process's software
	// wrapping key, random, made when the first key is wrapped, in locked
	// memory of the process, and gone when the process exits.
	WrapProcess WrappingKeyMode = "process"
	// WrapUnknown: Key Locker is used but ENCODEKEY's report of the policy
	// could not be read.
	WrapUnknown WrappingKeyMode = "unknown"
)

// WrappingKeyPolicy is what the management of the wrapping key implies for
// the handles of this process (Support.WrappingKey). The yes/no fields are
// "yes", "no" or "unknown".
type WrappingKeyPolicy struct {
	// Mode is the management mode; OrMode, when set, another one that the
	// CPU's report leaves possible (user space cannot tell them apart).
	Mode   WrappingKeyMode `json:"mode"`
	OrMode WrappingKeyMode `json:"or_mode,omitempty"`
	// RandomPerBoot: the key is random and new at every boot (or, for
	// WrapProcess, in every process).
	RandomPerBoot string `json:"random_per_boot"`
	// SurvivesSuspend: handles still work after suspend to RAM (S3).
	SurvivesSuspend string `json:"survives_suspend"`
	// SurvivesHibernation: handles still work after suspend to disk (S4).
	SurvivesHibernation string `json:"survives_hibernation"`
	// Hypervisor: a hypervisor controls the key (this is a virtual
	// machine with Key Locker).
	Hypervisor bool `json:"hypervisor"`
	// Evidence says what the mode was read from; Handles what it means for
	// the handles this program holds.
	Evidence string `json:"evidence"`
	Handles  string `json:"handles"`
}

const (
	yes     = "yes"
	no      = "no"
	unknown = "unknown"
)

// wrappingKeyPolicy derives the policy from what s reports.
func (s *Support) wrappingKeyPolicy() WrappingKeyPolicy {
	if !s.AESKLE {
		return WrappingKeyPolicy{
			Mode: WrapProcess, RandomPerBoot: yes, SurvivesSuspend: yes, SurvivesHibernation: yes,
			Evidence: "Key Locker is not in use (the reasons below say why): handles are wrapped under this process's software key, drawn from crypto/rand",
			Handles: "handles work until this process exits, across suspend and hibernation (the hibernation image on disk then holds the wrapping key's page: encrypt swap); " +
				"data under a NewRandom key is unreadable once the process exits",
		}
	}
	if !s.IWKeyPolicyKnown {
		return WrappingKeyPolicy{Mode: WrapUnknown, RandomPerBoot: unknown, SurvivesSuspend: unknown, SurvivesHibernation: unknown,
			Hypervisor: s.Hypervisor, Evidence: "ENCODEKEY's report of the IWKey policy could not be read",
			Handles: "handles die at the next reboot at the latest, and may die at any suspend"}
	}
	bits := fmt.Sprintf("ENCODEKEY reports KeySource=%d NoBackup=%d, CPUID.19H:EBX[4] (IWKey backup) is %d", s.IWKeyKeySource, b2i(s.IWKeyNoBackup), b2i(s.IWKeyBackup))
	backup := !s.IWKeyNoBackup && s.IWKeyBackup
	switch {
	case s.Hypervisor:
		return WrappingKeyPolicy{Mode: WrapHypervisor, RandomPerBoot: unknown, SurvivesSuspend: unknown, SurvivesHibernation: unknown, Hypervisor: true,
			Evidence: "this is a virtual machine (CPUID.1:ECX[31]); " + bits + ", as the hypervisor chose to report",
			Handles: "handles work as long as the hypervisor keeps this guest's IWKey: a reboot of the guest ends them, and a snapshot restore or a migration may; " +
				"the host controls the key and can use or read it, so Key Locker does not protect against the host"}
	case s.IWKeyKeySource == 1 && backup:
		return WrappingKeyPolicy{Mode: WrapRandomPerBoot, RandomPerBoot: yes, SurvivesSuspend: yes, SurvivesHibernation: yes,
			Evidence: bits + ": the CPU generated the IWKey, no software knows it, and the CPU's backup can restore it",
			Handles: "handles work until the next reboot or power-off, across suspend and hibernation when the OS restores the backup at resume; " +
				"data under a NewRandom key is unreadable after a reboot"}
	case s.IWKeyKeySource == 1:
		return WrappingKeyPolicy{Mode: WrapLostAtPowerTransition, RandomPerBoot: yes, SurvivesSuspend: no, SurvivesHibernation: no,
			Evidence: bits + ": the CPU generated the IWKey and nothing can restore it",
			Handles:  "handles die at the first suspend, to RAM or to disk, and at reboot; keep only data that can be recomputed under them"}
	case backup:
		return WrappingKeyPolicy{Mode: WrapBackupOnly, OrMode: WrapKernelRemembered, RandomPerBoot: unknown, SurvivesSuspend: yes, SurvivesHibernation: yes,
			Evidence: bits + ": the OS chose the IWKey (random in the designs known, not checkable from user space) and may have kept a copy in kernel memory or only the CPU's backup",
			Handles:  "handles work until the next reboot or power-off, across suspend and hibernation; if the kernel kept the key, a kernel memory disclosure or the hibernation image can reveal it"}
	default:
		return WrappingKeyPolicy{Mode: WrapKernelRemembered, OrMode: WrapLostAtPowerTransition, RandomPerBoot: unknown, SurvivesSuspend: unknown, SurvivesHibernation: unknown,
			Evidence: bits + ": the OS chose the IWKey and the CPU cannot restore it: it survives suspend only if the kernel kept a copy to load again",
			Handles:  "handles die at reboot, and at suspend unless the kernel kept the key"}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writePolicy adds the wrapping-key policy to String's output.
func (s *Support) writePolicy(b *strings.Builder) {
	p := s.WrappingKey
	if p.Mode == "" {
		return
	}
	mode := string(p.Mode)
	if p.OrMode != "" {
		mode += " or " + string(p.OrMode)
	}
	fmt.Fprintf(b, "wrapping-key mode:  %s (random per boot: %s, survives suspend to RAM: %s, to disk: %s)\n",
		mode, p.RandomPerBoot, p.SurvivesSuspend, p.SurvivesHibernation)
	fmt.Fprintf(b, "  from:             %s\n", p.Evidence)
	fmt.Fprintf(b, "  handles:          %s\n", p.Handles)
	fmt.Fprintf(b, "random source:      rdseed=%s rdrand=%s (NewRandom)\n", yesNo(s.RDSEED), yesNo(s.RDRAND))
}

func yesNo(v bool) string {
	if v {
		return yes
	}
	return no
}
