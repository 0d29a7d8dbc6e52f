module leakscope/tests/demo

go 1.19
