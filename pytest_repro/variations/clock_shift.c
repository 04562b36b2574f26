/* The `time` variation's clock: a preloaded library that moves the wall clock ahead.
 *
 * Only the wall clock moves (CLOCK_REALTIME and its variants, gettimeofday, time), by
 * REPRO_CLOCK_OFFSET_SECONDS.  Monotonic clocks, sleeps and timed waits are left
 * alone, so that threads, joblib and timeouts inside the training keep working (a
 * general-purpose clock faker that also rewrites waits made Python's timed lock waits
 * hang and its sleeps fail when we tried it).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long long offset_seconds(void)
{
    static volatile int ready = 0;
    static long long offset = 0;
    if (!ready) {
        const char *text = getenv("REPRO_CLOCK_OFFSET_SECONDS");
        offset = text ? atoll(text) : 0;
        ready = 1;
    }
    return offset;
}

static int is_wall_clock(clockid_t id)
{
    return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
}

int clock_gettime(clockid_t id, struct timespec *now)
{
    static int (*real)(clockid_t, struct timespec *) = NULL;
    if (!real)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int status = real(id, now);
    if (status == 0 && now && is_wall_clock(id))
        now->tv_sec += (time_t)offset_seconds();
    return status;
}

int gettimeofday(struct timeval *now, void *zone)
{
    static int (*real)(struct timeval *, void *) = NULL;
    if (!real)
        real = (int (*)(struct timeval *, void *))dlsym(RTLD_NEXT, "gettimeofday");
    int status = real(now, zone);
    if (status == 0 && now)
        now->tv_sec += (time_t)offset_seconds();
    return status;
}

time_t time(time_t *out)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return (time_t)-1;
    if (out)
        *out = now.tv_sec;
    return now.tv_sec;
}
