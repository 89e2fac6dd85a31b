package klemutest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestParseStats(t *testing.T) {
	m, err := ParseStats([]byte("noise\nklemu-stats aesenc128kl 3\nklemu-stats cpuid.0x19 12\nklemu-stats zf 0\n"))
	if err != nil || m["aesenc128kl"] != 3 || m["cpuid.0x19"] != 12 || len(m) != 3 {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := ParseStats([]byte("klemu-stats x\n")); err == nil {
		t.Error("bad line accepted")
	}
	if _, err := ParseStats([]byte("nothing\n")); err == nil {
		t.Error("empty accepted")
	}
}

func TestInnerSelf(t *testing.T) {
	if Inner() {
		if os.Getenv("KLEMU_PROFILE") == "" || os.Getenv("KLEMU_INNER") != "1" {
			t.Fatal("KLEMU_PROFILE / KLEMU_INNER not set under klemu")
		}
		t.Log("inner ok")
		return
	}
	out := RunSelf(t, []string{"--profile=no-wide"}, "^TestInnerSelf$")
	if !strings.Contains(string(out), "inner ok") {
		t.Fatalf("inner did not run:\n%s", out)
	}
}

func TestUnavailableAndExitCodes(t *testing.T) {
	bin := Available(t)
	run := func(args ...string) int {
		err := exec.Command(bin, args...).Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	if c := run("--profile=bogus", "true"); c != 125 {
		t.Errorf("bad profile: exit %d, want 125", c)
	}
	if c := run(); c != 125 {
		t.Errorf("no program: exit %d, want 125", c)
	}
	if c := run(append(Flags(t), "/nonexistent/prog")...); c != 127 {
		t.Errorf("missing program: exit %d, want 127", c)
	}
}
