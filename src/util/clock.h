/* clock: wall and monotonic time in the units lsmdb uses.
 *
 * clock_ms()/clock_us() are wall-clock (UNIX epoch) — used for TTLs and logs.
 * clock_mono_us() is CLOCK_MONOTONIC — used for timers, timeouts and stall
 * accounting. Thread rules: safe from any thread. */
#ifndef LSM_UTIL_CLOCK_H
#define LSM_UTIL_CLOCK_H

#include <stdint.h>

int64_t clock_us(void);
int64_t clock_ms(void);
int64_t clock_mono_us(void);
int64_t clock_mono_ms(void);

#endif
