// cpool: a native "service" whose memory rises and falls back, for
// tests/cases/steady.sh. On SIGUSR1 it waits -fill-after seconds, then pool_fill()
// allocates a 32 KiB block every 50 ms for -fill-for seconds and pool_drain() frees
// them all at once: the site ends where it began, with nothing outstanding. Beside
// it, steady malloc/free churn, and leak_trickle() keeping 1 KiB every 500 ms (2 KiB
// a second: growth, too little to be a suspect). Runs -duration seconds; writes
// "ready 1" and "phase idle|waiting|filling|drained" to -status.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX 4096

static void *pool[POOL_MAX];
static int npool;
static volatile sig_atomic_t go;
static const char *status;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void write_status(const char *phase)
{
	char tmp[4096];
	FILE *f;

	if (!status)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", status);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "ready 1\nphase %s\n", phase);
	fclose(f);
	rename(tmp, status);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void pool_fill(void)
{
	if (npool < POOL_MAX) {
		pool[npool] = malloc(32 << 10);
		memset(pool[npool], 1, 32 << 10);
		npool++;
	}
}

__attribute__((noinline)) static void pool_drain(void)
{
	while (npool)
		free(pool[--npool]);
}

__attribute__((noinline)) static void *leak_trickle(void)
{
	static void **kept;
	static size_t nkept;
	void *p = malloc(1024);

	memset(p, 2, 1024);
	kept = realloc(kept, (nkept + 1) * sizeof(*kept));
	kept[nkept++] = p;
	return p;
}

__attribute__((noinline)) static void churn(void)
{
	void *live[16] = {0};

	for (int i = 0; i < 200; i++) {
		int k = rand() % 16;

		free(live[k]);
		live[k] = malloc(16 + rand() % 2000);
	}
	for (int k = 0; k < 16; k++)
		free(live[k]);
}

int main(int argc, char **argv)
{
	double duration = 60, fill_after = 4.5, fill_for = 2, start = now_s(), armed = 0;
	enum { IDLE, WAITING, FILLING, DRAINED } phase = IDLE;
	int tick = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-duration"))
			duration = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "-fill-after"))
			fill_after = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "-fill-for"))
			fill_for = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "-status"))
			status = argv[i + 1];
	}
	signal(SIGUSR1, on_usr1);
	write_status("idle");
	while (now_s() - start < duration) {
		double t = now_s();

		if (phase == IDLE && go) {
			armed = t;
			phase = WAITING;
			write_status("waiting");
		}
		if (phase == WAITING && t - armed >= fill_after) {
			phase = FILLING;
			write_status("filling");
		}
		if (phase == FILLING && t - armed >= fill_after + fill_for) {
			pool_drain();
			phase = DRAINED;
			write_status("drained");
		}
		if (phase == FILLING)
			pool_fill();
		churn();
		if (++tick % 10 == 0)
			leak_trickle();
		usleep(50000);
	}
	return 0;
}
