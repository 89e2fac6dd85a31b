package benchcmd

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("16,64,512,4k,64k,1m,4K,16")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{16, 64, 512, 4096, 65536, 1 << 20}; !reflect.DeepEqual(got, want) {
		t.Errorf("sizes %v, want %v", got, want)
	}
	for _, bad := range []struct{ in, why string }{
		{"", "no size"},
		{"17", `"17" is not a multiple of 16`},
		{"0", `"0" is not a positive`},
		{"-16", `"-16" is not a positive`},
		{"4q", `"4q" is not a positive`},
		{"65m", `"65m" is larger than 64m`},
		{"16,x", `"x"`},
	} {
		if _, err := ParseSizes(bad.in); err == nil || !strings.Contains(err.Error(), bad.why) {
			t.Errorf("ParseSizes(%q): %v, want an error saying %q", bad.in, err, bad.why)
		}
	}
	for n, want := range map[int]string{16: "16", 4096: "4k", 1 << 20: "1m", 1536: "1536", 3 << 20: "3m"} {
		if got := SizeLabel(n); got != want {
			t.Errorf("SizeLabel(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseModesKeysImpls(t *testing.T) {
	if got, err := ParseModes("xts, GCM,ecb,xts"); err != nil || !reflect.DeepEqual(got, []string{"ecb", "gcm", "xts"}) {
		t.Errorf("ParseModes: %v, %v", got, err)
	}
	if _, err := ParseModes("gcm,ocb"); err == nil || !strings.Contains(err.Error(), `"ocb"`) {
		t.Errorf("ParseModes(ocb): %v", err)
	}
	if got, err := ParseKeys("256,128,aes-192,128"); err != nil || !reflect.DeepEqual(got, []int{128, 192, 256}) {
		t.Errorf("ParseKeys: %v, %v", got, err)
	}
	if _, err := ParseKeys("128,512"); err == nil || !strings.Contains(err.Error(), `"512"`) {
		t.Errorf("ParseKeys(512): %v", err)
	}
	if got, err := ParseImpls("generic,crypto/aes,generic"); err != nil || !reflect.DeepEqual(got, []string{"generic", "crypto/aes"}) {
		t.Errorf("ParseImpls: %v, %v", got, err)
	}
	if _, err := ParseImpls("openssl"); err == nil || !strings.Contains(err.Error(), `"openssl"`) {
		t.Errorf("ParseImpls(openssl): %v", err)
	}
	for _, s := range []string{"", " , "} {
		if _, err := ParseModes(s); err == nil {
			t.Errorf("ParseModes(%q) accepted", s)
		}
		if _, err := ParseKeys(s); err == nil {
			t.Errorf("ParseKeys(%q) accepted", s)
		}
		if _, err := ParseImpls(s); err == nil {
			t.Errorf("ParseImpls(%q) accepted", s)
		}
	}
}

func TestParseCPUInfo(t *testing.T) {
	const text = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 207\n" +
		"model name\t: Intel(R) Xeon(R) Processor\nstepping\t: 2\nmicrocode\t: 0x21000290\n\n" +
		"processor\t: 1\nmodel name\t: Other\nmicrocode\t: 0x1\n"
	var h Host
	parseCPUInfo(strings.NewReader(text), &h)
	if h.CPUModel != "Intel(R) Xeon(R) Processor" || h.Microcode != "0x21000290" ||
		h.CPUFamily == nil || *h.CPUFamily != 6 || h.CPUModelNum == nil || *h.CPUModelNum != 207 ||
		h.CPUStepping == nil || *h.CPUStepping != 2 {
		t.Errorf("parsed %+v", h)
	}
	var empty Host
	parseCPUInfo(strings.NewReader("processor\t: 0\nmodel\t: ?\n"), &empty)
	if empty.CPUModelNum != nil || empty.Microcode != "" {
		t.Errorf("unreadable fields were set: %+v", empty)
	}
}
