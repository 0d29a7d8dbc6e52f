module leakscope/bench/gohttp

go 1.19
