module leakscope/tests/gothreads

go 1.19
