//go:build pprof

package main

// On the server's own mux, as many services have it.
import _ "net/http/pprof"
