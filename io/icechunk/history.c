/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/history.c - a snapshot's history (Icechunk's `ancestry`): the
 * snapshot and its ancestors, newest first, with their times and messages.
 *
 * Where the format keeps the ancestry (shared/docs/icechunk-format.md
 * §4.2, §12): spec 2 lists every snapshot in the repo file (id, parent
 * index, flush time, message), so the history costs no read; spec 1 keeps
 * the parent id in each snapshot file, so every step reads one. A v2
 * snapshot the repo file does not list (an orphan) is read from its file.
 */
#include "io/icechunk/format/ids.h"
#include "io/icechunk/internal.h"

#include <stdlib.h>
#include <string.h>

void ic_snapshot_info_list_free(ic_snapshot_info **list, size_t n)
{
    if (!list || !*list)
        return;
    for (size_t i = 0; i < n; i++)
        free((*list)[i].message);
    free(*list);
    *list = NULL;
}

/* One step of the history: the snapshot, and its parent if it has one. */
typedef struct step {
    ic_snapshot_info info;
    uint8_t parent[12];
    int has_parent;
    int from_repo_file;
} step;

static floe_err set_message(step *s, const char *message)
{
    s->info.message = strdup(message ? message : "");
    return s->info.message ? NULL : FLOE_ERR(FLOE_ENOMEM, "out of memory");
}

/* v2: the repo file's SnapshotInfo of id (Repo.snapshots is sorted by the
 * id bytes); *found = 0 when it is not listed. */
static floe_err from_repo_file(const ic_repo *r, const uint8_t id[12], step *s, int *found)
{
    *found = 0;
    fb_vector snaps;
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_SNAPSHOTS, "snapshots", FB_REF_SIZE, 1,
                               &snaps));
    uint32_t lo = 0, hi = snaps.n;
    fb_table info;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *sid;
        FLOE_CHECK(fb_vector_table(&snaps, mid, &info), "snapshots");
        FLOE_CHECK(fb_field_struct(&info, SNAPINFO_ID, "id", 12, 1, &sid), "snapshot %u", mid);
        int c = memcmp(sid, id, 12);
        if (c == 0) {
            lo = mid;
            *found = 1;
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!*found)
        return NULL;
    uint32_t i = lo;
    uint64_t flushed;
    const char *message;
    int32_t p;
    FLOE_CHECK(fb_field_u64(&info, SNAPINFO_FLUSHED_AT, "flushed_at", 0, &flushed), "snapshot %u", i);
    FLOE_CHECK(fb_field_string(&info, SNAPINFO_MESSAGE, "message", 1, &message, NULL), "snapshot %u", i);
    /* parent_offset: an absolute index, -1 the root, absent = 0 (§4.2) */
    FLOE_CHECK(fb_field_i32(&info, SNAPINFO_PARENT, "parent_offset", 0, &p), "snapshot %u", i);
    ic_id_encode(id, 12, s->info.id);
    s->info.flushed_at = flushed > INT64_MAX ? INT64_MAX : (int64_t)flushed;
    s->from_repo_file = 1;
    if (p >= 0) {
        fb_table parent;
        const uint8_t *pid;
        if ((uint32_t)p >= snaps.n || (uint32_t)p == i)
            return FLOE_ERR(FLOE_EFORMAT, "snapshot %u: parent index %d (of %u)", i, p, snaps.n);
        FLOE_CHECK(fb_vector_table(&snaps, (uint32_t)p, &parent), "snapshots");
        FLOE_CHECK(fb_field_struct(&parent, SNAPINFO_ID, "id", 12, 1, &pid), "snapshot %d", p);
        memcpy(s->parent, pid, 12);
        s->has_parent = 1;
    }
    return set_message(s, message);
}

/* Any spec: the snapshot file (v1 holds the parent id there). */
static floe_err from_snapshot_file(ic_repo *r, const uint8_t id[12], step *s)
{
    char name[IC_SNAPSHOT_ID_SIZE];
    ic_snapshot *snap;
    FLOE_CHECK(ic_snapshot_load(r, ic_id_encode(id, 12, name), &snap));
    memcpy(s->info.id, ic_snapshot_id(snap), IC_SNAPSHOT_ID_SIZE);
    s->info.flushed_at = ic_snapshot_flushed_at(snap);
    const char *parent = ic_snapshot_parent_id(snap);
    floe_err err = NULL;
    if (parent) {
        s->has_parent = 1;
        err = ic_id_decode(parent, s->parent, 12);
    }
    if (!err)
        err = set_message(s, ic_snapshot_message(snap));
    ic_snapshot_free(&snap);
    return err;
}

floe_err ic_repo_ancestry(ic_repo *r, const char *snapshot_id, ic_snapshot_info **list, size_t *n)
{
    *list = NULL;
    *n = 0;
    uint8_t cur[12];
    FLOE_CHECK(ic_id_decode(snapshot_id, cur, 12), "snapshot id");
    uint32_t listed = 0; /* snapshots the v2 repo file lists: a longer chain loops */
    if (r->spec == 2) {
        fb_vector snaps;
        FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_SNAPSHOTS, "snapshots", FB_REF_SIZE, 1,
                                   &snaps), "repository %s", r->root);
        listed = snaps.n;
    }
    ic_snapshot_info *out = NULL;
    size_t count = 0, cap = 0, steps_listed = 0;
    floe_err err = NULL;
    for (;;) {
        if (count == cap) {
            size_t grown_cap = cap ? 2 * cap : 16;
            ic_snapshot_info *grown = realloc(out, grown_cap * sizeof *grown);
            if (!grown) {
                err = FLOE_ERR(FLOE_ENOMEM, "out of memory");
                break;
            }
            out = grown;
            cap = grown_cap;
        }
        step s;
        memset(&s, 0, sizeof s);
        int found = 0;
        if (r->spec == 2)
            err = from_repo_file(r, cur, &s, &found);
        if (!err && !found)
            err = from_snapshot_file(r, cur, &s);
        if (err) {
            free(s.info.message);
            break;
        }
        out[count++] = s.info;
        if (!s.has_parent)
            break;
        /* A parent chain never returns to a snapshot: in the repo file's
         * list more steps than entries prove a loop; a snapshot read from
         * its file is compared with the ones before. */
        int loops = 0;
        if (s.from_repo_file)
            loops = ++steps_listed > listed;
        else {
            char parent[IC_SNAPSHOT_ID_SIZE];
            ic_id_encode(s.parent, 12, parent);
            for (size_t i = 0; i < count && !loops; i++)
                loops = !strcmp(out[i].id, parent);
        }
        if (loops) {
            err = FLOE_ERR(FLOE_EFORMAT, "the parents of snapshot %s loop", snapshot_id);
            break;
        }
        memcpy(cur, s.parent, 12);
    }
    if (err) {
        ic_snapshot_info_list_free(&out, count);
        return floe_err_push(err, __FILE__, __LINE__, " history of snapshot %s in %s", snapshot_id,
                             r->root);
    }
    *list = out;
    *n = count;
    return NULL;
}
