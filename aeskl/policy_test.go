package aeskl

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestWrappingKeyPolicy: every combination of what the CPU reports maps to
// the management mode it implies and to what that means for handles.
func TestWrappingKeyPolicy(t *testing.T) {
	kl := func(ks int, nobackup, backup, vm bool) Support {
		return Support{KeyLocker: true, AESKLE: true, IWKeyPolicyKnown: true, IWKeyKeySource: ks,
			IWKeyNoBackup: nobackup, IWKeyBackup: backup, Hypervisor: vm}
	}
	for _, c := range []struct {
		name                          string
		s                             Support
		mode, or                      WrappingKeyMode
		perBoot, suspend, hibernation string
	}{
		{"no Key Locker", Support{}, WrapProcess, "", yes, yes, yes},
		{"policy unread", Support{KeyLocker: true, AESKLE: true}, WrapUnknown, "", unknown, unknown, unknown},
		{"CPU random, backed up", kl(1, false, true, false), WrapRandomPerBoot, "", yes, yes, yes},
		{"CPU random, NoBackup", kl(1, true, true, false), WrapLostAtPowerTransition, "", yes, no, no},
		{"CPU random, no backup storage", kl(1, false, false, false), WrapLostAtPowerTransition, "", yes, no, no},
		{"OS key, backed up", kl(0, false, true, false), WrapBackupOnly, WrapKernelRemembered, unknown, yes, yes},
		{"OS key, NoBackup", kl(0, true, true, false), WrapKernelRemembered, WrapLostAtPowerTransition, unknown, unknown, unknown},
		{"OS key, no backup storage", kl(0, false, false, false), WrapKernelRemembered, WrapLostAtPowerTransition, unknown, unknown, unknown},
		{"virtual machine", kl(1, false, true, true), WrapHypervisor, "", unknown, unknown, unknown},
	} {
		p := c.s.wrappingKeyPolicy()
		if p.Mode != c.mode || p.OrMode != c.or || p.RandomPerBoot != c.perBoot || p.SurvivesSuspend != c.suspend || p.SurvivesHibernation != c.hibernation {
			t.Errorf("%s: %+v, want %s or %q, %s %s %s", c.name, p, c.mode, c.or, c.perBoot, c.suspend, c.hibernation)
		}
		if p.Hypervisor != (c.mode == WrapHypervisor) || p.Evidence == "" || p.Handles == "" {
			t.Errorf("%s: hypervisor %v, evidence %q, handles %q", c.name, p.Hypervisor, p.Evidence, p.Handles)
		}
		c.s.WrappingKey = p
		out := c.s.String()
		if !strings.Contains(out, "wrapping-key mode:  "+string(c.mode)) || !strings.Contains(out, p.Handles) {
			t.Errorf("%s: String() does not describe the policy:\n%s", c.name, out)
		}
	}
	// What Detect reports here, in its JSON too.
	s := Detect()
	if s.WrappingKey.Mode == "" {
		t.Fatal("Detect: no wrapping-key policy")
	}
	if !s.AESKLE && s.WrappingKey.Mode != WrapProcess {
		t.Errorf("no Key Locker in use, mode %s", s.WrappingKey.Mode)
	}
	j, _ := json.Marshal(s)
	if !strings.Contains(string(j), `"wrapping_key":{"mode":"`+string(s.WrappingKey.Mode)+`"`) {
		t.Errorf("JSON: %s", j)
	}
}
