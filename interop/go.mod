module github.com/go-keylocker/keylocker/interop

go 1.26.0

replace github.com/go-keylocker/keylocker => ..

require (
	github.com/go-keylocker/keylocker v0.0.0-00010101000000-000000000000
	github.com/tink-crypto/tink-go/v2 v2.9.0
)

require (
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)
