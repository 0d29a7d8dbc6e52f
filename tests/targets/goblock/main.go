// goblock: goroutines blocked for good, one go statement per way to block, for the
// goroutine dump (tests/cases/godump.sh). -pre N of each kind are started at
// start-up, before a tracer attaches, -post N more on SIGUSR1. The program serves
// its own /debug/pprof (the test's ground truth) and writes to -status:
//
//	ready 1
//	phase idle|done
//	pprof_addr 127.0.0.1:PORT
//	gc_unix_ns N   (when the first forced GC's marking ended, after the post leak)
//
// The GC is off but for two forced cycles after the post leak: the runtime stamps a
// blocked goroutine's waitsince with the time the previous cycle ended, so after
// them every goroutine here has been "blocked since gc_unix_ns" (to a few ms).
// -spin N adds N goroutines that never block, on one P: a run-queue backlog, to be
// shown as runnable, not as blocked.
//
// The go statements are of every form whose start function is easy to get wrong:
// plain calls, a closure with arguments and captured variables, an interface method,
// a func value, a small method the compiler may inline into its go wrapper.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

var (
	sendCh, recvCh = make(chan int), make(chan int)
	selA, selB     = make(chan int), make(chan int)
	wg             sync.WaitGroup
	mu             sync.Mutex
	condMu         sync.Mutex
	cond           = sync.NewCond(&condMu)
	blocked        = make(chan struct{})
)

//go:noinline
func sendForever(ch chan int) { ch <- 1 }

//go:noinline
func recvForever(ch chan int) { <-ch }

//go:noinline
func waitForever(w *sync.WaitGroup) { w.Wait() }

//go:noinline
func lockForever(m *sync.Mutex) {
	m.Lock()
	m.Unlock()
}

//go:noinline
func condForever(c *sync.Cond) {
	c.L.Lock()
	for {
		c.Wait()
	}
}

//go:noinline
func nilChanForever() {
	var c chan int
	<-c
}

//go:noinline
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

type runner interface{ Run(stop chan struct{}) }

type worker struct{ id int }

//go:noinline
func (w *worker) Run(stop chan struct{}) { <-stop }

type cache struct{ ch chan struct{} }

// Small enough for the compiler to inline into its go wrapper.
func (c *cache) wait() { <-c.ch }

//go:noinline
func blockFunc(ch chan struct{}) { <-ch }

var spins int64

//go:noinline
func spinForever() {
	for {
		spins++
	}
}

//go:noinline
func startKinds(n int) {
	var r runner = &worker{1}
	f := blockFunc
	c := &cache{blocked}
	for i := 0; i < n; i++ {
		go sendForever(sendCh)
		go recvForever(recvCh)
		go func(a, b chan int) { // a closure with arguments and a captured variable
			select {
			case <-a:
			case <-b:
			case <-c.ch:
			}
		}(selA, selB)
		go func() { select {} }()
		go waitForever(&wg)
		go lockForever(&mu)
		go condForever(cond)
		go nilChanForever()
		go sleepForever()
		go r.Run(blocked)
		go f(blocked)
		go c.wait()
	}
}

func main() {
	pre := flag.Int("pre", 20, "goroutines of each kind at start-up")
	post := flag.Int("post", 30, "goroutines of each kind on SIGUSR1")
	duration := flag.Duration("duration", 60*time.Second, "exit after this long")
	status := flag.String("status", "", "file to write counters to")
	spin := flag.Int("spin", 0, "goroutines that spin forever, on GOMAXPROCS=1")
	flag.Parse()

	debug.SetGCPercent(-1)
	if *spin > 0 {
		runtime.GOMAXPROCS(1)
		for i := 0; i < *spin; i++ {
			go spinForever()
		}
	}

	wg.Add(1)
	mu.Lock() // held for good
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go http.Serve(ln, nil)
	phase, gcAt := "idle", int64(0)
	write := func() {
		if *status == "" {
			return
		}
		s := fmt.Sprintf("ready 1\nphase %s\npprof_addr %s\ngc_unix_ns %d\n", phase,
			ln.Addr().String(), gcAt)
		os.WriteFile(*status+".tmp", []byte(s), 0o644)
		os.Rename(*status+".tmp", *status)
	}
	startKinds(*pre)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	deadline := time.After(*duration)
	tick := time.NewTicker(50 * time.Millisecond)
	for {
		write()
		select {
		case <-usr1:
			startKinds(*post)
			time.Sleep(100 * time.Millisecond)
			// The first cycle sets the time the second stamps on every waiting g.
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			gcAt = int64(ms.LastGC) // its mark termination (sweeping after it can be slow)
			runtime.GC()
			phase = "done"
		case <-tick.C:
		case <-deadline:
			return
		case <-term:
			return
		}
	}
}
