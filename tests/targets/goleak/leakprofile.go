//go:build leakprofile && go1.27

package main

import (
	"io"
	"runtime/pprof"
)

// takeLeakProfile runs the GC that proves goroutines leaked (Go 1.27's goroutine
// leak profile): those it proves get the runtime's "leaked" status.
func takeLeakProfile() bool {
	p := pprof.Lookup("goroutineleak")
	if p == nil {
		return false
	}
	return p.WriteTo(io.Discard, 0) == nil
}
