module leakscope/tests/goleak

go 1.19
