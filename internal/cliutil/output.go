// Package cliutil holds what the repository's commands share: outputs
// that appear whole or not at all, progress on a terminal, passphrases
// read without echo, flag sets that document and report flags with double
// dashes, and the binary's build information.
package cliutil

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// An Output is a file being written. For a path other than "-" the data
// goes to a temporary file in the same directory, which Commit renames
// over the path and Abort removes: readers of the path never see a partial
// file. Replacing a file this way makes a new file: an existing file at
// the path is unlinked from it (its other hard links, if any, keep the old
// content, and its blocks are freed, not overwritten), and the new file
// has the permission bits given to CreateOutputMode. For "-" it is
// standard output, written as it comes.
type Output struct {
	*os.File
	path  string // final name; "" for standard output
	force bool
	done  bool
}

// ErrExists is returned by CreateOutput and Commit when the output exists
// and force was not given.
var ErrExists = errors.New("output exists (use --force to overwrite it)")

// CreateOutput starts writing path ("-" for standard output), a file of
// mode 0600. Without force it refuses a path that exists already.
func CreateOutput(path string, force bool) (*Output, error) {
	return CreateOutputMode(path, force, 0o600)
}

// CreateOutputMode is CreateOutput for a file created with the permission
// bits perm, less the umask (as open(2) applies it).
func CreateOutputMode(path string, force bool, perm fs.FileMode) (*Output, error) {
	if path == "-" {
		return &Output{File: os.Stdout}, nil
	}
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return nil, fmt.Errorf("%s: %w", path, ErrExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".aeskl-", perm.Perm())
	if err != nil {
		return nil, err
	}
	return &Output{File: f, path: path, force: force}, nil
}

// createTemp creates a new file named prefix and a random suffix in dir,
// as os.CreateTemp does but with the permission bits perm.
func createTemp(dir, prefix string, perm fs.FileMode) (*os.File, error) {
	for range 10000 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, prefix+"*"), Err: fs.ErrExist}
}

// Commit makes the output visible under its name: it syncs the temporary
// file and renames it (without force, only if the name is still free).
// For standard output it does nothing.
func (o *Output) Commit() error {
	if o.done {
		return errors.New("output already committed or aborted")
	}
	o.done = true
	if o.path == "" {
		return nil
	}
	tmp := o.File.Name()
	err := o.File.Sync()
	if cerr := o.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if o.force {
			err = os.Rename(tmp, o.path)
		} else if err = os.Link(tmp, o.path); err == nil {
			// Link fails if the name appeared meanwhile: no overwrite.
			err = os.Remove(tmp)
			tmp = ""
		} else if errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%s: %w", o.path, ErrExists)
		}
	}
	if err != nil && tmp != "" {
		os.Remove(tmp)
	}
	return err
}

// Abort discards the output: the temporary file is removed and the path
// is left as it was. It does nothing after Commit, so it can be deferred.
func (o *Output) Abort() {
	if o.done {
		return
	}
	o.done = true
	if o.path != "" {
		o.File.Close()
		os.Remove(o.File.Name())
	}
}
