/* io_uring requests that name the process's /proc files see the
 * program, as system calls do: an IORING_OP_STATX of /proc/self/exe
 * stats the program, an IORING_OP_OPENAT of it opens the program, and
 * one of /proc/self/cmdline reads the program's arguments (issue 26,
 * item 6: under xsc-run all three saw the runner, which the host kernel
 * found there). The ring is set up and driven by hand, as liburing would
 * (mapped rings, one request at a time).
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* struct statx's fields used here (linux/stat.h, which musl's and glibc's
 * headers do not both include cleanly). */
#define STATX_INO_WANTED 0x100U
#define STATX_SIZE_WANTED 0x200U
#define STX_INO_OFFSET 32
#define STX_SIZE_OFFSET 40

static int ring;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;

static int setup(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	ring = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (ring < 0)
		return -1;
	size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP && cq_len > sq_len)
		sq_len = cq_len;
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
			IORING_OFF_SQ_RING);
	char *cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP))
		cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
			  IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return -1;
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* Submits `sqe` and waits for its completion: its result. */
static int run(const struct io_uring_sqe *sqe)
{
	unsigned tail = *sq_tail, i = tail & *sq_mask;
	sqes[i] = *sqe;
	sq_array[i] = i;
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -errno;
	unsigned head = *cq_head;
	if (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	int res = cqes[head & *cq_mask].res;
	__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

int main(int argc, char **argv)
{
	struct stat me;
	CHECK(stat(argv[0], &me) == 0);
	if (setup() < 0)
		SKIP("no io_uring here");

	unsigned long long sx[32];
	struct io_uring_sqe sqe;
	memset(&sqe, 0, sizeof sqe);
	sqe.opcode = IORING_OP_STATX;
	sqe.fd = AT_FDCWD;
	sqe.addr = (unsigned long)"/proc/self/exe";
	sqe.len = STATX_INO_WANTED | STATX_SIZE_WANTED;
	sqe.off = (unsigned long)&sx;
	int r = run(&sqe);
	say("statx of /proc/self/exe: %s", r == 0 ? "0" : errname(-r));
	if (r == 0) {
		unsigned long long ino, size;
		memcpy(&ino, (char *)sx + STX_INO_OFFSET, sizeof ino);
		memcpy(&size, (char *)sx + STX_SIZE_OFFSET, sizeof size);
		say("it names the program: %s",
		    ino == (unsigned long long)me.st_ino && size == (unsigned long long)me.st_size
			    ? "yes" : "no");
	}

	memset(&sqe, 0, sizeof sqe);
	sqe.opcode = IORING_OP_OPENAT;
	sqe.fd = AT_FDCWD;
	sqe.addr = (unsigned long)"/proc/self/exe";
	sqe.open_flags = O_RDONLY | O_CLOEXEC;
	int fd = run(&sqe);
	say("openat of /proc/self/exe: %s", fd >= 0 ? "a descriptor" : errname(-fd));
	if (fd >= 0) {
		struct stat st;
		CHECK(fstat(fd, &st) == 0);
		say("it opens the program: %s",
		    st.st_ino == me.st_ino && st.st_dev == me.st_dev ? "yes" : "no");
		close(fd);
	}

	memset(&sqe, 0, sizeof sqe);
	sqe.opcode = IORING_OP_OPENAT;
	sqe.fd = AT_FDCWD;
	sqe.addr = (unsigned long)"/proc/self/cmdline";
	sqe.open_flags = O_RDONLY | O_CLOEXEC;
	fd = run(&sqe);
	say("openat of /proc/self/cmdline: %s", fd >= 0 ? "a descriptor" : errname(-fd));
	if (fd >= 0) {
		char got[4096], want[4096];
		size_t n = 0, w = 0;
		ssize_t k;
		while (n < sizeof got && (k = read(fd, got + n, sizeof got - n)) > 0)
			n += (size_t)k;
		close(fd);
		for (int i = 0; i < argc; i++) {
			size_t len = strlen(argv[i]) + 1;
			if (w + len > sizeof want)
				break;
			memcpy(want + w, argv[i], len);
			w += len;
		}
		say("it holds the program's arguments: %s",
		    n == w && memcmp(got, want, n) == 0 ? "yes" : "no");
	}
	return 0;
}
