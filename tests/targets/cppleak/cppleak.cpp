// SPDX-License-Identifier: GPL-2.0
/*
 * cppleak: a C++ program whose leak goes through operator new (libstdc++, no
 * frame pointer): Cache::insert(std::string const&) keeps every Entry and its
 * 1024-byte buffer. Cache::lookup(std::string const&) allocates and frees.
 * Prints "ready", starts on SIGUSR1, inserts -n entries (1 per ms), writes
 * "inserted N" to -status when done, then waits for SIGTERM.
 * Built by tests/cases/native.sh: g++ -O2 -g -fno-omit-frame-pointer.
 */
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {
volatile sig_atomic_t go, stop;
}

struct Entry {
	std::string key;
	char *data;
};

class Cache {
public:
	__attribute__((noinline)) void insert(const std::string &key)
	{
		Entry *e = new Entry{key, new char[1024]};

		memset(e->data, 1, 1024);
		entries_.push_back(e);
	}

	__attribute__((noinline)) bool lookup(const std::string &key)
	{
		std::vector<char> scratch(key.size() * 8);

		scratch[0] = key[0];
		return scratch[0] == 'k';
	}

private:
	std::vector<Entry *> entries_;
};

int main(int argc, char **argv)
{
	long n = 1000;
	const char *status = nullptr;
	Cache cache;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-n"))
			n = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "-status"))
			status = argv[i + 1];
	}
	signal(SIGUSR1, [](int) { go = 1; });
	signal(SIGTERM, [](int) { stop = 1; });
	printf("ready\n");
	fflush(stdout);
	while (!go && !stop)
		usleep(1000);
	for (long i = 0; i < n && !stop; i++) {
		std::string key = "key-" + std::to_string(i) + std::string(32, 'x');

		cache.insert(key);
		cache.lookup(key);
		usleep(1000);
	}
	if (status) {
		std::string tmp = std::string(status) + ".tmp";
		FILE *f = fopen(tmp.c_str(), "w");

		if (f) {
			fprintf(f, "inserted %ld\n", n);
			fclose(f);
			rename(tmp.c_str(), status);
		}
	}
	while (!stop)
		pause();
	return 0;
}
