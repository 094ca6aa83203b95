/* test_bench.c: the summary statistics `cloak bench` reports: median, and p10/p90 by nearest rank. */
#include "bench.h"
#include "unit.h"

START_TEST(summary_of_known_values)
{
	double ten[10] = { 10, 1, 9, 2, 8, 3, 7, 4, 6, 5 }, odd[5] = { 5, 3, 1, 4, 2 }, one[1] = { 42 };
	struct bench_stats st;

	bench_summary(ten, 10, &st);
	ck_assert_uint_eq(st.n, 10);
	ck_assert(st.median == 5.5);  /* the mean of the middle two */
	ck_assert(st.p10 == 1);       /* rank ceil(0.1 * 10) = 1 */
	ck_assert(st.p90 == 9);       /* rank ceil(0.9 * 10) = 9 */
	ck_assert(ten[0] == 1 && ten[9] == 10);  /* sorted in place */
	bench_summary(odd, 5, &st);
	ck_assert(st.median == 3);
	ck_assert(st.p10 == 1);
	ck_assert(st.p90 == 5);
	bench_summary(one, 1, &st);
	ck_assert(st.median == 42 && st.p10 == 42 && st.p90 == 42);
	bench_summary(one, 0, &st);
	ck_assert_uint_eq(st.n, 0);
	ck_assert(st.median == 0);
}
END_TEST

Suite *bench_suite(void)
{
	Suite *s = suite_create("bench");
	TCase *tc = tcase_create("stats");

	tcase_add_test(tc, summary_of_known_values);
	suite_add_tcase(s, tc);
	return s;
}
