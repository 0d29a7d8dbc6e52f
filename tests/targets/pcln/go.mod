module leakscope/tests/pcln

go 1.19
