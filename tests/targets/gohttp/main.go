// gohttp: a steady HTTP service under steady load, for tests/cases/steady.sh. A
// net/http server on 127.0.0.1 (one goroutine per connection, net/http's own
// (*conn).serve) and, in the same program, a load generator making -load requests
// a second, each on a connection of its own (keep-alives off, as behind some
// proxies): every request is a go statement in the server and a few in the client's
// transport. The handlers do a little work (a JSON body, a checksum, a response of
// a few KiB, -latency waiting on a pretend backend, give or take half) and keep
// nothing: the live heap and the goroutine counts stay flat however long it runs.
// With -keep N every request leaks N bytes (the contrast: a heap that does grow).
// With -idle the load starts on SIGUSR1 (a tracer attached to an idle server sees
// every row born). Built with -tags pprof it serves net/http/pprof too (the runtime
// then keeps its heap profile); without, the Go linker switches heap profiling off.
// Writes to -status:
//
//	ready 1
//	addr 127.0.0.1:PORT
//	served N     (requests answered so far)
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	served  int64
	latency time.Duration // what a backend call would take
	keep    int           // -keep: bytes each request leaves behind for good
	keptMu  sync.Mutex
	kept    [][]byte
)

// remember is the leak of -keep: a little of every request, never let go.
func remember() {
	if keep > 0 {
		keptMu.Lock()
		kept = append(kept, make([]byte, keep))
		keptMu.Unlock()
	}
}

type item struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Price int    `json:"price"`
}

// backend waits as a call to another service would: latency on average, give or take half.
func backend() {
	if latency > 0 {
		time.Sleep(latency/2 + time.Duration(rand.Int63n(int64(latency))))
	}
}

func handleItems(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 || n > 200 {
		n = 50
	}
	items := make([]item, n)
	for i := range items {
		items[i] = item{ID: i, Name: fmt.Sprintf("item-%d", i), Price: i * 7 % 100}
	}
	backend()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(items)
	remember()
	atomic.AddInt64(&served, 1)
}

func handleHash(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i)
	}
	backend()
	sum := sha256.Sum256(buf)
	fmt.Fprintf(w, "%x\n", sum)
	remember()
	atomic.AddInt64(&served, 1)
}

// load makes rate requests a second, each on a new connection, from a few clients
// that take turns.
func load(addr string, rate int) {
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true},
		Timeout:   5 * time.Second,
	}
	paths := []string{"/items?n=40", "/hash", "/items?n=120"}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for i := 0; ; i++ {
		<-tick.C
		go func(p string) {
			resp, err := client.Get("http://" + addr + p)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}(paths[i%len(paths)])
	}
}

func main() {
	rate := flag.Int("load", 50, "requests per second, one connection each (0: none)")
	flag.DurationVar(&latency, "latency", 80*time.Millisecond, "time each request waits on its \"backend\" (on average)")
	flag.IntVar(&keep, "keep", 0, "bytes each request keeps for good (a leak, for contrast)")
	idle := flag.Bool("idle", false, "start the load on SIGUSR1, not at once")
	duration := flag.Duration("duration", 60*time.Second, "exit after this long")
	status := flag.String("status", "", "file to write the address and counters to")
	flag.Parse()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	http.HandleFunc("/items", handleItems)
	http.HandleFunc("/hash", handleHash)
	go http.Serve(ln, nil)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	if *rate > 0 && !*idle {
		go load(ln.Addr().String(), *rate)
	}
	write := func() {
		if *status == "" {
			return
		}
		s := fmt.Sprintf("ready 1\naddr %s\nserved %d\n", ln.Addr(), atomic.LoadInt64(&served))
		os.WriteFile(*status+".tmp", []byte(s), 0o644)
		os.Rename(*status+".tmp", *status)
	}
	end := time.After(*duration)
	tick := time.NewTicker(200 * time.Millisecond)
	for {
		write()
		select {
		case <-usr1:
			if *rate > 0 && *idle {
				go load(ln.Addr().String(), *rate)
				*idle = false
			}
		case <-tick.C:
		case <-end:
			return
		}
	}
}
