/* Feeds arbitrary bytes to the device's model package reader (tm_model_load) and, when a
 * package loads, runs it with tm_model_invoke in a bounded arena; a version-2 package's impulse
 * section goes through tm_impulse_load and, when it loads, one window (given as two ring
 * segments) and the post-processing run in exactly-sized buffers; an impulse_version-2 section's
 * anomaly model then runs after the classifier in an arena of exactly tm_impulse_arena_bytes(). The package is copied to a
 * 4-byte aligned buffer of exactly its size (ASan catches any read past it); the arena is
 * exactly tm_model_arena_bytes() long, so any write outside it is caught as well.
 * The input byte 0 decides whether the CRC is recomputed (so mutations reach the checks
 * after the CRC). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tm_frame.h"
#include "tm_impulse.h"
#include "tm_model.h"

#define MAX_PACKAGE (256u * 1024u)
#define MAX_ARENA (1024u * 1024u)
#define MAX_WORK (512u * 1024u)
#define MAX_WINDOW_VALUES (64u * 1024u)

static void run_impulse(const tm_model_t *m, uint8_t *arena, uint32_t arena_bytes, const uint8_t *data, size_t size)
{
    tm_impulse_t imp;
    const tm_impulse_status_t s = tm_impulse_load(&imp, m);
    if ((unsigned)s >= TM_IMPULSE_ERR_COUNT_)
        abort();
    if (s != TM_IMPULSE_OK)
        return;
    if (imp.class_count == 0 || imp.class_count > TM_IMPULSE_MAX_CLASSES || imp.stride == 0 ||
        imp.stride > imp.window || imp.channels == 0 || imp.channels > TM_IMPULSE_MAX_CHANNELS)
        abort();
    const size_t work_bytes = tm_impulse_work_bytes(&imp);
    const size_t values = (size_t)imp.window * imp.channels;
    if (work_bytes == 0 || work_bytes > MAX_WORK || values > MAX_WINDOW_VALUES)
        return;
    uint32_t *work = (uint32_t *)malloc(work_bytes);
    int16_t *samples = (int16_t *)malloc(values * sizeof(int16_t));
    if (work && samples) {
        for (size_t i = 0; i < values; ++i)
            samples[i] = (int16_t)((uint16_t)data[i % size] << 8 | data[(i * 7 + 3) % size]);
        const uint32_t n_a = imp.window / 3u;
        int8_t scores[TM_IMPULSE_MAX_CLASSES];
        const tm_impulse_status_t r =
            tm_impulse_run_window(&imp, samples + (size_t)(imp.window - n_a) * imp.channels, n_a, samples,
                                  imp.window - n_a, (uint8_t *)work, work_bytes, arena, arena_bytes, scores, NULL);
        if ((unsigned)r >= TM_IMPULSE_ERR_COUNT_)
            abort();
        /* one byte short of the work buffer is always refused */
        if (tm_impulse_run_window(&imp, samples, imp.window, NULL, 0, (uint8_t *)work, work_bytes - 1u, arena,
                                  arena_bytes, scores, NULL) != TM_IMPULSE_ERR_WORK)
            abort();
        if (imp.has_anomaly) {
            /* impulse_version 2: both models in turn, in an arena of exactly the larger size */
            const uint32_t both = tm_impulse_arena_bytes(&imp);
            if (both < tm_model_arena_bytes(m) || both < tm_model_arena_bytes(&imp.anomaly))
                abort();
            uint8_t *arena2 = both <= MAX_ARENA ? (uint8_t *)malloc(both) : NULL;
            if (arena2) {
                int8_t anomaly = 0;
                const tm_impulse_status_t ra = tm_impulse_run_window_anomaly(
                    &imp, samples, imp.window, NULL, 0, (uint8_t *)work, work_bytes, arena2, both, scores,
                    &anomaly, NULL);
                if ((unsigned)ra >= TM_IMPULSE_ERR_COUNT_)
                    abort();
                if (ra == TM_IMPULSE_OK && (unsigned)tm_impulse_anomaly_alarm(&imp, anomaly) > 1u)
                    abort();
                free(arena2);
            }
        }
        if (r == TM_IMPULSE_OK) {
            tm_impulse_post_params_t pp;
            tm_impulse_post_params(&imp, &pp);
            static tm_impulse_post_state_t post;
            tm_impulse_post_reset(&post);
            for (uint32_t k = 0; k < 3; ++k) {
                tm_impulse_decision_t d;
                tm_impulse_post_step(&pp, &post, scores, (uint64_t)imp.window + (uint64_t)k * imp.stride, &d);
                if (d.top_class >= imp.class_count ||
                    (d.decision != TM_IMPULSE_UNCERTAIN && d.decision >= imp.class_count))
                    abort();
            }
        }
    }
    free(work);
    free(samples);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > MAX_PACKAGE)
        return 0;
    const int fix_crc = data[0] & 1;
    const uint32_t n = (uint32_t)(size - 1);
    uint32_t *words = (uint32_t *)malloc(n ? n : 4u); /* malloc is 4-aligned and exact */
    if (words == NULL)
        return 0;
    uint8_t *pkg = (uint8_t *)words;
    memcpy(pkg, data + 1, n);
    if (fix_crc && n >= 64) {
        tm_put_u32(pkg + 8, n);
        tm_put_u32(pkg + 12, tm_crc32(0, pkg + 64, n - 64u));
    }
    tm_model_t m;
    const tm_model_status_t s = tm_model_load(&m, pkg, n);
    if ((unsigned)s >= TM_MODEL_ERR_COUNT_)
        abort();
    if (s == TM_MODEL_OK) {
        const uint32_t need = tm_model_arena_bytes(&m);
        if (need == 0)
            abort();
        if (need <= MAX_ARENA) {
            uint8_t *arena = (uint8_t *)malloc(need);
            if (arena) {
                uint32_t in_bytes = 0;
                int8_t *in = tm_model_input(&m, arena, &in_bytes);
                if (in == NULL || (uint8_t *)in + in_bytes > arena + need)
                    abort();
                memset(arena, 0x11, need);
                const tm_model_status_t r = tm_model_invoke(&m, arena, need, NULL, NULL);
                if (r != TM_MODEL_OK && r != TM_MODEL_ERR_KERNEL)
                    abort();
                /* too small an arena is always refused */
                if (tm_model_invoke(&m, arena, need - 1u, NULL, NULL) != TM_MODEL_ERR_ARENA)
                    abort();
                run_impulse(&m, arena, need, data, size);
                free(arena);
            }
        }
    }
    free(words);
    return 0;
}
