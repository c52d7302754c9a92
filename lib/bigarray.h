/*
 * Arrays that grow to megabytes: the schedule's heap and entries, the
 * tables' slots. From malloc, glibc serves them out of the top of its
 * heap while that has room (smmd keeps up to 8 MiB there, main.c), and
 * there a doubling copies the whole array and calloc writes every byte,
 * each page faulted in at once: in a row of 50,000 adds, the turn whose
 * heap went from 768 KiB to 1.5 MiB took 5.0-5.6 ms (with 223-264 page
 * faults), against 3-4 ms for the others. Past BIGARRAY_MAPPED bytes an
 * array has pages of its own instead: a doubling moves page tables
 * (mremap), and the kernel's zeroed pages come as they are first touched.
 * (ASan does not watch such an array's bounds.)
 *
 * The caller keeps each array's size in bytes and passes it back.
 */
#ifndef SMM_BIGARRAY_H
#define SMM_BIGARRAY_H

#include <stddef.h>

#define BIGARRAY_MAPPED (256 * 1024)

/*
 * p (of old bytes, NULL when 0) resized to n bytes, its contents kept up
 * to the smaller size; what it gains is zero. NULL when out of memory,
 * and p is left as it was.
 */
void *bigarray_resize(void *p, size_t old, size_t n);
/* Give back p, of n bytes. */
void bigarray_free(void *p, size_t n);

#endif
