/*
 * The report is what a crash in the field leaves to go on: smmd runs
 * unattended, and a core is often not kept (or not ours to read). The
 * stack's frames are "smmd(+0x1a2b3)": `addr2line -f -e smmd 0x1a2b3`
 * names each against the same build.
 *
 * The handler runs on its own stack (an overflow is reported too) and
 * uses only write(2) and backtrace_symbols_fd(3), which allocates
 * nothing; backtrace(3) loads libgcc on its first call, which allocates,
 * so install calls it once. Lines buffered by log.c are not flushed:
 * stdio is not safe here, and the heap may be what broke. Then the
 * signal's default action runs (SA_RESETHAND and a raise), so the exit
 * status, and a core where one is kept, are as without the handler.
 */
#include <execinfo.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fatalsig.h"

#if defined(__SANITIZE_ADDRESS__)
#define FATALSIG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FATALSIG_ASAN 1
#endif
#endif

#ifdef FATALSIG_ASAN
void fatalsig_install(void)
{
}
#else
#define FRAMES_MAX 64

static const struct {
	int signo;
	const char *name;
} fatal[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"},   {SIGILL, "SIGILL"},
        {SIGFPE, "SIGFPE"},   {SIGABRT, "SIGABRT"},
};

static void put(const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* v in base (10 or 16) into buf, which must hold 2 + 64 + 1. */
static const char *number(char *buf, size_t len, uintmax_t v, unsigned base)
{
	char *p = buf + len - 1;

	*p = '\0';
	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0 && p > buf + 2);
	if (base == 16) {
		*--p = 'x';
		*--p = '0';
	}
	return p;
}

static void on_fatal(int signo, siginfo_t *si, void *uc)
{
	void *frames[FRAMES_MAX];
	char buf[72];
	const char *name = "?";
	int n;

	(void)uc;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (fatal[i].signo == signo)
			name = fatal[i].name;
	put("smmd: crashed: fatal signal ");
	put(number(buf, sizeof(buf), (uintmax_t)signo, 10));
	put(" (");
	put(name);
	/* Sent (kill, raise, abort): si_addr is not an address then. */
	if (si->si_code <= 0) {
		put(") sent by pid ");
		put(number(buf, sizeof(buf), (uintmax_t)si->si_pid, 10));
	} else {
		put(") at address ");
		put(number(buf, sizeof(buf), (uintptr_t)si->si_addr, 16));
		put(", code ");
		put(number(buf, sizeof(buf), (uintmax_t)si->si_code, 10));
	}
	put("; the stack (addr2line -f -e smmd names each +offset):\n");
	n = backtrace(frames, FRAMES_MAX);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	put("smmd: crashed; a bug: please report it with the lines above\n");
	/* The handler was reset, the signal not blocked (SA_NODEFER): the
	 * default action now, as if there had been no handler. */
	raise(signo);
}

void fatalsig_install(void)
{
	static char altstack[64 * 1024];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	struct sigaction sa;
	void *warm[1];

	(void)backtrace(warm, 1);
	/* Without it an overflow dies unreported; the rest still is. */
	(void)sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		(void)sigaction(fatal[i].signo, &sa, NULL);
}
#endif
