package benchcmd

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/go-keylocker/keylocker/aeskl"
)

// Host describes the machine a report was measured on.
type Host struct {
	CPUModel    string `json:"cpu_model"`            // /proc/cpuinfo "model name", else the CPUID brand string
	CPUVendor   string `json:"cpu_vendor"`           // CPUID vendor (GenuineIntel, AuthenticAMD)
	CPUFamily   *int   `json:"cpu_family"`           // /proc/cpuinfo "cpu family"; null where not readable
	CPUModelNum *int   `json:"cpu_model_number"`     // /proc/cpuinfo "model"
	CPUStepping *int   `json:"cpu_stepping"`         // /proc/cpuinfo "stepping"
	Microcode   string `json:"microcode,omitempty"`  // /proc/cpuinfo "microcode"; absent where not readable
	LogicalCPUs int    `json:"logical_cpus"`         // runtime.NumCPU
	OS          string `json:"os"`                   // GOOS
	OSRelease   string `json:"os_release,omitempty"` // kernel release (Linux: /proc/sys/kernel/osrelease)
	OSName      string `json:"os_name,omitempty"`    // PRETTY_NAME of /etc/os-release
	Arch        string `json:"arch"`                 // GOARCH
}

// readHost gathers Host, reading the Linux files where they exist.
func readHost(s aeskl.Support) Host {
	h := Host{CPUModel: s.CPUName, CPUVendor: s.CPUVendor, LogicalCPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		parseCPUInfo(f, &h)
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.OSRelease = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/etc/os-release"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
				h.OSName = strings.Trim(v, `"'`)
			}
		}
		f.Close()
	}
	return h
}

// parseCPUInfo reads the first processor's entry of /proc/cpuinfo.
func parseCPUInfo(r io.Reader, h *Host) {
	num := func(v string) *int {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil
		}
		return &n
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			break // end of the first processor
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name":
			h.CPUModel = v
		case "microcode":
			h.Microcode = v
		case "cpu family":
			h.CPUFamily = num(v)
		case "model":
			h.CPUModelNum = num(v)
		case "stepping":
			h.CPUStepping = num(v)
		}
	}
}
