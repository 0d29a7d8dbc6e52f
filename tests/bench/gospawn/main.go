// gospawn: how long a goroutine's life (go statement to exit) takes, for the
// leakscope overhead benchmark. Creates -n goroutines in batches of -batch, each
// returning at once, and prints nanoseconds per goroutine to -out (or stdout).
// With -wait it first waits for SIGUSR1, so a tracer can attach before timing.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

//go:noinline
func work(wg *sync.WaitGroup) { wg.Done() }

func main() {
	n := flag.Int("n", 1000000, "goroutines to create")
	batch := flag.Int("batch", 1000, "goroutines in flight per batch")
	out := flag.String("out", "", "write the result here")
	wait := flag.Bool("wait", false, "wait for SIGUSR1 before starting")
	flag.Parse()
	if *wait {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR1)
		fmt.Println("ready")
		<-c
	}
	var wg sync.WaitGroup
	start := time.Now()
	for done := 0; done < *n; done += *batch {
		wg.Add(*batch)
		for i := 0; i < *batch; i++ {
			go work(&wg)
		}
		wg.Wait()
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(*n)
	res := fmt.Sprintf("%.1f\n", ns)
	if *out != "" {
		os.WriteFile(*out, []byte(res), 0o644)
	} else {
		fmt.Print(res)
	}
}
