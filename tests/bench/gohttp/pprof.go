//go:build pprof

package main

// Linking net/http/pprof keeps the runtime's heap sampling on (and serves the
// profiles on the same mux, as many services do).
import _ "net/http/pprof"
