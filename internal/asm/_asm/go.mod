module github.com/go-keylocker/keylocker/internal/asm/_asm

go 1.26.0

require github.com/go-keylocker/keylocker v0.0.0

require golang.org/x/sync v0.24.0 // indirect

require (
	github.com/mmcloughlin/avo v0.6.0
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)

replace github.com/go-keylocker/keylocker => ../../..
