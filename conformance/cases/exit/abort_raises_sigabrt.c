/* abort() ends the process with SIGABRT, even with a handler that
 * returns.
 * expect: signal SIGABRT */
#include "common.h"

static void on_abrt(int sig)
{
	(void)sig;
	say_raw("the SIGABRT handler ran\n");
}

int main(void)
{
	on_signal(SIGABRT, on_abrt, 0);
	say("calling abort");
	abort();
}
