/* stubs.c: the one host function the fuzz targets link against but never reach (the timeline's writer needs it). */
#include "plan.h"

const char *plan_kind_name(enum plan_kind kind)
{
	(void)kind;
	return "fuzz";
}
