/* Continuous classification: the active package's impulse (tm_impulse.h) on the agent's own
 * sensor (PROTOCOL.md, "Continuous classification and sensor replay").
 *
 * The sensor fills a ring of frames as they become due, paced by the port's counter like a
 * stream; each poll first reads every frame due so far (what a DMA double buffer would have
 * written meanwhile), then computes the windows that are complete. A window whose first frame
 * the ring has already overwritten is an overrun: counted, reported in every result, never
 * computed. Without pacing (a fast host port) each poll reads just what the next window
 * needs, one stride, so nothing is ever lost. */
#include <string.h>

#include "tm_agent_internal.h"

/* Windows computed per poll at most, so that requests (CLASSIFY_STOP) are served between. */
#define TM_CLASSIFY_WINDOWS_PER_POLL 4
/* CLASSIFY_RESULT: fixed part before the raw scores. */
#define TM_CLASSIFY_RESULT_HEADER 28u

void tm_classify_load_impulse(tm_agent_t *a)
{
    memset(&a->impulse, 0, sizeof a->impulse);
    if (!tm_model_ready(a)) {
        a->impulse_status = TM_IMPULSE_ERR_ARGUMENT;
        return;
    }
    a->impulse_status = (uint8_t)tm_impulse_load(&a->impulse, &a->model);
}

void tm_classify_end(tm_agent_t *a, uint8_t reason)
{
    uint8_t b[13];
    tm_put_u32(b, a->cls.sent);
    tm_put_u32(b + 4, a->cls.overruns);
    tm_put_u32(b + 8, a->cls.frames_lost);
    b[12] = reason;
    a->cls.active = 0;
    tm_agent_send_frame(a, a->dev_seq++, TM_OP_CLASSIFY_END, b, sizeof b);
}

/* ---- CLASSIFY_START / CLASSIFY_STOP ------------------------------------------------ */

static tm_error_t pick_sensor(tm_request_t *r, uint8_t id, tm_sensor_t **out)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    const tm_impulse_t *imp = &a->impulse;
    if (id == TM_CLASSIFY_ANY_SENSOR) {
        for (uint8_t i = 0; i < p->sensor_count; ++i) {
            if (p->sensors[i] && p->sensors[i]->desc->kind == imp->sensor_kind) {
                id = i;
                break;
            }
        }
        if (id == TM_CLASSIFY_ANY_SENSOR) {
            r->msg = "no sensor of the impulse's kind";
            return TM_ERR_NO_SENSOR;
        }
    }
    tm_sensor_t *s;
    tm_error_t e = tm_agent_sensor_of(r, id, &s);
    if (e)
        return e;
    if (s->desc->kind != imp->sensor_kind || s->desc->channels != imp->channels) {
        char *m = a->err_msg;
        strcpy(m, "the impulse needs sensor kind ");
        tm_agent_format_u32(m + strlen(m), imp->sensor_kind);
        strcat(m, " with ");
        tm_agent_format_u32(m + strlen(m), imp->channels);
        strcat(m, " channels; sensor ");
        tm_agent_format_u32(m + strlen(m), id);
        strcat(m, " differs");
        r->msg = m;
        return TM_ERR_NO_SENSOR;
    }
    *out = s;
    return TM_OK;
}

static tm_error_t classify_start(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const uint8_t *pl = r->req->payload;
    TM_REQUIRE(r->req->payload_len == 6, TM_ERR_BAD_LENGTH);
    const uint32_t max_windows = tm_get_u32(pl + 1);
    const uint8_t flags = pl[5];
    if (flags & ~TM_CLASSIFY_RAW) {
        r->msg = "unknown CLASSIFY_START flags";
        return TM_ERR_BAD_ARGUMENT;
    }
    if (a->stream.active || a->cls.active || tm_model_uploading(a)) {
        r->msg = a->stream.active ? "a stream is running"
                 : a->cls.active  ? "a classification is running"
                                  : "a model upload is in progress";
        return TM_ERR_BUSY;
    }
    tm_error_t e = tm_model_check_ready(a, &r->msg);
    if (e)
        return e;
    if (a->impulse_status == TM_IMPULSE_ERR_NO_IMPULSE) {
        r->msg = "package has no impulse section";
        return TM_ERR_NOT_SUPPORTED;
    }
    if (a->impulse_status != TM_IMPULSE_OK) {
        char *m = a->err_msg;
        strcpy(m, "impulse: ");
        strncat(m, tm_impulse_status_name((tm_impulse_status_t)a->impulse_status), 64);
        r->msg = m;
        return TM_ERR_NOT_SUPPORTED;
    }
    const tm_impulse_t *imp = &a->impulse;
    tm_sensor_t *s;
    e = pick_sensor(r, pl[0], &s);
    if (e)
        return e;
    const tm_sensor_desc_t *d = s->desc;
    const uint32_t rate = imp->sample_rate_hz;
    TM_REQUIRE(rate >= d->min_rate_hz && rate <= d->max_rate_hz, TM_ERR_RATE_UNSUPPORTED);
    const uint32_t ring_frames = TM_AGENT_RING_VALUES / d->channels;
    if (imp->window > ring_frames || imp->stride > ring_frames - imp->window) {
        r->msg = "the impulse's window and stride do not fit the agent's sample ring";
        return TM_ERR_MODEL_TOO_LARGE;
    }
    if (imp->has_anomaly && tm_impulse_arena_bytes(imp) > a->port->arena_size) {
        r->msg = "the impulse's anomaly model does not fit this agent's tensor arena";
        return TM_ERR_MODEL_TOO_LARGE;
    }
    if (tm_impulse_work_bytes(imp) > sizeof a->work) {
        r->msg = "the impulse needs a larger work buffer than the agent has";
        return TM_ERR_MODEL_TOO_LARGE;
    }
    e = tm_source_begin(a, s->id, rate);
    if (e)
        return e;

    memset(&a->cls, 0, sizeof a->cls);
    a->cls.active = 1;
    a->cls.sensor = s->id;
    a->cls.flags = flags;
    a->cls.channels = d->channels;
    a->cls.spf = tm_agent_pick_samples_per_frame(d, rate);
    a->cls.rate_hz = rate;
    a->cls.window = imp->window;
    a->cls.stride = imp->stride;
    a->cls.ring_frames = ring_frames;
    a->cls.max_windows = max_windows;
    a->cls.next_end = imp->window;
    tm_impulse_post_params(imp, &a->cls.post_params);
    tm_impulse_post_reset(&a->cls.post);
    a->cls.t0 = a->port->now(a->port->ctx);
    a->cls.busy_until = a->cls.t0;

    uint8_t *o = a->reply;
    o[0] = s->id;
    tm_put_u32(o + 1, rate);
    tm_put_u32(o + 5, imp->window);
    tm_put_u32(o + 9, imp->stride);
    tm_put_u16(o + 13, imp->class_count);
    tm_put_u32(o + 15, ring_frames);
    r->reply_len = 19;
    return TM_OK;
}

tm_error_t tm_classify_handle(tm_request_t *r, int *end_after_reply)
{
    switch (r->req->op) {
    case TM_OP_CLASSIFY_START:
        return classify_start(r);
    case TM_OP_CLASSIFY_STOP:
        TM_REQUIRE(r->req->payload_len == 0, TM_ERR_BAD_LENGTH);
        *end_after_reply = r->agent->cls.active;
        return TM_OK;
    default:
        return TM_ERR_INTERNAL;
    }
}

/* ---- the running classification ----------------------------------------------------- */

/* Frames the sensor has produced by `now` (paced), or what the next window needs. */
static uint32_t frames_due(const tm_agent_t *a, uint64_t now)
{
    const tm_port_t *p = a->port;
    uint64_t due;
    if (p->paced)
        due = (now - a->cls.t0) * a->cls.rate_hz / p->board.counter_hz;
    else
        due = a->cls.next_end > a->cls.read ? a->cls.next_end : a->cls.read;
    if (due > a->rec.limit)
        due = a->rec.limit;
    return (uint32_t)due;
}

/* Read frames up to `due` into the ring, wrapping; older frames are overwritten. */
static void fill_ring(tm_agent_t *a, uint32_t due)
{
    const uint32_t ch = a->cls.channels;
    while (a->cls.read < due) {
        uint32_t off = a->cls.read % a->cls.ring_frames;
        uint32_t chunk = due - a->cls.read;
        if (chunk > a->cls.ring_frames - off)
            chunk = a->cls.ring_frames - off;
        uint32_t got = tm_source_read(a, a->ring + (size_t)off * ch, chunk);
        a->cls.read += got;
        if (got < chunk)
            return; /* the replay failed: rec.limit now ends the recording here */
    }
}

/* Frames [first, end) from the ring as STREAM_DATA (at most two contiguous runs). */
static void send_raw(tm_agent_t *a, uint32_t first, uint32_t end)
{
    const uint32_t ch = a->cls.channels;
    while (first < end) {
        uint32_t off = first % a->cls.ring_frames;
        uint32_t n = end - first;
        if (n > a->cls.ring_frames - off)
            n = a->cls.ring_frames - off;
        tm_agent_send_samples(a, a->cls.sensor, first, a->ring + (size_t)off * ch, n, ch,
                              a->cls.spf);
        first += n;
    }
}

/* With an anomaly model the frame ends with its i8 score and u8 alarm (1: score above the
 * package's threshold); hosts tell the two layouts apart by the length. */
static void send_result(tm_agent_t *a, uint32_t window_end, const tm_impulse_decision_t *d,
                        const int8_t *scores, const int8_t *anomaly, uint64_t dsp,
                        uint64_t model, uint64_t post)
{
    const uint16_t cc = a->impulse.class_count;
    uint8_t *o = a->reply;
    uint32_t bits;
    tm_put_u32(o, window_end);
    o[4] = d->top_class;
    o[5] = d->decision;
    o[6] = d->flags;
    o[7] = (uint8_t)cc;
    memcpy(&bits, &d->score, 4);
    tm_put_u32(o + 8, bits);
    tm_put_u32(o + 12, dsp > UINT32_MAX ? UINT32_MAX : (uint32_t)dsp);
    tm_put_u32(o + 16, model > UINT32_MAX ? UINT32_MAX : (uint32_t)model);
    tm_put_u32(o + 20, post > UINT32_MAX ? UINT32_MAX : (uint32_t)post);
    tm_put_u32(o + 24, a->cls.overruns);
    memcpy(o + TM_CLASSIFY_RESULT_HEADER, scores, cc);
    uint32_t len = TM_CLASSIFY_RESULT_HEADER + cc;
    if (anomaly != NULL) {
        o[len] = (uint8_t)*anomaly;
        o[len + 1u] = (uint8_t)tm_impulse_anomaly_alarm(&a->impulse, *anomaly);
        len += 2u;
    }
    tm_agent_send_frame(a, a->dev_seq++, TM_OP_CLASSIFY_RESULT, o, len);
}

typedef struct {
    const tm_impulse_t *imp;
    const uint8_t *work;
} impulse_input_t;

static int8_t impulse_input_at(const void *ctx, uint32_t k)
{
    const impulse_input_t *in = (const impulse_input_t *)ctx;
    return tm_impulse_input_at(in->imp, in->work, k);
}

/* Computes the window ending at cls.next_end. Returns 0 when the impulse failed. */
static int run_window(tm_agent_t *a)
{
    const tm_port_t *p = a->port;
    const uint32_t ch = a->cls.channels;
    const uint32_t end = a->cls.next_end;
    const uint32_t first = end - a->cls.window;
    if (a->cls.flags & TM_CLASSIFY_RAW) {
        send_raw(a, first > a->cls.raw_sent ? first : a->cls.raw_sent, end);
        a->cls.raw_sent = end;
    }
    const uint32_t off = first % a->cls.ring_frames;
    uint32_t n_a = a->cls.ring_frames - off;
    if (n_a > a->cls.window)
        n_a = a->cls.window;
    const uint32_t n_b = a->cls.window - n_a;
    const uint64_t started = p->now(p->ctx);
    int8_t scores[TM_IMPULSE_MAX_CLASSES];
    int8_t anomaly = 0;
    tm_impulse_clock_t clock = {p->now, p->ctx, 0, 0};
    tm_impulse_status_t st = tm_impulse_run_window_anomaly(
        &a->impulse, a->ring + (size_t)off * ch, n_a, n_b ? a->ring : NULL, n_b,
        (uint8_t *)a->work, sizeof a->work, p->arena, p->arena_size, scores,
        a->impulse.has_anomaly ? &anomaly : NULL, &clock);
    if (st != TM_IMPULSE_OK) {
        char *m = a->err_msg;
        strcpy(m, "classification stopped: the impulse failed: ");
        strncat(m, tm_impulse_status_name(st), 64);
        tm_agent_send_log(a, m);
        return 0;
    }
    tm_impulse_decision_t d;
    const uint64_t t0 = p->now(p->ctx);
    tm_impulse_post_step(&a->cls.post_params, &a->cls.post, scores, end, &d);
    const uint64_t t1 = p->now(p->ctx);
    if (p->compute_stretch > 1u)
        a->cls.busy_until = started + (t1 - started) * p->compute_stretch;
    const impulse_input_t in = {&a->impulse, (const uint8_t *)a->work};
    tm_telemetry_add(a, TM_TELEMETRY_CLASSIFY, impulse_input_at, &in, a->impulse.feature_count,
                     scores, a->impulse.class_count, d.top_class,
                     d.decision == TM_IMPULSE_UNCERTAIN);
    a->cls.seen_end = end;
    a->cls.sent++;
    send_result(a, end, &d, scores, a->impulse.has_anomaly ? &anomaly : NULL, clock.dsp_ticks,
                clock.model_ticks, t1 - t0);
    return 1;
}

void tm_classify_poll(tm_agent_t *a)
{
    const tm_port_t *p = a->port;
    int computed = 0;
    for (;;) {
        fill_ring(a, frames_due(a, p->now(p->ctx)));
        if (a->cls.max_windows && a->cls.index >= a->cls.max_windows) {
            tm_classify_end(a, TM_STREAM_END_COMPLETE);
            return;
        }
        if (a->cls.next_end > a->cls.read) {
            if (a->cls.read >= a->rec.limit)
                tm_classify_end(a, TM_STREAM_END_REPLAY_END);
            return;
        }
        const uint32_t first = a->cls.next_end - a->cls.window;
        const uint32_t ring = a->cls.ring_frames;
        if (a->cls.read > ring && first < a->cls.read - ring) {
            /* overwritten before its turn: count it, and the frames that only it held
             * (the next window starts one stride later) that no computed window saw */
            uint32_t seen = a->cls.seen_end > first ? a->cls.seen_end : first;
            uint32_t next_first = first + a->cls.stride;
            if (next_first > seen)
                a->cls.frames_lost += next_first - seen;
            a->cls.overruns++;
        } else {
            if (computed == TM_CLASSIFY_WINDOWS_PER_POLL)
                return;
            /* still "computing" the previous window at the board's own speed */
            if (p->compute_stretch > 1u && p->now(p->ctx) < a->cls.busy_until)
                return;
            if (p->tx_ready && !p->tx_ready(p->ctx))
                return;
            if (!run_window(a)) {
                tm_classify_end(a, TM_STREAM_END_STOPPED);
                return;
            }
            computed++;
        }
        a->cls.index++;
        a->cls.next_end += a->cls.stride;
    }
}

uint64_t tm_classify_deadline(const tm_agent_t *a)
{
    const tm_port_t *p = a->port;
    if (!p->paced)
        return 0;
    if (p->compute_stretch > 1u && a->cls.busy_until > p->now(p->ctx))
        return a->cls.busy_until;
    uint64_t need = a->cls.next_end;
    if (need > a->rec.limit)
        need = a->rec.limit;
    if (a->cls.read >= need || (a->cls.max_windows && a->cls.index >= a->cls.max_windows))
        return 0;
    const uint64_t hz = p->board.counter_hz;
    return a->cls.t0 + (need * hz + a->cls.rate_hz - 1u) / a->cls.rate_hz;
}
