module leakscope/bench/goalloc

go 1.19
