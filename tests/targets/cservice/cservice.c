// cservice: a native "service" that is steady, or leaks (-leak), for the suspects
// test (tests/cases/suspects.sh). Steady work: malloc/free churn of mixed sizes and
// threads created and joined. With -leak: 64 KiB a second allocated at
// leak_remember() and never freed, and a thread parked for good every 2 s
// (park_forever). Runs -duration seconds; writes "ready 1" to -status once started.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void **kept;
static size_t nkept;

__attribute__((noinline)) static void *leak_remember(size_t n)
{
	void *p = malloc(n);

	memset(p, 7, n);
	kept = realloc(kept, (nkept + 1) * sizeof(*kept));
	kept[nkept++] = p;
	return p;
}

__attribute__((noinline)) static void churn(int n)
{
	void *live[64] = {0};

	for (int i = 0; i < n; i++) {
		int k = rand() % 64;

		free(live[k]);
		live[k] = malloc(16 + rand() % 4000);
	}
	for (int k = 0; k < 64; k++)
		free(live[k]);
}

static void *short_job(void *arg)
{
	(void)arg;
	churn(50);
	return NULL;
}

static void *park_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int leak = 0;
	double duration = 60, start, last_park = 0;
	const char *status = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-leak"))
			leak = 1;
		else if (!strcmp(argv[i], "-duration") && i + 1 < argc)
			duration = atof(argv[++i]);
		else if (!strcmp(argv[i], "-status") && i + 1 < argc)
			status = argv[++i];
	}
	if (status) {
		FILE *f = fopen(status, "w");

		if (f) {
			fprintf(f, "ready 1\n");
			fclose(f);
		}
	}
	start = now();
	/* Ten rounds a second. */
	while (now() - start < duration) {
		pthread_t t;

		churn(1000);
		if (!pthread_create(&t, NULL, short_job, NULL))
			pthread_join(t, NULL);
		if (leak) {
			for (int i = 0; i < 16; i++)
				leak_remember(400);
			if (now() - last_park >= 2) {
				if (!pthread_create(&t, NULL, park_forever, NULL))
					pthread_detach(t);
				last_park = now();
			}
		}
		usleep(100000);
	}
	printf("cservice: done, %zu blocks kept\n", nkept);
	return 0;
}
