/*
 * A fatal signal (a bug: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT)
 * leaves a report on stderr, the journal under systemd, before smmd
 * dies of it as it would have: which signal, where, and the stack.
 */
#ifndef SMMD_FATALSIG_H
#define SMMD_FATALSIG_H

/* Once, early in main. A build with AddressSanitizer keeps its own. */
void fatalsig_install(void);

#endif
