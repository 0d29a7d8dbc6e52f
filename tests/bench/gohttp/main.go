// gohttp: a small net/http JSON service for the leakscope overhead benchmark
// (tests/bench/run.sh gohttp), loaded by a real load generator (wrk). GET /item?id=N
// decodes nothing, builds a small struct, encodes it as JSON: a few allocations and
// one goroutine per connection, the way plain services look. Built with -tags
// pprof it links net/http/pprof (the runtime then keeps its heap profile); without,
// the Go linker switches heap profiling off. Listens on -addr and prints "ready"
// once it accepts.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

type item struct {
	ID      int       `json:"id"`
	Name    string    `json:"name"`
	Tags    []string  `json:"tags"`
	Price   float64   `json:"price"`
	Updated time.Time `json:"updated"`
}

func handleItem(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.URL.Query().Get("id"))
	it := item{
		ID:      id,
		Name:    "item-" + strconv.Itoa(id),
		Tags:    []string{"bench", "json", strconv.Itoa(id % 7)},
		Price:   float64(id%1000) / 10,
		Updated: time.Unix(1700000000+int64(id), 0).UTC(),
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(&it); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flag.Parse()
	http.HandleFunc("/item", handleItem)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready")
	log.Fatal(http.Serve(ln, nil))
}
