module leakscope/tests/gohttp

go 1.19
