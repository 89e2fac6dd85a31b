package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// run executes this test binary as the aeskl command.
func run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aeskl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestMain(m *testing.M) {
	if os.Getenv("AESKL_CMD_TEST") != "" {
		main()
	}
	os.Exit(m.Run())
}

func TestInfo(t *testing.T) {
	out := run(t, "info")
	for _, want := range []string{"AES-128 uses:", "Key Locker (CPU):", "AES-192 uses:"} {
		if !strings.Contains(out, want) {
			t.Errorf("info output lacks %q:\n%s", want, out)
		}
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(run(t, "info", "--json")), &s); err != nil {
		t.Fatal(err)
	}
	if _, ok := s["implementation_128"].(string); !ok {
		t.Errorf("JSON lacks implementation_128: %v", s)
	}
}

func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the bench command takes a few seconds")
	}
	var rs []result
	if err := json.Unmarshal([]byte(run(t, "bench", "--time", "5ms", "--size", "256", "--json")), &rs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if r.NsPerOp <= 0 {
			t.Errorf("%+v: no time measured", r)
		}
		seen[r.Op+"/"+r.Implementation] = true
	}
	for _, want := range []string{"ctr/crypto/aes", "xts/x/crypto/xts+crypto/aes", "gcm seal/generic", "xts/generic"} {
		if !seen[want] {
			t.Errorf("bench did not measure %s", want)
		}
	}
}

func TestUsage(t *testing.T) {
	cmd := exec.Command(os.Args[0], "frobnicate")
	cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown command") {
		t.Errorf("unknown command: %v\n%s", err, out)
	}
}
