// Command aeskl reports what this machine offers for AES with protected
// keys (Intel Key Locker, the sealed AES-NI fallback) and which
// implementation the aeskl package chooses.
//
//	aeskl info [--json]
//	aeskl bench [--size N] [--time D] [--json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/klauspost/cpuid/v2"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage: aeskl info [--json]\n       aeskl bench [--size N] [--time D] [--json]\n\n"+
		"info   print what the CPU and OS support (Key Locker, AES-NI, VAES...),\n"+
		"       which implementation aeskl.New chooses per key size, and why.\n"+
		"bench  measure every implementation that runs here against crypto/aes\n"+
		"       (one block, CTR, GCM, CBC decryption, XTS), a few seconds.\n")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "info":
		fs := flag.NewFlagSet("info", flag.ExitOnError)
		asJSON := fs.Bool("json", false, "print JSON")
		fs.Parse(os.Args[2:])
		if fs.NArg() != 0 {
			usage()
		}
		s := aeskl.Detect()
		if *asJSON {
			e := json.NewEncoder(os.Stdout)
			e.SetIndent("", "  ")
			if err := e.Encode(s); err != nil {
				fmt.Fprintln(os.Stderr, "aeskl:", err)
				os.Exit(1)
			}
			return
		}
		fmt.Printf("CPU:                %s (%s)\n", cpuid.CPU.BrandName, cpuid.CPU.VendorString)
		fmt.Print(s)
	case "bench":
		runBench(os.Args[2:])
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "aeskl: unknown command %q\n", os.Args[1])
		usage()
	}
}
