//go:build pprof

package main

// Linking net/http/pprof keeps the runtime's heap sampling on (MemProfileRate
// 512 KiB); nothing is served.
import _ "net/http/pprof"
