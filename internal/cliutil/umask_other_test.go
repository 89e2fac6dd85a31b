//go:build !unix

package cliutil

import "os"

func umask() os.FileMode { return 0 }
