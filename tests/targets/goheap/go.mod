module leakscope/tests/goheap

go 1.19
