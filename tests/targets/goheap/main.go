// goheap: a Go program with a known heap leak beside steady garbage.
//
//   - leak: main.leakSessions -> main.newSession keeps a *session with a 1 KiB
//     buffer in a global map, forever: -leak of them at -rate per second, after
//     SIGUSR1 (-pre of them at start-up, before a tracer attaches).
//   - garbage: main.churnGarbage allocates 4 KiB buffers and drops them, steadily.
//   - runtime.GC() every -gc-every, so the heap profile (current as of the last GC)
//     and the live heap after GC move with the program.
//
// Built with -tags pprof it also serves net/http/pprof on 127.0.0.1 (heap
// profiling on); without, the Go linker turns heap profiling off. Every 50ms it
// writes its own counters to -status:
//
//	ready 1
//	phase idle|leaking|done
//	leaked 20500
//	pprof_addr 127.0.0.1:40123 (pprof builds)
//	numgc 57
//	heap_alloc 23456789
//	heap_objects 45678
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type session struct {
	id  int
	buf []byte
}

var (
	mu       sync.Mutex
	sessions = map[int]*session{}
	leaked   int64
	phase    atomic.Value
	sink     atomic.Value
	// Set by pprof.go in pprof builds.
	pprofAddr = ""
	setup     = func() {}
)

//go:noinline
func newSession(id int) *session {
	s := &session{id: id, buf: make([]byte, 1024)}
	s.buf[0] = byte(id)
	return s
}

//go:noinline
func leakSessions(n, rate int) {
	start := time.Now()
	for i := 0; i < n; i++ {
		if rate > 0 {
			due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		id := int(atomic.AddInt64(&leaked, 1))
		s := newSession(id)
		mu.Lock()
		sessions[id] = s
		mu.Unlock()
	}
}

//go:noinline
func churnGarbage(perSecond int) {
	if perSecond <= 0 {
		return
	}
	for {
		for i := 0; i < perSecond/100; i++ {
			b := make([]byte, 4096)
			b[0] = byte(i)
			sink.Store(b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeStatus(path string) {
	if path == "" {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := fmt.Sprintf("ready 1\nphase %s\nleaked %d\npprof_addr %s\nnumgc %d\nheap_alloc %d\nheap_objects %d\n",
		phase.Load().(string), atomic.LoadInt64(&leaked), pprofAddr, ms.NumGC, ms.HeapAlloc, ms.HeapObjects)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o644); err == nil {
		os.Rename(tmp, path)
	}
}

func main() {
	pre := flag.Int("pre", 500, "sessions to leak at start-up")
	leak := flag.Int("leak", 20000, "sessions to leak after SIGUSR1")
	rate := flag.Int("rate", 10000, "leak rate after SIGUSR1, per second")
	churn := flag.Int("churn", 20000, "garbage buffers per second")
	gcEvery := flag.Duration("gc-every", 100*time.Millisecond, "force a GC this often (0: never)")
	duration := flag.Duration("duration", 60*time.Second, "exit after this long")
	status := flag.String("status", "", "file to write counters to")
	flag.Parse()

	phase.Store("idle")
	setup()
	leakSessions(*pre, 0)
	go churnGarbage(*churn)
	if *gcEvery > 0 {
		go func() {
			for range time.Tick(*gcEvery) {
				runtime.GC()
			}
		}()
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-usr1
		phase.Store("leaking")
		leakSessions(*leak, *rate)
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
			fmt.Println("goheap: done")
			return
		case <-term:
			writeStatus(*status)
			fmt.Println("goheap: terminated")
			return
		}
	}
}
