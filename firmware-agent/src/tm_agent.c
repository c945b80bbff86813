/* The agent's protocol dispatcher, INFO and sensor streaming (PROTOCOL.md). Continuous
 * classification is in tm_agent_classify.c, replay and scripts in tm_agent_source.c. */
#include <string.h>

#include "tm_agent_internal.h"

/* Unsolicited ERROR frames for dropped input: at most one per this many ms. */
#define TM_DROP_REPORT_MS 100u

#ifndef TM_AGENT_BUILD
#if defined(__clang__)
#define TM_AGENT_BUILD "clang " __clang_version__ ", " __DATE__ " " __TIME__
#elif defined(__GNUC__)
#define TM_AGENT_BUILD "gcc " __VERSION__ ", " __DATE__ " " __TIME__
#else
#define TM_AGENT_BUILD "unknown compiler, " __DATE__ " " __TIME__
#endif
#endif

/* ---- output ------------------------------------------------------------------------ */

void tm_agent_send_frame(tm_agent_t *a, uint8_t seq, uint8_t op, const uint8_t *payload,
                         size_t len)
{
    const tm_port_t *p = a->port;
    if (a->need_delimiter) {
        /* text went out since the last frame: close it so the host's decoder resyncs */
        static const uint8_t zero = 0;
        p->write(p->ctx, &zero, 1);
        a->need_delimiter = 0;
    }
    size_t n = tm_frame_encode(seq, op, payload, len, a->tx_buf, sizeof a->tx_buf);
    if (n)
        p->write(p->ctx, a->tx_buf, n);
}

void tm_agent_write_text(tm_agent_t *a, const char *text)
{
    a->port->write(a->port->ctx, (const uint8_t *)text, strlen(text));
    a->need_delimiter = 1;
}

void tm_agent_send_log(tm_agent_t *a, const char *text)
{
    size_t n = strlen(text);
    if (n > TM_MAX_PAYLOAD)
        n = TM_MAX_PAYLOAD;
    tm_agent_send_frame(a, a->dev_seq++, TM_OP_LOG, (const uint8_t *)text, n);
}

size_t tm_agent_format_u32(char *out, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    for (size_t i = 0; i < n; ++i)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

static const char *error_name(tm_error_t e)
{
    switch (e) {
    case TM_ERR_BAD_CRC: return "bad CRC";
    case TM_ERR_UNKNOWN_OP: return "unknown op";
    case TM_ERR_BAD_LENGTH: return "bad payload length";
    case TM_ERR_BAD_ARGUMENT: return "argument out of range";
    case TM_ERR_BUSY: return "busy";
    case TM_ERR_NO_SENSOR: return "no such sensor";
    case TM_ERR_RATE_UNSUPPORTED: return "rate outside the sensor's range";
    case TM_ERR_NO_MODEL: return "no valid model in the active slot";
    case TM_ERR_MODEL_TOO_LARGE: return "package larger than a model slot";
    case TM_ERR_MODEL_CRC: return "package CRC mismatch; previous model kept";
    case TM_ERR_UPLOAD_SEQUENCE: return "upload out of sequence";
    case TM_ERR_NOT_SUPPORTED: return "not supported by this agent build";
    case TM_ERR_INTERNAL: return "internal error";
    case TM_ERR_NO_SCENARIO: return "unknown scenario";
    case TM_ERR_UNSIGNED: return "package not signed; the board takes signed packages only";
    case TM_ERR_WRONG_KEY: return "package signed by another key";
    case TM_ERR_BAD_SIGNATURE: return "signature does not match the package";
    case TM_ERR_SIGNED_MALFORMED: return "signature block malformed";
    case TM_ERR_ROLLBACK: return "package version older than the board's (anti-rollback)";
    case TM_ERR_ALREADY_PROVISIONED: return "board already provisioned with another key";
    case TM_ERR_NOT_PROVISIONED: return "board has no device identity (provision it first)";
    case TM_ERR_NO_PREVIOUS_MODEL: return "nothing to revert to";
    default: return "error";
    }
}

static void send_error(tm_agent_t *a, uint8_t seq, uint8_t req_op, tm_error_t code,
                       const char *msg)
{
    uint8_t buf[3 + sizeof a->err_msg];
    size_t n = strlen(msg);
    if (n > sizeof buf - 3)
        n = sizeof buf - 3;
    a->error_replies++;
    buf[0] = req_op;
    tm_put_u16(buf + 1, (uint16_t)code);
    memcpy(buf + 3, msg, n);
    tm_agent_send_frame(a, seq, TM_OP_ERROR, buf, 3 + n);
}

static void report_drop(tm_agent_t *a, tm_frame_status_t st)
{
    const tm_port_t *p = a->port;
    uint64_t now = p->now(p->ctx);
    uint64_t gap = (uint64_t)p->board.counter_hz * TM_DROP_REPORT_MS / 1000u;
    if (a->drop_reported && now - a->last_drop_report < gap) {
        a->drops_suppressed++;
        return;
    }
    a->drop_reported = 1;
    a->last_drop_report = now;
    tm_error_t code = st == TM_FRAME_ERR_CRC ? TM_ERR_BAD_CRC : TM_ERR_BAD_LENGTH;
    const char *msg = st == TM_FRAME_ERR_CRC     ? "dropped a frame: CRC mismatch"
                      : st == TM_FRAME_ERR_COBS  ? "dropped a frame: invalid COBS"
                      : st == TM_FRAME_ERR_SHORT ? "dropped a frame: too short or too long"
                                                 : "dropped input: frame too long";
    send_error(a, 0, 0, code, msg);
    a->drops_suppressed = 0;
}

/* ---- INFO -------------------------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t cap;
    size_t len;
    int overflow;
    size_t rec;                   /* start of the open record */
} tlv_writer_t;

static void w_bytes(tlv_writer_t *w, const void *d, size_t n)
{
    if (w->overflow || w->len + n > w->cap) {
        w->overflow = 1;
        return;
    }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}
static void w_u8(tlv_writer_t *w, uint8_t v) { w_bytes(w, &v, 1); }
static void w_u16(tlv_writer_t *w, uint16_t v)
{
    uint8_t b[2];
    tm_put_u16(b, v);
    w_bytes(w, b, 2);
}
static void w_u32(tlv_writer_t *w, uint32_t v)
{
    uint8_t b[4];
    tm_put_u32(b, v);
    w_bytes(w, b, 4);
}
static void w_f32(tlv_writer_t *w, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    w_u32(w, bits);
}
static void w_lstr(tlv_writer_t *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 255)
        n = 255;
    w_u8(w, (uint8_t)n);
    w_bytes(w, s, n);
}
static void w_open(tlv_writer_t *w, uint8_t tag)
{
    w_u8(w, tag);
    w->rec = w->len;
    w_u8(w, 0);
}
static void w_close(tlv_writer_t *w)
{
    if (w->overflow)
        return;
    size_t n = w->len - w->rec - 1u;
    if (n > 255) {
        w->overflow = 1;
        return;
    }
    w->p[w->rec] = (uint8_t)n;
}
static void w_str_tlv(tlv_writer_t *w, uint8_t tag, const char *s)
{
    size_t n = strlen(s);
    if (n > 255)
        n = 255;
    w_open(w, tag);
    w_bytes(w, s, n);
    w_close(w);
}
static void w_u32_tlv(tlv_writer_t *w, uint8_t tag, uint32_t v)
{
    w_open(w, tag);
    w_u32(w, v);
    w_close(w);
}

size_t tm_agent_build_info(const tm_agent_t *a, uint8_t *out, size_t cap)
{
    const tm_port_t *p = a->port;
    const tm_board_info_t *b = &p->board;
    tlv_writer_t w = {out, cap, 0, 0, 0};
    int simulated = 0;

    w_open(&w, TM_INFO_PROTOCOL_VERSION);
    w_u16(&w, TM_PROTOCOL_VERSION);
    w_close(&w);
    w_str_tlv(&w, TM_INFO_AGENT_VERSION, TM_AGENT_VERSION);
    w_str_tlv(&w, TM_INFO_BOARD_ID, b->board_id);
    w_str_tlv(&w, TM_INFO_CPU, b->cpu);
    w_u32_tlv(&w, TM_INFO_CLOCK_HZ, b->clock_hz);
    w_u32_tlv(&w, TM_INFO_RAM_BYTES, b->ram_bytes);
    w_u32_tlv(&w, TM_INFO_FLASH_BYTES, b->flash_bytes);
    w_u32_tlv(&w, TM_INFO_RAM_FREE, b->ram_free);
    w_u32_tlv(&w, TM_INFO_FLASH_FREE, p->slot_size);
    w_open(&w, TM_INFO_COUNTER);
    w_u8(&w, b->counter_kind);
    w_u32(&w, b->counter_resolution);
    w_close(&w);
    uint32_t caps = TM_CAP_MODEL_UPLOAD | TM_CAP_MLPERF_TEXT | b->capabilities;
    if (p->sensor_count)
        caps |= TM_CAP_STREAMING;
    for (uint8_t i = 0; i < p->sensor_count; ++i)
        if (p->sensors[i]->desc->scenario_count)
            caps |= TM_CAP_SCENARIOS;
    if (tm_model_ready(a))
        caps |= TM_CAP_INFERENCE;
    if (p->sensor_count)
        caps |= TM_CAP_CLASSIFY;
    if (p->sensor_count && p->replay_open && p->replay_read)
        caps |= TM_CAP_SENSOR_REPLAY;
    if (p->provision_persist && p->provision_load)
        caps |= TM_CAP_SIGNED_PACKAGES;
    if (p->provision_persist && p->provision_load && p->identity_persist && p->identity_load)
        caps |= TM_CAP_ATTESTATION;
    caps |= TM_CAP_MODEL_REVERT;
    caps |= TM_CAP_TELEMETRY;
    w_u32_tlv(&w, TM_INFO_CAPABILITIES, caps);

    for (uint8_t i = 0; i < p->sensor_count; ++i) {
        const tm_sensor_t *s = p->sensors[i];
        const tm_sensor_desc_t *d = s->desc;
        w_open(&w, TM_INFO_SENSOR);
        w_u8(&w, s->id);
        w_u8(&w, d->kind);
        w_u8(&w, d->dtype);
        w_u8(&w, d->channels);
        w_f32(&w, d->scale);
        w_u32(&w, d->min_rate_hz);
        w_u32(&w, d->max_rate_hz);
        w_u32(&w, d->default_rate_hz);
        w_lstr(&w, d->name);
        for (uint8_t c = 0; c < d->channels; ++c) {
            w_lstr(&w, d->channel_names[c]);
            w_lstr(&w, d->channel_units[c]);
        }
        w_close(&w);
        simulated |= d->simulated;
    }
    if (simulated)
        w_str_tlv(&w, TM_INFO_SIMULATOR,
                  "simulated sensors: signals are synthesised from the selected scenario "
                  "with noise and per-recording variation; no physical sensor is read");
    for (uint8_t i = 0; i < p->sensor_count; ++i) {
        const tm_sensor_t *s = p->sensors[i];
        if (!s->desc->scenario_count)
            continue;
        w_open(&w, TM_INFO_SCENARIOS);
        w_u8(&w, s->id);
        for (uint8_t k = 0; k < s->desc->scenario_count; ++k)
            w_lstr(&w, s->desc->scenarios[k]);
        w_close(&w);
    }
    w_str_tlv(&w, TM_INFO_BUILD, TM_AGENT_BUILD);
    w_open(&w, TM_INFO_MODEL_SLOTS);
    w_u8(&w, TM_MODEL_SLOTS);
    w_u32(&w, p->slot_size);
    w_close(&w);
    w_open(&w, TM_INFO_MODEL_FORMAT);
    w_u16(&w, TM_AGENT_MODEL_FORMAT_VERSION);
    for (uint32_t code = 0; code < 256u; ++code)
        if (tm_model_op_supported(code))
            w_u8(&w, (uint8_t)code);
    w_close(&w);
    w_open(&w, TM_INFO_IMPULSE);
    w_u16(&w, TM_IMPULSE_FORMAT_VERSION);
    w_u32(&w, tm_impulse_dsp_supported_mask());
    w_u32(&w, tm_impulse_post_supported_mask());
    w_u32(&w, TM_AGENT_RING_VALUES);
    w_u32(&w, TM_AGENT_IMPULSE_WORK_BYTES);
    w_close(&w);
    if (caps & TM_CAP_SIGNED_PACKAGES) {
        uint8_t sec[TM_INFO_SECURITY_BYTES];
        tm_model_security_info(a, sec);
        w_open(&w, TM_INFO_SECURITY);
        for (unsigned i = 0; i < TM_INFO_SECURITY_BYTES; ++i)
            w_u8(&w, sec[i]);
        w_close(&w);
    }
    return w.overflow ? 0 : w.len;
}

/* ---- streaming --------------------------------------------------------------------- */

uint16_t tm_agent_pick_samples_per_frame(const tm_sensor_desc_t *d, uint32_t rate_hz)
{
    uint32_t by_size = (TM_STREAM_TARGET_PAYLOAD - TM_STREAM_HEADER) / (2u * d->channels);
    uint32_t by_rate = rate_hz / TM_STREAM_MIN_FRAME_RATE;
    uint32_t n = by_rate < by_size ? by_rate : by_size;
    return (uint16_t)(n ? n : 1u);
}

static void stream_end(tm_agent_t *a, uint8_t reason)
{
    uint8_t b[6];
    b[0] = a->stream.sensor;
    tm_put_u32(b + 1, a->stream.sent);
    b[5] = reason;
    a->stream.active = 0;
    tm_agent_send_frame(a, a->dev_seq++, TM_OP_STREAM_END, b, sizeof b);
}

static uint32_t stream_due(const tm_agent_t *a, uint64_t now)
{
    const tm_port_t *p = a->port;
    uint64_t due;
    if (!p->paced) {
        due = (uint64_t)a->stream.sent + a->stream.spf;
    } else {
        uint64_t elapsed = now - a->stream.t0;
        due = elapsed * a->stream.rate_hz / p->board.counter_hz;
    }
    if (a->stream.n_total && due > a->stream.n_total)
        due = a->stream.n_total;
    if (due > a->rec.limit)
        due = a->rec.limit;
    if (due > UINT32_MAX)
        due = UINT32_MAX;
    return (uint32_t)due;
}

void tm_agent_send_samples(tm_agent_t *a, uint8_t sensor, uint32_t first, const int16_t *v,
                           uint32_t n, uint32_t channels, uint16_t spf)
{
    uint8_t *pl = a->reply;
    while (n) {
        uint32_t k = n < spf ? n : spf;
        pl[0] = sensor;
        tm_put_u32(pl + 1, first);
        tm_put_u16(pl + 5, (uint16_t)k);
        for (uint32_t i = 0; i < k * channels; ++i)
            tm_put_u16(pl + TM_STREAM_HEADER + 2u * i, (uint16_t)v[i]);
        tm_agent_send_frame(a, a->dev_seq++, TM_OP_STREAM_DATA, pl,
                            TM_STREAM_HEADER + 2u * k * channels);
        first += k;
        v += k * channels;
        n -= k;
    }
}

/* Returns 0 when the source ended before n frames (a failed replay read). */
static int stream_send(tm_agent_t *a, uint32_t n)
{
    const tm_sensor_t *s = a->port->sensors[a->stream.sensor];
    uint32_t got = tm_source_read(a, a->samples, n);
    tm_agent_send_samples(a, a->stream.sensor, a->stream.sent, a->samples, got,
                          s->desc->channels, a->stream.spf);
    a->stream.sent += got;
    return got == n;
}

void tm_agent_poll(tm_agent_t *a)
{
    const tm_port_t *p = a->port;
    if (a->cls.active)
        tm_classify_poll(a);
    if (!a->stream.active)
        return;
    uint32_t due = stream_due(a, p->now(p->ctx));
    /* A real sensor's FIFO holds a fraction of a second; beyond that samples are lost. */
    uint32_t limit = a->stream.rate_hz / 2u;
    if (limit < 4u * a->stream.spf)
        limit = 4u * a->stream.spf;
    /* a few frames per call, so requests (STREAM_STOP) are served in between */
    for (int k = 0; k < 4; ++k) {
        uint32_t left = a->stream.n_total ? a->stream.n_total - a->stream.sent : UINT32_MAX;
        if (left == 0) {
            stream_end(a, TM_STREAM_END_COMPLETE);
            return;
        }
        /* a replay file or a script ends the recording by itself */
        if (a->stream.sent >= a->rec.limit) {
            stream_end(a, TM_STREAM_END_REPLAY_END);
            return;
        }
        if (a->rec.limit - a->stream.sent < left)
            left = a->rec.limit - a->stream.sent;
        uint32_t backlog = due - a->stream.sent;
        if (p->paced && backlog > limit) {
            stream_end(a, TM_STREAM_END_OVERRUN);
            return;
        }
        uint32_t n = a->stream.spf < left ? a->stream.spf : left;
        if (backlog < n)
            return;
        if (p->tx_ready && !p->tx_ready(p->ctx))
            return;
        if (!stream_send(a, n)) {
            stream_end(a, TM_STREAM_END_REPLAY_END);
            return;
        }
    }
}

uint64_t tm_agent_next_deadline(const tm_agent_t *a)
{
    const tm_port_t *p = a->port;
    if (a->cls.active)
        return tm_classify_deadline(a);
    if (!a->stream.active)
        return UINT64_MAX;
    if (!p->paced)
        return 0;
    uint64_t next = (uint64_t)a->stream.sent + a->stream.spf;
    if (a->stream.n_total && next > a->stream.n_total)
        next = a->stream.n_total;
    if (next > a->rec.limit)
        next = a->rec.limit;
    uint64_t hz = p->board.counter_hz;
    return a->stream.t0 + (next * hz + a->stream.rate_hz - 1u) / a->stream.rate_hz;
}

tm_error_t tm_agent_sensor_of(tm_request_t *r, uint8_t id, tm_sensor_t **out)
{
    const tm_port_t *p = r->agent->port;
    TM_REQUIRE(id < p->sensor_count && p->sensors[id] != NULL, TM_ERR_NO_SENSOR);
    *out = p->sensors[id];
    return TM_OK;
}

static tm_error_t handle_stream_start(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const uint8_t *pl = r->req->payload;
    tm_sensor_t *s;
    TM_REQUIRE(r->req->payload_len == 11, TM_ERR_BAD_LENGTH);
    tm_error_t e = tm_agent_sensor_of(r, pl[0], &s);
    if (e)
        return e;
    TM_REQUIRE(!a->stream.active, TM_ERR_BUSY);
    if (a->cls.active) {
        r->msg = "a classification is running";
        return TM_ERR_BUSY;
    }
    uint32_t rate = tm_get_u32(pl + 1);
    uint32_t n_total = tm_get_u32(pl + 5);
    uint16_t spf = tm_get_u16(pl + 9);
    const tm_sensor_desc_t *d = s->desc;
    TM_REQUIRE(rate >= d->min_rate_hz && rate <= d->max_rate_hz, TM_ERR_RATE_UNSUPPORTED);
    uint32_t max_spf = (TM_MAX_PAYLOAD - TM_STREAM_HEADER) / (2u * d->channels);
    if (spf > max_spf) {
        r->msg = "samples_per_frame exceeds one frame's payload";
        return TM_ERR_BAD_ARGUMENT;
    }
    if (spf == 0)
        spf = tm_agent_pick_samples_per_frame(d, rate);
    e = tm_source_begin(a, pl[0], rate);
    if (e)
        return e;
    a->stream.active = 1;
    a->stream.sensor = pl[0];
    a->stream.rate_hz = rate;
    a->stream.n_total = n_total;
    a->stream.spf = spf;
    a->stream.sent = 0;
    a->stream.t0 = a->port->now(a->port->ctx);
    a->reply[0] = pl[0];
    tm_put_u32(a->reply + 1, rate);
    tm_put_u16(a->reply + 5, spf);
    r->reply_len = 7;
    return TM_OK;
}

/* ---- requests ---------------------------------------------------------------------- */

static tm_error_t handle_info(tm_request_t *r)
{
    size_t n = tm_agent_build_info(r->agent, r->agent->reply, sizeof r->agent->reply);
    TM_REQUIRE(n > 0, TM_ERR_INTERNAL);
    r->reply_len = n;
    return TM_OK;
}

static tm_error_t handle_set_scenario(tm_request_t *r)
{
    const uint8_t *pl = r->req->payload;
    tm_sensor_t *s;
    TM_REQUIRE(r->req->payload_len >= 2, TM_ERR_BAD_LENGTH);
    tm_error_t e = tm_agent_sensor_of(r, pl[0], &s);
    if (e)
        return e;
    TM_REQUIRE(s->set_scenario != NULL, TM_ERR_NO_SCENARIO);
    return s->set_scenario(s, (const char *)pl + 1, r->req->payload_len - 1u);
}

static tm_error_t handle_set_seed(tm_request_t *r)
{
    const uint8_t *pl = r->req->payload;
    tm_sensor_t *s;
    TM_REQUIRE(r->req->payload_len == 5, TM_ERR_BAD_LENGTH);
    tm_error_t e = tm_agent_sensor_of(r, pl[0], &s);
    if (e)
        return e;
    if (s->set_seed)
        s->set_seed(s, tm_get_u32(pl + 1));
    return TM_OK;
}

static void link_test(tm_agent_t *a, uint8_t seq, uint8_t n)
{
    const tm_port_t *p = a->port;
    uint8_t garbage[255];
    uint32_t x = 0xA5A5F00Du ^ ((uint32_t)seq << 8);
    for (uint8_t i = 0; i < n; ++i) {
        uint8_t b = (uint8_t)(tm_xorshift32(&x) >> 24);
        garbage[i] = b ? b : 0x55u;
    }
    if (n) {
        static const uint8_t zero = 0;
        p->write(p->ctx, garbage, n);
        p->write(p->ctx, &zero, 1);
    }
    static const char text[] = "LINK_TEST: this frame has a wrong CRC";
    uint8_t *raw = a->reply;
    const size_t n_text = sizeof text - 1u;
    raw[0] = a->dev_seq++;
    raw[1] = TM_OP_LOG;
    memcpy(raw + 2, text, n_text);
    tm_put_u32(raw + 2 + n_text, ~tm_crc32(0, raw, 2 + n_text));
    size_t len = tm_cobs_encode(raw, n_text + TM_FRAME_OVERHEAD, a->tx_buf, sizeof a->tx_buf - 1u);
    a->tx_buf[len++] = 0;
    p->write(p->ctx, a->tx_buf, len);
}

static void dispatch(tm_agent_t *a, const tm_frame_t *f)
{
    tm_request_t r = {a, f, 0, NULL};
    tm_error_t e = TM_OK;
    const uint16_t len = f->payload_len;
    int stop_stream = 0;
    int stop_classify = 0;

    switch (f->op) {
    case TM_OP_HELLO:
        if (len != 2) {
            e = TM_ERR_BAD_LENGTH;
            break;
        }
        /* a new session: a stream or upload of the previous host must not linger */
        tm_model_abort_upload(a);
        stop_stream = a->stream.active;
        stop_classify = a->cls.active;
        e = handle_info(&r);
        break;
    case TM_OP_GET_INFO:
        e = len == 0 ? handle_info(&r) : TM_ERR_BAD_LENGTH;
        break;
    case TM_OP_PING:
        memcpy(a->reply, f->payload, len);
        r.reply_len = len;
        break;
    case TM_OP_RESET:
        if (len != 0) {
            e = TM_ERR_BAD_LENGTH;
            break;
        }
        tm_agent_send_frame(a, f->seq, (uint8_t)(f->op | TM_OP_REPLY), NULL, 0);
        a->port->reset(a->port->ctx);
        a->restart = 1;
        return;
    case TM_OP_SET_SCENARIO:
        e = handle_set_scenario(&r);
        break;
    case TM_OP_STREAM_START:
        e = handle_stream_start(&r);
        break;
    case TM_OP_STREAM_STOP:
        if (len != 0) {
            e = TM_ERR_BAD_LENGTH;
            break;
        }
        stop_stream = a->stream.active;
        break;
    case TM_OP_MODEL_BEGIN:
    case TM_OP_MODEL_CHUNK:
    case TM_OP_MODEL_COMMIT:
    case TM_OP_MODEL_INFO:
    case TM_OP_PROVISION:
    case TM_OP_ATTEST:
    case TM_OP_MODEL_REVERT:
    case TM_OP_MODEL_CONFIRM:
        e = tm_model_handle(&r);
        break;
    case TM_OP_SET_INPUT:
    case TM_OP_INVOKE:
    case TM_OP_GET_OUTPUT:
    case TM_OP_BENCHMARK:
    case TM_OP_LAYER_PROFILE:
        e = tm_io_handle(&r);
        break;
    case TM_OP_SET_SENSOR_SEED:
        e = handle_set_seed(&r);
        break;
    case TM_OP_CLASSIFY_START:
    case TM_OP_CLASSIFY_STOP:
        e = tm_classify_handle(&r, &stop_classify);
        break;
    case TM_OP_SENSOR_REPLAY:
    case TM_OP_SENSOR_SCRIPT:
        e = tm_source_handle(&r);
        break;
    case TM_OP_TELEMETRY:
        e = tm_telemetry_handle(&r);
        break;
    case TM_OP_LINK_TEST:
        if (len != 1) {
            e = TM_ERR_BAD_LENGTH;
            break;
        }
        link_test(a, f->seq, f->payload[0]);
        break;
    default:
        e = TM_ERR_UNKNOWN_OP;
        break;
    }

    if (e != TM_OK)
        send_error(a, f->seq, f->op, e, r.msg ? r.msg : error_name(e));
    else
        tm_agent_send_frame(a, f->seq, (uint8_t)(f->op | TM_OP_REPLY), a->reply, r.reply_len);
    if (stop_stream)
        stream_end(a, TM_STREAM_END_STOPPED);
    if (stop_classify)
        tm_classify_end(a, TM_STREAM_END_STOPPED);
    if (f->op == TM_OP_HELLO && e == TM_OK) {
        /* a new host must not find the sensor still replaying what the last one set: INFO
         * cannot tell it, and it would take a replay for the sensor's own signal */
        tm_source_reset(a);
    }
}

/* ---- entry points ------------------------------------------------------------------ */

tm_error_t tm_agent_init(tm_agent_t *a, const tm_port_t *port)
{
    TM_REQUIRE(a != NULL && port != NULL && port->write != NULL && port->now != NULL,
               TM_ERR_BAD_ARGUMENT);
    TM_REQUIRE(port->board.counter_hz > 0 && port->sensor_count <= TM_MAX_SENSORS,
               TM_ERR_BAD_ARGUMENT);
    memset(a, 0, sizeof *a);
    a->port = port;
    if (port->replay_close)
        port->replay_close(port->ctx); /* a RESET forgets the replay the port may hold open */
    tm_frame_decoder_init(&a->dec, a->rx_buf, sizeof a->rx_buf);
    tm_model_init(a);
    return TM_OK;
}

void tm_agent_feed(tm_agent_t *a, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        tm_frame_t f;
        tm_frame_status_t st = tm_frame_decoder_push(&a->dec, data[i], &f);
        if (st == TM_FRAME_READY)
            dispatch(a, &f);
        else if (st != TM_FRAME_NONE)
            report_drop(a, st);
        if (a->restart) {
            tm_agent_init(a, a->port);
            continue;
        }
        /* after the decoder: a completed text command clears the decoder's buffer too */
        tm_mlperf_byte(a, data[i]);
    }
}
