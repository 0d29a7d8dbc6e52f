// demo: a small "order service" with two classic leaks, for `make demo`.
//
// Goroutines: handleOrder asks the inventory for a price with a timeout. When
// the lookup is slow the handler gives up, but the goroutine doing the lookup
// then blocks forever sending its answer on an unbuffered channel nobody reads:
// one leaked goroutine per slow request.
//
// Heap: every order's receipt goes into a cache that is never evicted
// (rememberReceipt), while the request's scratch buffers are garbage.
//
// Beside them, a healthy worker pool shows what steady goroutines look like.
// net/http/pprof is linked (as in many services), so the Go runtime keeps its
// heap profile and leakscope can show memory in use by allocation stack.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

type order struct{ id, item int }

type receipt struct {
	id    int
	price int
	text  []byte
}

var (
	receiptsMu sync.Mutex
	receipts   = map[int]*receipt{}
)

// rememberReceipt has the heap bug: nothing ever removes a receipt.
//
//go:noinline
func rememberReceipt(o order, price int) {
	r := &receipt{id: o.id, price: price, text: make([]byte, 4096)}
	receiptsMu.Lock()
	receipts[o.id] = r
	receiptsMu.Unlock()
}

//go:noinline
func render(o order) []byte {
	return []byte(fmt.Sprintf("order %d item %d", o.id, o.item))
}

//go:noinline
func lookupPrice(item int) int {
	// Every fifth lookup is slow.
	if item%5 == 0 {
		time.Sleep(30 * time.Millisecond)
	}
	return 100 + item
}

// handleOrder has the bug: the result channel is unbuffered.
//
//go:noinline
func handleOrder(o order) (int, error) {
	result := make(chan int)
	go func() {
		result <- lookupPrice(o.item) // blocks forever if the handler timed out
	}()
	select {
	case p := <-result:
		return p, nil
	case <-time.After(10 * time.Millisecond):
		return 0, fmt.Errorf("order %d: inventory timeout", o.id)
	}
}

//go:noinline
func serve(orders <-chan order) {
	for o := range orders {
		price, err := handleOrder(o)
		_ = render(o) // scratch: garbage right away
		if err == nil {
			rememberReceipt(o, price)
		}
	}
}

//go:noinline
func worker(jobs <-chan int, done chan<- int) {
	for j := range jobs {
		time.Sleep(time.Millisecond)
		done <- j * 2
	}
}

func main() {
	rate := flag.Int("rate", 100, "orders per second")
	flag.Parse()

	orders := make(chan order, 64)
	for i := 0; i < 4; i++ {
		go serve(orders)
	}
	jobs, done := make(chan int), make(chan int, 16)
	for i := 0; i < 8; i++ {
		go worker(jobs, done)
	}
	go func() {
		for range done {
		}
	}()
	go func() {
		for i := 0; ; i++ {
			jobs <- i
		}
	}()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	fmt.Printf("demo: order service running as pid %d, %d orders/s\n", os.Getpid(), *rate)
	for id := 0; ; id++ {
		select {
		case <-tick.C:
			orders <- order{id: id, item: rand.Intn(1000)}
		case <-stop:
			return
		}
	}
}
