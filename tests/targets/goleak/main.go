// goleak: a Go program with a known goroutine leak beside a known non-leak.
//
//   - leak site: main.leakLoop -> main.spawnLeaker runs `go blockForever(ch)`;
//     each such goroutine waits on a channel nobody ever sends on.
//     -pre N leak N of them at start-up (before a tracer attaches); on SIGUSR1
//     it leaks -leak more at -rate per second.
//   - steady site: main.churnLoop runs `go churnWorker(...)` -churn times a second;
//     each worker sleeps ~1ms and exits.
//
// -unreachable: each leaked goroutine waits on a channel only it holds, so the GC of a
// goroutine leak profile (Go 1.27) can prove it leaked; -leakprofile takes that profile
// once the leak is done (built with -tags leakprofile and Go 1.27 or later; the
// status says leak_profile 1 when it was taken).
//
// Every 50ms it writes its own counters to -status (atomically, by rename):
//
//	ready 1
//	phase idle|leaking|done
//	leaked_pre 500
//	leaked_post 2500
//	churn_started 12345
//	churn_finished 12340
//	numgoroutine 3012
//
// It exits 0 after -duration, or on SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	leakedPre, leakedPost         int64
	churnStarted, churnFinished   int64
	phase                         atomic.Value
	never                         = make(chan struct{})
	unreachable                   bool
	leakProfile                   atomic.Int32
)

//go:noinline
func blockForever(ch chan struct{}) {
	<-ch
}

//go:noinline
func spawnLeaker(counter *int64) {
	if unreachable {
		go blockForever(make(chan struct{}))
	} else {
		go blockForever(never)
	}
	atomic.AddInt64(counter, 1)
}

//go:noinline
func leakLoop(n int, rate int, counter *int64) {
	start := time.Now()
	for i := 0; i < n; i++ {
		if rate > 0 {
			// Pace against the clock so the rate holds even if sleeps overshoot.
			due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		spawnLeaker(counter)
	}
}

//go:noinline
func churnWorker(d time.Duration) {
	time.Sleep(d)
	atomic.AddInt64(&churnFinished, 1)
}

//go:noinline
func churnLoop(perSecond int) {
	if perSecond <= 0 {
		return
	}
	tick := time.Second / time.Duration(perSecond) * 10
	for {
		for i := 0; i < 10; i++ {
			atomic.AddInt64(&churnStarted, 1)
			go churnWorker(time.Millisecond)
		}
		time.Sleep(tick)
	}
}

func writeStatus(path string) {
	if path == "" {
		return
	}
	s := fmt.Sprintf("ready 1\nphase %s\nleaked_pre %d\nleaked_post %d\nchurn_started %d\nchurn_finished %d\nnumgoroutine %d\nleak_profile %d\n",
		phase.Load().(string), atomic.LoadInt64(&leakedPre), atomic.LoadInt64(&leakedPost),
		atomic.LoadInt64(&churnStarted), atomic.LoadInt64(&churnFinished), runtime.NumGoroutine(),
		leakProfile.Load())
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o644); err == nil {
		os.Rename(tmp, path)
	}
}

func main() {
	pre := flag.Int("pre", 500, "goroutines to leak at start-up")
	leak := flag.Int("leak", 2500, "goroutines to leak after SIGUSR1")
	rate := flag.Int("rate", 1000, "leak rate after SIGUSR1, per second")
	churn := flag.Int("churn", 2000, "short-lived goroutines per second")
	duration := flag.Duration("duration", 60*time.Second, "exit after this long")
	status := flag.String("status", "", "file to write counters to")
	flag.BoolVar(&unreachable, "unreachable", false, "leaked goroutines wait on channels only they hold")
	takeProfile := flag.Bool("leakprofile", false, "take the goroutine leak profile once the leak is done")
	flag.Parse()

	phase.Store("idle")
	leakLoop(*pre, 0, &leakedPre)
	go churnLoop(*churn)

	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-usr1
		phase.Store("leaking")
		leakLoop(*leak, *rate, &leakedPost)
		if *takeProfile && takeLeakProfile() {
			leakProfile.Store(1)
		}
		phase.Store("done")
	}()

	deadline := time.After(*duration)
	tick := time.NewTicker(50 * time.Millisecond)
	for {
		writeStatus(*status)
		select {
		case <-tick.C:
		case <-deadline:
			writeStatus(*status)
			fmt.Println("goleak: done")
			return
		case <-term:
			writeStatus(*status)
			fmt.Println("goleak: terminated")
			return
		}
	}
}
