// gothreads-cgo: a cgo program whose OS threads come from two places. The Go
// runtime starts Ms for goroutines blocked in read(2) (main.blockInSyscalls),
// which with cgo it does through pthread_create; and C code parks threads of its
// own (c_park_threads -> pthread_create), which wait forever.
//
// -pre N goroutines block at start-up; on SIGUSR1, -post M more block and C parks
// -cthreads K threads. Every 50ms it writes its counters to -status:
//
//	ready 1
//	blocked_pre 5
//	blocked_post 10
//	cthreads 6
//	threads 30          (entries in /proc/self/task)
//
// It exits 0 after -duration, or on SIGTERM.
package main

/*
#cgo CFLAGS: -O2 -fno-omit-frame-pointer
#include <pthread.h>
#include <semaphore.h>

static sem_t never;

static void *c_parked(void *arg)
{
	for (;;)
		sem_wait(&never);
	return arg;
}

__attribute__((noinline)) static int c_park_threads(int n)
{
	sem_init(&never, 0, 0);
	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, 0, c_parked, 0))
			return -1;
		pthread_detach(t);
	}
	return n;
}
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	blockedPre, blockedPost, cthreads int64
	pipes                             [][2]int
)

//go:noinline
func readForever(fd int) {
	var b [1]byte
	syscall.Read(fd, b[:])
	panic("gothreads-cgo: read returned")
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
	s := fmt.Sprintf("ready 1\nblocked_pre %d\nblocked_post %d\ncthreads %d\nthreads %d\n",
		atomic.LoadInt64(&blockedPre), atomic.LoadInt64(&blockedPost),
		atomic.LoadInt64(&cthreads), countThreads())
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o644); err == nil {
		os.Rename(tmp, path)
	}
}

func main() {
	pre := flag.Int("pre", 5, "goroutines blocked in read(2) at start-up")
	post := flag.Int("post", 10, "goroutines blocked in read(2) after SIGUSR1")
	cn := flag.Int("cthreads", 6, "threads C code parks after SIGUSR1")
	duration := flag.Duration("duration", 60*time.Second, "exit after this long")
	status := flag.String("status", "", "file to write counters to")
	flag.Parse()

	blockInSyscalls(*pre, &blockedPre)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-usr1
		blockInSyscalls(*post, &blockedPost)
		if C.c_park_threads(C.int(*cn)) != C.int(*cn) {
			panic("gothreads-cgo: pthread_create failed")
		}
		atomic.StoreInt64(&cthreads, int64(*cn))
	}()

	deadline := time.After(*duration)
	tick := time.NewTicker(50 * time.Millisecond)
	for {
		writeStatus(*status)
		select {
		case <-tick.C:
		case <-deadline:
			writeStatus(*status)
			fmt.Println("gothreads-cgo: done")
			return
		case <-term:
			writeStatus(*status)
			fmt.Println("gothreads-cgo: terminated")
			return
		}
	}
}
