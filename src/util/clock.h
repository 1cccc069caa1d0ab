/* clock: wall and monotonic time in the units lsmdb uses.
 *
 * clock_ms()/clock_us() are wall-clock (UNIX epoch) — used for TTLs and logs.
 * clock_mono_us() is CLOCK_MONOTONIC — used for timers, timeouts and stall
 * accounting. clock_ticks() is a cheap counter for timing every command
 * (INFO commandstats): the CPU's time-stamp counter on x86-64 (a few ns; the
 * kernel only picks it as clocksource when it is stable), else monotonic
 * nanoseconds; clock_ticks_per_us() converts, calibrated once (2 ms) at its
 * first call. Thread rules: safe from any thread. */
#ifndef LSM_UTIL_CLOCK_H
#define LSM_UTIL_CLOCK_H

#include <stdint.h>

int64_t clock_us(void);
int64_t clock_ms(void);
int64_t clock_mono_us(void);
int64_t clock_mono_ms(void);
uint64_t clock_ticks(void);
double clock_ticks_per_us(void);

#endif
