/* Drift telemetry: small running summaries of what the active package sees and decides
 * (PROTOCOL.md, "Drift telemetry"). Raw samples never leave the board for this: the host
 * compares these sums and histograms with the training data's.
 *
 * Two summaries, one per source: the CLASSIFY windows (the board's own sensor) and INVOKE
 * (inputs the host pushed with SET_INPUT, e.g. a rollout's held-out checks), so that the
 * host's checks never blur the field picture. Both are zeroed when another package becomes
 * active (commit, revert, boot), and on request after a read. */
#include <string.h>

#include "tm_agent_internal.h"

typedef struct tm_telemetry_summary summary_t;

/* Summarised input elements: all when <= 64, else every stride-th from element 0. */
static uint32_t feature_stride(uint32_t input_count)
{
    if (input_count <= TM_TELEMETRY_MAX_FEATURES)
        return 1u;
    return (input_count + TM_TELEMETRY_MAX_FEATURES - 1u) / TM_TELEMETRY_MAX_FEATURES;
}

static uint32_t feature_count(uint32_t input_count)
{
    const uint32_t s = feature_stride(input_count);
    return (input_count + s - 1u) / s;
}

void tm_telemetry_reset(tm_agent_t *a)
{
    memset(a->telemetry, 0, sizeof a->telemetry);
}

void tm_telemetry_add(tm_agent_t *a, unsigned source, int8_t (*input_at)(const void *, uint32_t),
                      const void *ctx, uint32_t input_count, const int8_t *scores,
                      uint32_t out_count, uint32_t top_class, int uncertain)
{
    if (source > TM_TELEMETRY_INVOKE)
        return;
    summary_t *s = &a->telemetry[source];
    float scale;
    int32_t zp;
    tm_model_output_quant(&a->model, &scale, &zp);
    (void)scale;
    s->windows++;
    if (uncertain)
        s->uncertain++;
    if (top_class < out_count)
        s->top_sum += (int64_t)scores[top_class] - zp;
    if (top_class < TM_TELEMETRY_MAX_CLASSES)
        s->class_hist[top_class]++;
    const uint32_t stride = feature_stride(input_count);
    const uint32_t n = feature_count(input_count);
    for (uint32_t k = 0; k < n; ++k) {
        const int32_t q = input_at(ctx, k * stride);
        s->feature_sum[k] += q;
        s->feature_sumsq[k] += (uint64_t)(q * q);
    }
    if (out_count == 1u)
        s->anomaly_hist[((int32_t)scores[0] + 128) >> 4]++;
}

static void put_u64(uint8_t *b, uint64_t v)
{
    tm_put_u32(b, (uint32_t)v);
    tm_put_u32(b + 4, (uint32_t)(v >> 32));
}

tm_error_t tm_telemetry_handle(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    TM_REQUIRE(r->req->payload_len == 1, TM_ERR_BAD_LENGTH);
    const uint8_t flags = r->req->payload[0];
    if (flags & ~(TM_TELEMETRY_RESET | TM_TELEMETRY_SOURCE_INVOKE)) {
        r->msg = "unknown TELEMETRY flags";
        return TM_ERR_BAD_ARGUMENT;
    }
    const unsigned source = (flags & TM_TELEMETRY_SOURCE_INVOKE) ? TM_TELEMETRY_INVOKE
                                                                 : TM_TELEMETRY_CLASSIFY;
    summary_t *s = &a->telemetry[source];
    const int ready = tm_model_ready(a);
    uint32_t in_count = 0, out_count = 0;
    float out_scale = 0.0f;
    int32_t out_zp = 0;
    uint32_t crc = 0;
    if (ready) {
        tm_model_input(&a->model, a->port->arena, &in_count);
        tm_model_output(&a->model, a->port->arena, &out_count);
        tm_model_output_quant(&a->model, &out_scale, &out_zp);
        crc = a->slots.slot[a->slots.active].crc;
    }
    const int has_impulse = ready && a->impulse_status == TM_IMPULSE_OK;
    uint32_t classes = has_impulse ? a->impulse.class_count : out_count;
    if (classes > TM_TELEMETRY_MAX_CLASSES)
        classes = TM_TELEMETRY_MAX_CLASSES;
    const int anomaly = ready && out_count == 1u;
    const uint32_t nf = ready ? feature_count(in_count) : 0u;

    uint8_t *o = a->reply;
    uint32_t bits;
    o[0] = TM_TELEMETRY_LAYOUT;
    o[1] = (uint8_t)source;
    o[2] = (uint8_t)((anomaly ? 0x01u : 0u) | (has_impulse ? 0x02u : 0u));
    o[3] = (uint8_t)classes;
    tm_put_u32(o + 4, crc);
    tm_put_u32(o + 8, s->windows);
    tm_put_u32(o + 12, s->uncertain);
    put_u64(o + 16, (uint64_t)s->top_sum);
    memcpy(&bits, &out_scale, 4);
    tm_put_u32(o + 24, bits);
    tm_put_u32(o + 28, (uint32_t)out_zp);
    tm_put_u32(o + 32, in_count);
    tm_put_u16(o + 36, (uint16_t)nf);
    tm_put_u16(o + 38, (uint16_t)(ready ? feature_stride(in_count) : 0u));
    uint8_t *p = o + TM_TELEMETRY_HEADER_BYTES;
    for (uint32_t c = 0; c < classes; ++c, p += 4)
        tm_put_u32(p, s->class_hist[c]);
    for (uint32_t k = 0; k < nf; ++k, p += 8)
        put_u64(p, (uint64_t)s->feature_sum[k]);
    for (uint32_t k = 0; k < nf; ++k, p += 8)
        put_u64(p, s->feature_sumsq[k]);
    if (anomaly)
        for (uint32_t b = 0; b < TM_TELEMETRY_ANOMALY_BINS; ++b, p += 4)
            tm_put_u32(p, s->anomaly_hist[b]);
    r->reply_len = (size_t)(p - o);
    if (flags & TM_TELEMETRY_RESET)
        memset(s, 0, sizeof *s);
    return TM_OK;
}
