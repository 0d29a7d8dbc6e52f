// goalloc: allocation throughput, for the leakscope overhead benchmark. Allocates
// -n 96-byte objects, keeping the last 4096 alive (so the GC has work), and prints
// nanoseconds per allocation to -out. With -wait it waits for SIGUSR1 first, so a
// tracer can attach before timing. Built with -tags pprof, heap profiling is on
// (net/http/pprof linked, default MemProfileRate); without, the linker turns it off.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type obj struct {
	a, b, c, d, e, f, g, h, i, j, k, l int64
}

var keep [4096]*obj

//go:noinline
func alloc(i int) {
	o := &obj{a: int64(i)}
	keep[i&4095] = o
}

func main() {
	n := flag.Int("n", 20000000, "allocations")
	out := flag.String("out", "", "write the result here")
	wait := flag.Bool("wait", false, "wait for SIGUSR1 before starting")
	flag.Parse()
	if *wait {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR1)
		fmt.Println("ready")
		<-c
	}
	start := time.Now()
	for i := 0; i < *n; i++ {
		alloc(i)
	}
	res := fmt.Sprintf("%.2f\n", float64(time.Since(start).Nanoseconds())/float64(*n))
	if *out != "" {
		os.WriteFile(*out, []byte(res), 0o644)
	} else {
		fmt.Print(res)
	}
}
