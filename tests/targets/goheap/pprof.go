//go:build pprof

package main

import (
	"net"
	"net/http"
	_ "net/http/pprof"
	"runtime"
)

func init() {
	// Finer sampling than the default 512 KiB, set before anything is allocated, so
	// the test's leak is well represented in the profile.
	runtime.MemProfileRate = 64 * 1024
	setup = func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		pprofAddr = ln.Addr().String()
		go http.Serve(ln, nil)
	}
}
