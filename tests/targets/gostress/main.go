// gostress: a Go program that does, deterministically, the things a tracer of Go
// programs could break, and prints what it computed. Its output depends only on its
// flags (counts and checksums, never timings), so a run under a tracer must print
// exactly what an untraced run prints, and exit the same way.
//
// Each round does, one after the other:
//
//   - recursion: workers recurse deep with big frames, so their stacks grow
//     (copystack) several times, starting goroutines from deep down and hashing
//     the function names runtime.Callers sees at the bottom; between rounds they
//     park and runtime.GC() shrinks their stacks, then they grow them again.
//   - goroutines: thousands made and ended in batches, some making more.
//   - gc: linked garbage, maps and slices, a kept live set, finalizers, forced GCs
//     and debug.FreeOSMemory.
//   - cgo: plain C calls; C calling back into Go on the goroutine's thread, from
//     threads Go did not make (pthread_create in C), and recursion alternating
//     Go and C frames with Go stack growth inside callbacks; goroutines blocked
//     in C while the runtime hands their Ps away.
//   - signals: SIGUSR1 sent to itself and received with os/signal, one at a time
//     (a handshake, so the count is exact) while other goroutines are busy in C
//     and in Go; SIGURG (what the runtime preempts with) besides; timers and a
//     ticker.
//   - locked: goroutines that LockOSThread, call C, and end locked (the runtime
//     ends their thread) or unlock.
//   - panics: panics deep in recursion recovered at the top, runtime errors
//     among them, every defer counted; a goroutine that panics and recovers.
//   - mutex: contended sync.Mutex and channels.
//
// Flags: -rounds N (default 1; 0 = until SIGTERM, then exit 0), -scale F (work
// size), -status FILE (write "ready 1" there, then wait for SIGUSR1 before any
// work; "rounds N" after each round), -gap MS (pause MS milliseconds after each
// round), -exec PATH [-- ARG...] (after the first round, exec PATH with the
// arguments after --). Output: one line per round, then "gostress: checksum 0x..."
// and "exit 0".
package main

/*
#cgo CFLAGS: -O2 -fno-omit-frame-pointer
#include "stress.h"
*/
import "C"

import (
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	scale      = flag.Float64("scale", 1, "work size")
	rounds     = flag.Int("rounds", 1, "rounds of work (0: until SIGTERM)")
	statusPath = flag.String("status", "", "status file; with it, wait for SIGUSR1 before working")
	execPath   = flag.String("exec", "", "after the first round, exec this program with the remaining arguments")
	gap        = flag.Int("gap", 0, "milliseconds to pause after each round (a long-running target that leaves the CPU to others)")

	usr1 = make(chan os.Signal, 1)
	urg  = make(chan os.Signal, 1)
	term = make(chan os.Signal, 1)
)

func n(base int) int {
	v := int(float64(base) * *scale)
	if v < 1 {
		v = 1
	}
	return v
}

func mix(x uint64) uint64 {
	x ^= x >> 31
	x *= 0x9e3779b97f4a7c15
	x ^= x >> 29
	return x
}

func writeStatus(lines ...string) {
	if *statusPath == "" {
		return
	}
	tmp := *statusPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		panic(err)
	}
	if err := os.Rename(tmp, *statusPath); err != nil {
		panic(err)
	}
}

// ---- cgo callbacks ----

//export goAdd
func goAdd(i, k C.int) C.uint64_t {
	b := make([]byte, 16+int(i)%48) // a little garbage made inside a callback
	b[0] = byte(i)
	return C.uint64_t(uint64(i)*uint64(k) + uint64(len(b)) + uint64(b[0]))
}

//go:noinline
func touch(b []byte, i int) uint64 {
	b[i%len(b)] = byte(i)
	return uint64(b[(i*7)%len(b)])
}

//export goRecurse
func goRecurse(depth C.int) C.uint64_t {
	var pad [1024]byte // a big frame: the goroutine's stack grows inside the callback
	s := touch(pad[:], int(depth))
	return C.uint64_t(s) + C.c_recurse(depth)
}

// ---- recursion and stack growth ----

//go:noinline
func framesHash() uint64 {
	pcs := make([]uintptr, 64)
	k := runtime.Callers(1, pcs)
	frames := runtime.CallersFrames(pcs[:k])
	h := fnv.New64a()
	for {
		f, more := frames.Next()
		h.Write([]byte(f.Function))
		if !more {
			break
		}
	}
	return h.Sum64() + uint64(k)
}

//go:noinline
func leafWorker(depth int, wg *sync.WaitGroup, acc *uint64) {
	defer wg.Done()
	b := make([]uint64, 8+depth%32)
	for i := range b {
		b[i] = uint64(depth + i)
	}
	atomic.AddUint64(acc, b[len(b)-1]*3+uint64(len(b)))
}

//go:noinline
func deep(d, spawnEvery int, wg *sync.WaitGroup, acc *uint64) uint64 {
	var frame [256]byte
	frame[d%256] = byte(d)
	if d == 0 {
		return framesHash() + uint64(frame[0])
	}
	if d%spawnEvery == 0 {
		wg.Add(1)
		go leafWorker(d, wg, acc) // created from deep in a big stack
	}
	return deep(d-1, spawnEvery, wg, acc)*31 + touch(frame[:], d)
}

func recursion() string {
	workers, rr, depth := 6, 4, n(1500)
	start := make([]chan struct{}, workers)
	results := make(chan uint64)
	var wg, leaves sync.WaitGroup
	var acc, sum uint64
	for w := 0; w < workers; w++ {
		start[w] = make(chan struct{})
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rr; r++ {
				<-start[w] // parked with a shrinkable stack meanwhile
				results <- deep(depth+w*37+r, 100, &leaves, &acc)
			}
		}(w)
	}
	for r := 0; r < rr; r++ {
		for w := 0; w < workers; w++ {
			start[w] <- struct{}{}
		}
		for w := 0; w < workers; w++ {
			sum += <-results
		}
		// Every worker is parked again, far below its stack's size: GC shrinks them.
		runtime.GC()
		runtime.GC()
	}
	wg.Wait()
	leaves.Wait()
	return fmt.Sprintf("recursion %x leaves %x", sum, acc)
}

// ---- goroutines made and ended ----

func goroutines() string {
	total, batch := n(20000), 500
	var sum uint64
	var made int64
	for done := 0; done < total; done += batch {
		var wg sync.WaitGroup
		for i := 0; i < batch; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				b := make([]byte, 64+i%512)
				b[len(b)-1] = byte(i)
				if i%10 == 0 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						atomic.AddUint64(&sum, mix(uint64(i)))
						atomic.AddInt64(&made, 1)
					}()
				}
				atomic.AddUint64(&sum, uint64(b[len(b)-1])+uint64(len(b)))
				atomic.AddInt64(&made, 1)
			}(done + i)
		}
		wg.Wait()
	}
	return fmt.Sprintf("goroutines %d %x", made, sum)
}

// ---- GC pressure ----

type node struct {
	next *node
	val  uint64
	pad  [40]byte
}

type finalized struct {
	p   *int
	pad [56]byte
}

func gcPressure() string {
	iters, nfin := n(200), 200
	var live []*node
	var garbage uint64
	for it := 0; it < iters; it++ {
		var head *node
		for i := 0; i < 500; i++ {
			head = &node{next: head, val: uint64(it*500 + i)}
		}
		if it%10 == 0 {
			live = append(live, head)
		}
		m := make(map[int][]byte, 64)
		for i := 0; i < 64; i++ {
			m[i] = make([]byte, 32+i)
		}
		garbage += uint64(len(m[it%64]))
		if it%50 == 49 {
			runtime.GC()
		}
	}
	var fins int64
	func() {
		for i := 0; i < nfin; i++ {
			f := &finalized{p: new(int)}
			runtime.SetFinalizer(f, func(*finalized) { atomic.AddInt64(&fins, 1) })
		}
	}()
	for try := 0; try < 2000 && atomic.LoadInt64(&fins) < int64(nfin); try++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	debug.FreeOSMemory()
	var sum uint64
	for _, h := range live {
		for p := h; p != nil; p = p.next {
			sum += mix(p.val)
		}
	}
	return fmt.Sprintf("gc live %x garbage %d finalizers %d", sum, garbage, atomic.LoadInt64(&fins))
}

// ---- cgo ----

func cgo() string {
	calls := n(50000)
	var s uint64
	for i := 0; i < calls; i++ {
		s += uint64(C.c_mix(C.uint64_t(i)))
	}
	cb := uint64(C.c_callback_loop(C.int(n(2000))))
	th := uint64(C.c_thread_callbacks(4, C.int(n(200))))
	rec := uint64(goRecurse(40))
	// Goroutines blocked in C: sysmon takes their Ps and the runtime starts threads.
	var wg sync.WaitGroup
	var blocked uint64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			C.c_sleep_us(3000)
			atomic.AddUint64(&blocked, uint64(C.c_mix(C.uint64_t(g))))
		}(g)
	}
	wg.Wait()
	return fmt.Sprintf("cgo calls %d %x callbacks %x threads %x recurse %x blocked %x", calls, s, cb, th, rec, blocked)
}

// ---- signals and timers ----

func signals() string {
	sends := n(100)
	pid := syscall.Getpid()
	stop := make(chan struct{})
	var bg sync.WaitGroup
	var busy uint64
	// Busy goroutines, in C (calling back into Go) and in Go, while signals arrive.
	for g := 0; g < 2; g++ {
		bg.Add(1)
		go func(g int) {
			defer bg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if g == 0 {
					C.c_callback_loop(50)
				} else {
					x := uint64(0)
					for i := 0; i < 2000; i++ {
						x = mix(x + uint64(i))
					}
					atomic.AddUint64(&busy, x&1)
				}
				runtime.Gosched() // let the signal's receiver run
			}
		}(g)
	}
	got := 0
	for i := 0; i < sends; i++ {
		if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
			panic(err)
		}
		<-usr1
		got++
		if i%8 == 0 {
			syscall.Kill(pid, syscall.SIGURG) // may merge with the runtime's own: not counted
		}
	}
	close(stop)
	bg.Wait()

	var fired int64
	var twg sync.WaitGroup
	for i := 0; i < n(300); i++ {
		twg.Add(1)
		time.AfterFunc(time.Duration(i%5)*time.Millisecond, func() {
			atomic.AddInt64(&fired, 1)
			twg.Done()
		})
	}
	twg.Wait()
	tk := time.NewTicker(500 * time.Microsecond)
	ticks := 0
	for ticks < 20 {
		<-tk.C
		ticks++
	}
	tk.Stop()
	return fmt.Sprintf("signals usr1 %d timers %d ticks %d", got, fired, ticks)
}

// ---- LockOSThread ----

func locked() string {
	var wg sync.WaitGroup
	var s uint64
	k := 24
	for i := 0; i < k; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread()
			atomic.AddUint64(&s, uint64(C.c_mix(C.uint64_t(i))))
			if i%2 == 0 {
				runtime.UnlockOSThread()
			} // else it ends locked: the runtime ends its thread
		}(i)
	}
	wg.Wait()
	return fmt.Sprintf("locked %d %x", k, s)
}

// ---- panics ----

var defers int64

//go:noinline
func panicky(d, v int) int {
	var pad [64]byte
	defer func() { atomic.AddInt64(&defers, 1) }()
	if d == 0 {
		if v%3 == 0 {
			var m map[int]int
			m[v] = 1 // a runtime error
		}
		if v%3 == 1 {
			panic(errors.New("e"))
		}
		panic(v)
	}
	return panicky(d-1, v) + int(touch(pad[:], d))
}

func panics() string {
	k := n(600)
	var rec uint64
	atomic.StoreInt64(&defers, 0)
	for i := 0; i < k; i++ {
		func() {
			defer func() {
				switch x := recover().(type) {
				case int:
					rec += uint64(x)
				case runtime.Error:
					rec += 1000003
				case error:
					rec += 7
				}
			}()
			panicky(30, i)
		}()
	}
	done := make(chan uint64)
	go func() {
		defer func() { done <- uint64(recover().(int)) }()
		panicky(200, 2)
	}()
	rec += <-done
	return fmt.Sprintf("panics %d recovered %x defers %d", k+1, rec, atomic.LoadInt64(&defers))
}

// ---- mutex and channels ----

func contention() string {
	var mu sync.Mutex
	var wg sync.WaitGroup
	count := 0
	ch := make(chan int, 16)
	var recv uint64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < n(5000); i++ {
				mu.Lock()
				count++
				mu.Unlock()
				if i%50 == 0 {
					ch <- g*100000 + i
				}
			}
		}(g)
	}
	go func() { wg.Wait(); close(ch) }()
	for v := range ch {
		recv += mix(uint64(v))
	}
	return fmt.Sprintf("mutex %d chan %x", count, recv)
}

func round() (string, uint64) {
	steps := []func() string{recursion, goroutines, gcPressure, cgo, signals, locked, panics, contention}
	parts := make([]string, len(steps))
	for i, step := range steps {
		t0 := time.Now()
		parts[i] = step()
		if os.Getenv("GOSTRESS_TIMES") != "" { // on stderr: timings are never part of the output
			fmt.Fprintf(os.Stderr, "gostress: %s took %v\n", strings.Fields(parts[i])[0], time.Since(t0))
		}
	}
	line := strings.Join(parts, " | ")
	h := fnv.New64a()
	h.Write([]byte(line))
	return line, h.Sum64()
}

func main() {
	flag.Parse()
	signal.Notify(usr1, syscall.SIGUSR1)
	signal.Notify(urg, syscall.SIGURG)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		for range urg {
		}
	}()
	if *statusPath != "" {
		writeStatus("ready 1", "rounds 0")
		<-usr1
	}
	var total uint64
	for r := 1; *rounds == 0 || r <= *rounds; r++ {
		line, sum := round()
		fmt.Printf("round %d: %s\n", r, line)
		fmt.Printf("round %d checksum %016x\n", r, sum)
		total = mix(total ^ sum)
		writeStatus("ready 1", fmt.Sprintf("rounds %d", r))
		time.Sleep(time.Duration(*gap) * time.Millisecond)
		if *execPath != "" {
			os.Stdout.Sync()
			err := syscall.Exec(*execPath, append([]string{*execPath}, flag.Args()...), os.Environ())
			fmt.Fprintf(os.Stderr, "gostress: exec %s: %v\n", *execPath, err)
			os.Exit(126)
		}
		if *rounds == 0 {
			select {
			case <-term:
				fmt.Printf("gostress: stopped after %d rounds\n", r)
				fmt.Printf("exit 0\n")
				return
			default:
			}
		}
	}
	fmt.Printf("gostress: checksum %016x\n", total)
	fmt.Printf("exit 0\n")
}
