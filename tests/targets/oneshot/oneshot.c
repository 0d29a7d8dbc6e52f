// oneshot: a C program that leaks a known number of bytes and exits at once (well
// within half a second), for tests/cases/oneshot.sh: 100 blocks of 1000 bytes at
// leak_here(), and 1000 blocks allocated and freed at churn(). Prints "oneshot: done".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void *leak_here(size_t n)
{
	void *p = malloc(n);

	memset(p, 1, n);
	return p;
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 1000; i++)
		free(malloc(100));
}

int main(void)
{
	for (int i = 0; i < 100; i++)
		leak_here(1000);
	churn();
	printf("oneshot: done\n");
	return 0;
}
