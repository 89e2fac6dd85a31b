package cliutil

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestOutputCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	o, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	o.WriteString("hello")
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("output visible before Commit: %v", err)
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	o.Abort() // no effect after Commit
	if b, err := os.ReadFile(path); err != nil || string(b) != "hello" {
		t.Fatalf("got %q, %v", b, err)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("directory holds %v, want only out", got)
	}
	if _, err := CreateOutput(path, false); !errors.Is(err, ErrExists) {
		t.Errorf("existing output without force: %v, want ErrExists", err)
	}
	o, err = CreateOutput(path, true)
	if err != nil {
		t.Fatal(err)
	}
	o.WriteString("new")
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("forced output holds %q", b)
	}
}

func TestOutputMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SKIP: Windows has no Unix permission bits")
	}
	dir := t.TempDir()
	for _, perm := range []os.FileMode{0o600, 0o640, 0o444} {
		path := filepath.Join(dir, "out"+perm.String())
		o, err := CreateOutputMode(path, false, perm)
		if err != nil {
			t.Fatal(err)
		}
		o.WriteString("x")
		if err := o.Commit(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := perm &^ umask(); fi.Mode().Perm() != want {
			t.Errorf("CreateOutputMode %v: the file has mode %v, want %v", perm, fi.Mode().Perm(), want)
		}
	}
	// CreateOutput: 0600.
	path := filepath.Join(dir, "default")
	o, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	o.Commit()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600&^umask() {
		t.Errorf("CreateOutput: %v, %v", fi.Mode(), err)
	}
}

func TestOutputAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	o, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	o.WriteString("partial")
	o.Abort()
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("Abort left %v", got)
	}
	if err := o.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
}

func TestOutputNameTakenMeanwhile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	o, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("theirs"), 0o644)
	if err := o.Commit(); !errors.Is(err, ErrExists) {
		t.Errorf("Commit over a file created meanwhile: %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "theirs" {
		t.Errorf("the other file was overwritten: %q", b)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("directory holds %v", got)
	}
}

func TestOutputNotRegular(t *testing.T) {
	if _, err := CreateOutput(t.TempDir(), true); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory as output: %v", err)
	}
}

func TestProgressQuietOffTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	p := NewProgress(f, 100, "x", false)
	if p.bar != nil {
		t.Fatal("a bar on a file that is not a terminal")
	}
	var sink strings.Builder
	p.Writer(&sink).Write(make([]byte, 100))
	p.Done()
	b, _ := os.ReadFile(f.Name())
	if !strings.HasPrefix(string(b), "100 bytes in ") {
		t.Errorf("summary %q", b)
	}
	q := NewProgress(f, 100, "x", true)
	q.Add(5)
	q.Done()
	if b2, _ := os.ReadFile(f.Name()); len(b2) != len(b) {
		t.Errorf("quiet progress wrote %q", b2[len(b):])
	}
}
