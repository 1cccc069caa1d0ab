/* replay: runs a fuzz target without libFuzzer, as a TAP test.
 *
 * Every file of $LSMDB_SRCDIR/utils/fuzz/corpus/<name>/ (the seeds and every
 * input that once broke the target) goes through LLVMFuzzerTestOneInput, then
 * FUZZ_MUTATIONS (default 2000) mutations of them chosen by FUZZ_SEED
 * (default 1): byte flips, insertions, deletions, splices of two inputs. A
 * crash or abort fails the test (automake sees the signal); each corpus file
 * that passes is one "ok" line, the mutations one more.
 * Usage: replay_<name> [DIR] (default: the corpus directory above; the name
 * comes from the program's own name). With FUZZ_LAST=FILE each mutation is
 * written to FILE before it runs, so the one that broke the target is kept. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "../../tests/tap.h"
#include "fuzz.h"

struct input {
    char *name;
    uint8_t *data;
    size_t size;
};

static int cmp_input(const void *a, const void *b)
{
    return strcmp(((const struct input *)a)->name, ((const struct input *)b)->name);
}

/* Reads every regular file of dir, sorted by name. */
static struct input *load_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    struct input *in = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t plen = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(plen);
        if (!path)
            break;
        snprintf(path, plen, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct input *m = realloc(in, cap * sizeof(*in));
            if (!m) {
                free(path);
                break;
            }
            in = m;
        }
        in[n].data = fuzz_read_file(path, &in[n].size);   /* aborts if it cannot */
        in[n].name = path;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(in, n, sizeof(*in), cmp_input);
    *count = n;
    return in ? in : calloc(1, sizeof(*in));
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state;         /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ULL;
}

/* Interesting bytes for parsers: digits, signs, line ends, NUL, 0xff. */
static uint8_t some_byte(void)
{
    static const uint8_t special[] = { '0', '1', '9', '-', '+', '*', '$', '\r', '\n', 0, 0xff, 0x80, ' ' };
    return rng() % 2 ? (uint8_t)rng() : special[rng() % sizeof(special)];
}

/* One mutation of a (or a spliced with b) into out; returns its size. */
static size_t mutate(const struct input *a, const struct input *b, uint8_t *out, size_t cap)
{
    size_t n = a->size < cap ? a->size : cap;
    memcpy(out, a->data, n);
    int rounds = 1 + (int)(rng() % 4);
    for (int r = 0; r < rounds; r++) {
        size_t at = n ? rng() % n : 0;
        switch (rng() % 5) {
        case 0:                     /* flip a bit */
            if (n)
                out[at] ^= (uint8_t)(1u << (rng() % 8));
            break;
        case 1:                     /* overwrite a byte */
            if (n)
                out[at] = some_byte();
            break;
        case 2:                     /* insert a byte */
            if (n < cap) {
                memmove(out + at + 1, out + at, n - at);
                out[at] = some_byte();
                n++;
            }
            break;
        case 3: {                   /* delete a run */
            size_t len = n - at ? 1 + rng() % (n - at) % 16 : 0;
            memmove(out + at, out + at + len, n - at - len);
            n -= len;
            break;
        }
        default: {                  /* splice: keep a prefix, append b's tail */
            size_t from = b->size ? rng() % b->size : 0;
            size_t len = b->size - from;
            if (at + len > cap)
                len = cap - at;
            memcpy(out + at, b->data + from, len);
            n = at + len;
            break;
        }
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *self = strrchr(argv[0], '/');
    self = self ? self + 1 : argv[0];
    if (strncmp(self, "lt-", 3) == 0)
        self += 3;
    const char *name = strncmp(self, "replay_", 7) == 0 ? self + 7 : self;
    char dir[4096];
    if (argc > 1) {
        snprintf(dir, sizeof(dir), "%s", argv[1]);
    } else {
        const char *src = getenv("LSMDB_SRCDIR");
        snprintf(dir, sizeof(dir), "%s/utils/fuzz/corpus/%s", src ? src : ".", name);
    }
    const char *s = getenv("FUZZ_MUTATIONS");
    long mutations = s ? strtol(s, NULL, 10) : 2000;
    const char *last = getenv("FUZZ_LAST");
    s = getenv("FUZZ_SEED");
    rng_state = (s ? strtoull(s, NULL, 10) : 1) * 0x9E3779B97F4A7C15ULL | 1;

    size_t n = 0;
    struct input *in = load_dir(dir, &n);
    if (!in) {
        tap_ok(0, "corpus directory %s: %s", dir, strerror(errno));
        return tap_done();
    }
    if (!tap_ok(n > 0, "corpus %s has inputs (%zu)", dir, n))
        return tap_done();
    for (size_t i = 0; i < n; i++) {
        LLVMFuzzerTestOneInput(in[i].data, in[i].size);
        tap_ok(1, "%s", strrchr(in[i].name, '/') + 1);
    }
    size_t cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return 1;
    for (long m = 0; m < mutations; m++) {
        const struct input *a = &in[rng() % n], *b = &in[rng() % n];
        size_t len = mutate(a, b, buf, cap);
        if (last) {
            FILE *f = fopen(last, "wb");
            if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
                tap_diag("cannot write %s: %s", last, strerror(errno));
                return 1;
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    tap_ok(1, "%ld seeded mutations of the corpus", mutations);
    free(buf);
    for (size_t i = 0; i < n; i++) {
        free(in[i].name);
        free(in[i].data);
    }
    free(in);
    return tap_done();
}
