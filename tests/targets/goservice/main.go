// goservice: a Go "service" that is steady, or leaks (-leak), for the suspects test
// (tests/cases/suspects.sh). Steady work: requests served by short-lived goroutines,
// garbage, a fixed pool of workers waiting for jobs. With -leak, per second: 20
// goroutines blocked for good sending a result no one reads (main.lookup.func1), and
// 400 KiB of sessions kept in a map that is never evicted (main.remember).
package main

import (
	"flag"
	"fmt"
	_ "net/http/pprof" // as in many services: the runtime then keeps its heap profile
	"os"
	"sync"
	"time"
)

type session struct {
	id   int
	data []byte
}

var (
	mu       sync.Mutex
	sessions = map[int]*session{}
	sink     []byte
)

//go:noinline
func remember(id int) {
	s := &session{id: id, data: make([]byte, 4096)}
	mu.Lock()
	sessions[id] = s
	mu.Unlock()
}

// lookup has the leak: nobody reads result once the caller gave up.
//
//go:noinline
func lookup(id int) {
	result := make(chan int)
	go func() {
		result <- id * 2
	}()
}

//go:noinline
func serve(id int, wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, 2048+id%2048)
	sink = buf
	time.Sleep(time.Millisecond)
}

func main() {
	leak := flag.Bool("leak", false, "leak goroutines and heap")
	duration := flag.Duration("duration", 60*time.Second, "exit after this long")
	status := flag.String("status", "", "file to write 'ready 1' to")
	flag.Parse()

	jobs := make(chan int)
	for i := 0; i < 8; i++ {
		go func() {
			for j := range jobs {
				sink = make([]byte, 512+j%512)
			}
		}()
	}
	if *status != "" {
		os.WriteFile(*status, []byte("ready 1\n"), 0o644)
	}
	end := time.Now().Add(*duration)
	id := 0
	for time.Now().Before(end) {
		// Ten rounds a second: 50 requests, 20 jobs, and with -leak 2 lookups that
		// leak and 10 sessions kept.
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go serve(id+i, &wg)
		}
		for i := 0; i < 20; i++ {
			jobs <- i
		}
		wg.Wait()
		if *leak {
			lookup(id)
			lookup(id + 1)
			for i := 0; i < 10; i++ {
				remember(id + i)
			}
		}
		id += 50
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Println("goservice: done")
}
