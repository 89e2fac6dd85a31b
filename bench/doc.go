// Package bench holds the project's benchmarks: every aeskl implementation
// that can run here against crypto/aes (and, for the modes, against
// golang.org/x/crypto/xts), in one run so that ratios are meaningful.
//
//	go test -run '^$' -bench . -count 6 ./bench | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest new.txt
//
// BenchmarkRawAES (amd64) is the CPU's raw AES rate per register width in
// the same run: the ceiling of every mode, so RawAES over crypto/aes's
// CTR bounds the ratio any mode can reach against crypto/aes here.
//
// Key Locker implementations only run on a CPU with usable Key Locker
// (under klemu they would measure the emulator, so they are skipped there).
package bench
