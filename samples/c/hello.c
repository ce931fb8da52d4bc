/* hello.c: a C program for XSC, built with xsc-cc (and natively with cc for
 * the differential test). `hello DIR CODE`: prints, writes a file in DIR and
 * reads it back, starts a thread, exits with CODE. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *worker(void *arg)
{
	int *n = arg;
	long sum = 0;
	for (int i = 1; i <= *n; i++) sum += i;
	printf("a thread says the sum of 1..=%d is %ld\n", *n, sum);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: hello DIR CODE\n");
		return 2;
	}
	printf("hello from C\n");
	char path[4096];
	snprintf(path, sizeof path, "%s/hello-c.txt", argv[1]);
	FILE *f = fopen(path, "w");
	if (!f) { perror("fopen"); return 1; }
	fprintf(f, "written by hello.c\n");
	fclose(f);
	char line[128] = {0};
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof line, f)) { perror("read back"); return 1; }
	fclose(f);
	remove(path);
	line[strcspn(line, "\n")] = 0;
	printf("file: \"%s\"\n", line);
	fflush(stdout);
	int n = 1000;
	pthread_t t;
	if (pthread_create(&t, 0, worker, &n)) { fprintf(stderr, "pthread_create failed\n"); return 1; }
	pthread_join(t, 0);
	char *big = malloc(1 << 20);
	memset(big, 1, 1 << 20);
	free(big);
	fprintf(stderr, "exiting with %s\n", argv[2]);
	return atoi(argv[2]);
}
