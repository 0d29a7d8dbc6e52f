module leakscope/tests/goblock

go 1.19
