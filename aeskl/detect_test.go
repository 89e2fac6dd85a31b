package aeskl

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/kdf"
)

// TestSupportJSON: Detect's JSON has snake_case keys only, one per field,
// and reads back into the same Support.
func TestSupportJSON(t *testing.T) {
	s := Detect()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Support
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Errorf("JSON round trip changed Support:\n got %+v\nwant %+v\nJSON %s", back, s, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if o, ok := v.(map[string]any); ok {
			for k, e := range o {
				if !snake.MatchString(k) {
					t.Errorf("key %s%s is not snake_case", path, k)
				}
				walk(path+k+".", e)
			}
		}
	}
	walk("", m)
	// Every field has its own key (omitempty ones only when set).
	typ := reflect.TypeFor[Support]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "" || tag == "-" {
			t.Errorf("field %s has no JSON name", f.Name)
			continue
		}
		if _, ok := m[tag]; !ok && !strings.Contains(f.Tag.Get("json"), "omitempty") {
			t.Errorf("JSON lacks %q (field %s)", tag, f.Name)
		}
	}
	if _, ok := m["reasons"].([]any); !ok {
		t.Errorf("reasons is %v, want a list", m["reasons"])
	}
	if hasAsm && s.CPUName == "" {
		t.Error("no CPU name read from CPUID")
	}
	if s.CPUName != "" && !strings.Contains(s.String(), s.CPUName) {
		t.Errorf("String() does not name the CPU %q:\n%s", s.CPUName, s)
	}
	if s.WrapKeyMemory != nil && m["wrap_key_memory"].(map[string]any)["locked"] != s.WrapKeyMemory.Locked {
		t.Errorf("wrap_key_memory.locked does not match: %s", b)
	}
}

func TestImplementationText(t *testing.T) {
	for _, i := range Implementations {
		b, _ := i.MarshalText()
		var back Implementation
		if err := back.UnmarshalText(b); err != nil || back != i {
			t.Errorf("%v: read back as %v, %v", i, back, err)
		}
	}
	var i Implementation
	if err := json.Unmarshal([]byte(`"aes-9000"`), &i); err == nil || !strings.Contains(err.Error(), "aes-9000") {
		t.Errorf("an unknown name: %v", err)
	}
}

// TestArgon2Choice: Detect's Argon2 code is the widest the build and CPU
// run (AVX-512 needs AVX2 too), and kdf can run it.
func TestArgon2Choice(t *testing.T) {
	s := Detect()
	x := cpu.X86
	want := "generic"
	switch {
	case hasAsm && x.HasAVX2 && x.HasAVX512F && x.HasAVX512VL && x.HasAVX512BW:
		want = "avx512"
	case hasAsm && x.HasAVX2:
		want = "avx2"
	}
	if s.Argon2 != want {
		t.Errorf("Argon2 %q, want %q (asm %v, AVX2 %v, AVX-512 %v)", s.Argon2, want, hasAsm, s.AVX2, s.AVX512)
	}
	if !kdf.Impl(s.Argon2).Available() {
		t.Errorf("kdf cannot run the chosen Argon2 code %q", s.Argon2)
	}
	if !strings.Contains(s.String(), "Argon2 code:        "+s.Argon2+"\n") {
		t.Errorf("the report does not name the Argon2 code:\n%s", s)
	}
}
