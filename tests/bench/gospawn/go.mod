module leakscope/bench/gospawn

go 1.19
