module leakscope/tests/gostress

go 1.19
