/* clock: wall and monotonic time (see clock.h). */
#include "util/clock.h"

#include <time.h>

static int64_t clock_read_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_us(void)
{
    return clock_read_us(CLOCK_REALTIME);
}

int64_t clock_ms(void)
{
    return clock_us() / 1000;
}

int64_t clock_mono_us(void)
{
    return clock_read_us(CLOCK_MONOTONIC);
}

int64_t clock_mono_ms(void)
{
    return clock_mono_us() / 1000;
}

#if defined(__x86_64__)
#include <x86intrin.h>

uint64_t clock_ticks(void)
{
    return __rdtsc();
}

double clock_ticks_per_us(void)
{
    static _Atomic double rate;
    double r = rate;
    if (r > 0)
        return r;
    int64_t t0 = clock_mono_us(), t1;
    uint64_t c0 = __rdtsc();
    do
        t1 = clock_mono_us();
    while (t1 - t0 < 2000);
    r = (double)(__rdtsc() - c0) / (double)(t1 - t0);
    if (!(r > 0))
        r = 1;
    rate = r;
    return r;
}
#else
uint64_t clock_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double clock_ticks_per_us(void)
{
    return 1000.0;
}
#endif
