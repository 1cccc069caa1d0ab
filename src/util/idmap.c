/* idmap.c: see idmap.h. */
#include "util/idmap.h"

#include "util/zmalloc.h"

static uint64_t mul_hash(uint64_t id)
{
    return (id * 0x9e3779b97f4a7c15ull) >> 32;
}

void idmap_init(struct idmap *m)
{
    idmap_init_hash(m, NULL);
}

void idmap_init_hash(struct idmap *m, uint64_t (*hash)(uint64_t id))
{
    m->slot = NULL;
    m->cap = m->n = 0;
    m->hash = hash;
}

void idmap_free(struct idmap *m)
{
    zfree(m->slot);
    m->slot = NULL;
    m->cap = m->n = 0;
}

static size_t home(const struct idmap *m, uint64_t id)
{
    return (size_t)(m->hash ? m->hash(id) : mul_hash(id)) & (m->cap - 1);
}

/* The slot of id, or the empty slot ending its run. */
static size_t find(const struct idmap *m, uint64_t id)
{
    size_t i = home(m, id);

    while (m->slot[i].value != NULL && m->slot[i].id != id)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static void grow(struct idmap *m)
{
    struct idmap_slot *old = m->slot;
    size_t ocap = m->cap;

    m->cap = m->cap ? m->cap * 2 : 16;
    m->slot = zcalloc(m->cap * sizeof(*m->slot));
    for (size_t i = 0; i < ocap; i++)
        if (old[i].value != NULL)
            m->slot[find(m, old[i].id)] = old[i];
    zfree(old);
}

void idmap_put(struct idmap *m, uint64_t id, void *value)
{
    size_t i;

    if (2 * (m->n + 1) > m->cap)
        grow(m);
    i = find(m, id);
    if (m->slot[i].value == NULL)
        m->n++;
    m->slot[i].id = id;
    m->slot[i].value = value;
}

void *idmap_get(const struct idmap *m, uint64_t id)
{
    return m->n == 0 ? NULL : m->slot[find(m, id)].value;
}

int idmap_del(struct idmap *m, uint64_t id)
{
    size_t i, j;

    if (m->n == 0)
        return 0;
    i = find(m, id);
    if (m->slot[i].value == NULL)
        return 0;
    /* Move back each later entry of the run that may live at i: one whose
     * home is not cyclically in (i, j]. */
    for (j = (i + 1) & (m->cap - 1); m->slot[j].value != NULL; j = (j + 1) & (m->cap - 1)) {
        size_t h = home(m, m->slot[j].id);
        if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
            continue;
        m->slot[i] = m->slot[j];
        i = j;
    }
    m->slot[i].value = NULL;
    m->n--;
    return 1;
}

size_t idmap_count(const struct idmap *m)
{
    return m->n;
}
