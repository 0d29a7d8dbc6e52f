// gothreads: a Go program that makes the runtime start OS threads for known
// reasons, beside goroutines that need none.
//
//   - blocked in a system call: main.blockInSyscalls starts goroutines that each
//     block in read(2) on a pipe nobody writes to, through syscall.Read, so each
//     holds an OS thread and the runtime starts new ones (runtime.newm) to keep
//     running Go code. -pre N at start-up, -post M more on SIGUSR1.
//   - locked: on SIGUSR1, main.lockThreads starts -locked K goroutines that call
//     runtime.LockOSThread and wait forever, each keeping its thread.
//   - -churn goroutines a second that sleep briefly and exit (they need no thread).
//
// Every 50ms it writes its own counters to -status (atomically, by rename):
//
//	ready 1
//	blocked_pre 10
//	blocked_post 20
//	locked 4
//	threads 45          (entries in /proc/self/task)
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
	blockedPre, blockedPost, locked int64
	never                           = make(chan struct{})
	pipes                           [][2]int
)

//go:noinline
func readForever(fd int) {
	var b [1]byte
	syscall.Read(fd, b[:])
	panic("gothreads: read returned")
}

//go:noinline
func blockInSyscalls(n int, counter *int64) {
	for i := 0; i < n; i++ {
		var p [2]int
		if err := syscall.Pipe(p[:]); err != nil {
			panic(err)
		}
		pipes = append(pipes, p) // the write ends stay open: reads never return
		go readForever(p[0])
		atomic.AddInt64(counter, 1)
	}
}

//go:noinline
func lockedWait() {
	runtime.LockOSThread()
	atomic.AddInt64(&locked, 1)
	<-never
}

//go:noinline
func lockThreads(n int) {
	for i := 0; i < n; i++ {
		go lockedWait()
	}
}

//go:noinline
func churn(perSecond int) {
	for perSecond > 0 {
		for i := 0; i < 10; i++ {
			go time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Second / time.Duration(perSecond))
	}
}

func countThreads() int {
	d, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	return len(d)
}

func writeStatus(path string) {
	if path == "" {
		return
	}
	s := fmt.Sprintf("ready 1\nblocked_pre %d\nblocked_post %d\nlocked %d\nthreads %d\n",
		atomic.LoadInt64(&blockedPre), atomic.LoadInt64(&blockedPost),
		atomic.LoadInt64(&locked), countThreads())
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o644); err == nil {
		os.Rename(tmp, path)
	}
}

func main() {
	pre := flag.Int("pre", 10, "goroutines blocked in read(2) at start-up")
	post := flag.Int("post", 20, "goroutines blocked in read(2) after SIGUSR1")
	lock := flag.Int("locked", 4, "goroutines locked to their thread after SIGUSR1")
	churnRate := flag.Int("churn", 200, "short-lived goroutines per second")
	duration := flag.Duration("duration", 60*time.Second, "exit after this long")
	status := flag.String("status", "", "file to write counters to")
	flag.Parse()

	blockInSyscalls(*pre, &blockedPre)
	go churn(*churnRate)

	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-usr1
		blockInSyscalls(*post, &blockedPost)
		lockThreads(*lock)
	}()

	deadline := time.After(*duration)
	tick := time.NewTicker(50 * time.Millisecond)
	for {
		writeStatus(*status)
		select {
		case <-tick.C:
		case <-deadline:
			writeStatus(*status)
			fmt.Println("gothreads: done")
			return
		case <-term:
			writeStatus(*status)
			fmt.Println("gothreads: terminated")
			return
		}
	}
}
