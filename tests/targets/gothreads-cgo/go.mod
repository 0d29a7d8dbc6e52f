module leakscope/tests/gothreadscgo

go 1.19
