/*
 * test_grow.c - array growth (common/grow.h): the doubling, the first
 * capacity, the refusals, and that a refusal leaves the old array intact.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "grow.h"

/* Under AddressSanitizer a request no allocator could meet aborts instead
 * of returning NULL, unless told otherwise; the refusal of such a request
 * is what one case below tests.  (Read by ASan at start-up; unused
 * otherwise.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static void first_capacity_then_doubling(void **state)
{
	(void)state;
	uint64_t *v = NULL;
	uint32_t cap = 0;
	assert_int_equal(RM_GROW(&v, &cap, 0, 1, 64), 0);
	assert_non_null(v);
	assert_int_equal(cap, 64);
	/* Room already: nothing moves. */
	uint64_t *was = v;
	assert_int_equal(RM_GROW(&v, &cap, 63, 1, 64), 0);
	assert_ptr_equal(v, was);
	assert_int_equal(cap, 64);
	for (uint32_t i = 0; i < 64; i++)
		v[i] = i * 7;
	assert_int_equal(RM_GROW(&v, &cap, 64, 1, 64), 0);
	assert_int_equal(cap, 128);
	/* Several doublings at once, for a large request. */
	assert_int_equal(RM_GROW(&v, &cap, 64, 1000, 64), 0);
	assert_int_equal(cap, 2048);
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(v[i], i * 7);
	free(v);
}

static void zero_first_means_one(void **state)
{
	(void)state;
	char *v = NULL;
	uint32_t cap = 0;
	assert_int_equal(RM_GROW(&v, &cap, 0, 3, 0), 0);
	assert_int_equal(cap, 4);
	free(v);
}

static void full_capacity_type_is_refused_before_realloc(void **state)
{
	(void)state;
	/* The array is not from malloc: a refusal must not touch it. */
	char byte[1];
	void *v = byte;
	uint32_t cap = UINT32_MAX;
	assert_int_equal(rm_grow(&v, &cap, UINT32_MAX, 1, 1, 64), -1);
	assert_ptr_equal(v, byte);
	assert_int_equal(cap, UINT32_MAX);
}

static void refuses_overflow_and_keeps_the_old_array(void **state)
{
	(void)state;
	uint32_t *v = NULL;
	uint32_t cap = 0;
	assert_int_equal(RM_GROW(&v, &cap, 0, 16, 16), 0);
	for (uint32_t i = 0; i < 16; i++)
		v[i] = 100 + i;
	uint32_t *was = v;

	/* n + more past UINT32_MAX. */
	assert_int_equal(RM_GROW(&v, &cap, UINT32_MAX, 1, 16), -1);
	assert_int_equal(RM_GROW(&v, &cap, 16, (size_t)UINT32_MAX, 16), -1);
	assert_int_equal(RM_GROW(&v, &cap, 16, SIZE_MAX, 16), -1);
	/* capacity * elem past SIZE_MAX. */
	assert_int_equal(rm_grow((void **)&v, &cap, 16, 1, SIZE_MAX / 8, 16), -1);
	/* A size that fits size_t but no allocator gives. */
	assert_int_equal(rm_grow((void **)&v, &cap, 16, 1, SIZE_MAX / 64, 16), -1);

	assert_ptr_equal(v, was);
	assert_int_equal(cap, 16);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(v[i], 100 + i);
	free(v);
}

static void or_die_says_so_and_aborts(void **state)
{
	(void)state;
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 2);
		signal(SIGABRT, SIG_DFL);
		char *v = NULL;
		uint32_t cap = 0;
		RM_GROW_OR_DIE(&v, &cap, UINT32_MAX, 1, 16);
		_exit(0);
	}
	close(fd[1]);
	char out[128] = {0};
	size_t len = 0;
	ssize_t got;
	while (len < sizeof(out) - 1 && (got = read(fd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)got;
	close(fd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	char want[64];
	snprintf(want, sizeof(want), "%s: out of memory\n", program_invocation_short_name);
	assert_string_equal(out, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(first_capacity_then_doubling),
	    cmocka_unit_test(zero_first_means_one),
	    cmocka_unit_test(full_capacity_type_is_refused_before_realloc),
	    cmocka_unit_test(refuses_overflow_and_keeps_the_old_array),
	    cmocka_unit_test(or_die_says_so_and_aborts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
