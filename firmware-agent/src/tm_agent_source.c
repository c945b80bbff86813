/* Where a recording's samples come from: the sensor itself, a replay file the port reads
 * (SENSOR_REPLAY), or the sensor following a scenario script (SENSOR_SCRIPT). Streams and
 * continuous classification both read through tm_source_read(), so a replay or a script
 * behaves the same for both (PROTOCOL.md, "Continuous classification and sensor replay").
 *
 * The agent keeps one replay or script at a time: the port has one replay file open at
 * most, and only one recording runs at a time anyway. */
#include <string.h>

#include "tm_agent_internal.h"

enum { SOURCE_SENSOR = 0, SOURCE_REPLAY = 1, SOURCE_SCRIPT = 2 };

/* Longest replay file name the agent passes to the port. */
#define TM_REPLAY_NAME_MAX 255u
/* Longest part of a file name an error message quotes. */
#define TM_REPLAY_NAME_QUOTED 96u

void tm_source_reset(tm_agent_t *a)
{
    const tm_port_t *p = a->port;
    if (a->source.mode == SOURCE_REPLAY && p->replay_close)
        p->replay_close(p->ctx);
    a->source.mode = SOURCE_SENSOR;
    a->source.steps = 0;
    a->source.file_frames = 0;
}

static uint32_t step_frames(const tm_agent_t *a, uint16_t step, uint32_t rate_hz)
{
    uint64_t f = (uint64_t)a->source.step_ms[step] * rate_hz / 1000u;
    return f > UINT32_MAX - 1u ? UINT32_MAX - 1u : (uint32_t)f;
}

static void script_select(tm_agent_t *a, tm_sensor_t *s, uint16_t step)
{
    const char *name = s->desc->scenarios[a->source.step_scenario[step]];
    if (s->set_scenario)
        s->set_scenario(s, name, strlen(name));
}

tm_error_t tm_source_begin(tm_agent_t *a, uint8_t sensor, uint32_t rate_hz)
{
    tm_sensor_t *s = a->port->sensors[sensor];
    const uint8_t mode = a->source.sensor == sensor ? a->source.mode : (uint8_t)SOURCE_SENSOR;
    a->rec.sensor = sensor;
    a->rec.mode = mode;
    a->rec.rate_hz = rate_hz;
    a->rec.pos = 0;
    a->rec.step = 0;
    a->rec.step_end = 0;
    a->rec.limit = UINT32_MAX;
    if (mode == SOURCE_REPLAY) {
        /* the file plays from its first frame at whatever rate was asked for */
        a->rec.limit = a->source.file_frames;
        return TM_OK;
    }
    tm_error_t e = s->start(s, rate_hz);
    if (e || mode != SOURCE_SCRIPT)
        return e;
    uint64_t total = 0;
    for (uint16_t i = 0; i < a->source.steps; ++i)
        total += step_frames(a, i, rate_hz);
    a->rec.limit = total > UINT32_MAX - 1u ? UINT32_MAX - 1u : (uint32_t)total;
    a->rec.step_end = step_frames(a, 0, rate_hz);
    script_select(a, s, 0);
    return TM_OK;
}

static int replay_read(tm_agent_t *a, int16_t *out, uint32_t n)
{
    const tm_port_t *p = a->port;
    const uint32_t ch = p->sensors[a->rec.sensor]->desc->channels;
    const uint32_t bytes = n * ch * 2u;
    uint8_t *b = (uint8_t *)out;
    if (p->replay_read == NULL ||
        p->replay_read(p->ctx, a->rec.pos * ch * 2u, b, bytes) != 0)
        return -1;
    /* the file is little-endian; in place: value i occupies exactly bytes 2i and 2i+1 */
    for (uint32_t i = 0; i < n * ch; ++i)
        out[i] = (int16_t)(uint16_t)(b[2u * i] | ((uint16_t)b[2u * i + 1u] << 8));
    return 0;
}

uint32_t tm_source_read(tm_agent_t *a, int16_t *out, uint32_t n)
{
    tm_sensor_t *s = a->port->sensors[a->rec.sensor];
    const uint32_t ch = s->desc->channels;
    uint32_t got = 0;
    while (got < n && a->rec.pos < a->rec.limit) {
        uint32_t chunk = n - got;
        if (a->rec.limit - a->rec.pos < chunk)
            chunk = a->rec.limit - a->rec.pos;
        if (a->rec.mode == SOURCE_SCRIPT) {
            /* scenario switches fall exactly on frame boundaries: split the read there */
            while (a->rec.pos >= a->rec.step_end && a->rec.step + 1u < a->source.steps) {
                a->rec.step++;
                a->rec.step_end += step_frames(a, a->rec.step, a->rec.rate_hz);
                script_select(a, s, a->rec.step);
            }
            if (a->rec.step_end - a->rec.pos < chunk)
                chunk = a->rec.step_end - a->rec.pos;
        }
        if (a->rec.mode == SOURCE_REPLAY) {
            if (replay_read(a, out + (size_t)got * ch, chunk) != 0) {
                tm_agent_send_log(a, "sensor replay: reading the file failed; the replay ends");
                a->rec.limit = a->rec.pos; /* the recording ends here, with REPLAY_END */
                break;
            }
        } else {
            s->read(s, out + (size_t)got * ch, chunk);
        }
        a->rec.pos += chunk;
        got += chunk;
    }
    return got;
}

/* ---- SENSOR_REPLAY / SENSOR_SCRIPT -------------------------------------------------- */

/* "<prefix><name><suffix>" into err_msg, the name cut to TM_REPLAY_NAME_QUOTED bytes. */
static const char *name_message(tm_agent_t *a, const char *prefix, const uint8_t *name,
                                size_t len, const char *suffix)
{
    char *m = a->err_msg;
    size_t n = strlen(prefix);
    memcpy(m, prefix, n);
    size_t q = len < TM_REPLAY_NAME_QUOTED ? len : TM_REPLAY_NAME_QUOTED;
    memcpy(m + n, name, q);
    n += q;
    size_t room = sizeof a->err_msg - 1u - n;
    size_t k = strlen(suffix);
    if (k > room)
        k = room;
    memcpy(m + n, suffix, k);
    m[n + k] = '\0';
    return m;
}

static int recording(const tm_agent_t *a)
{
    return a->stream.active || a->cls.active;
}

static tm_error_t handle_replay(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    const uint8_t *pl = r->req->payload;
    const size_t len = r->req->payload_len;
    tm_sensor_t *s;
    TM_REQUIRE(len >= 2, TM_ERR_BAD_LENGTH);
    tm_error_t e = tm_agent_sensor_of(r, pl[0], &s);
    if (e)
        return e;
    if (recording(a)) {
        r->msg = "stop the stream or classification before changing the sensor's source";
        return TM_ERR_BUSY;
    }
    if (pl[1] == TM_REPLAY_OFF) {
        TM_REQUIRE(len == 2, TM_ERR_BAD_LENGTH);
        if (a->source.mode == SOURCE_REPLAY && a->source.sensor == pl[0])
            tm_source_reset(a);
        tm_put_u32(a->reply, 0);
        r->reply_len = 4;
        return TM_OK;
    }
    if (pl[1] != TM_REPLAY_FILE) {
        r->msg = "unknown replay mode (0 off, 1 file)";
        return TM_ERR_BAD_ARGUMENT;
    }
    if (p->replay_open == NULL || p->replay_read == NULL) {
        r->msg = "this port cannot read replay files";
        return TM_ERR_NOT_SUPPORTED;
    }
    const uint8_t *name = pl + 2;
    const size_t name_len = len - 2u;
    if (name_len == 0 || name_len > TM_REPLAY_NAME_MAX) {
        r->msg = "replay file name must be 1..255 bytes";
        return TM_ERR_BAD_ARGUMENT;
    }
    /* one file at a time: the previous replay or script ends whatever happens below */
    tm_source_reset(a);
    uint32_t bytes = 0;
    if (p->replay_open(p->ctx, (const char *)name, name_len, &bytes) != 0) {
        r->msg = name_message(a, "cannot open replay file ", name, name_len, "");
        return TM_ERR_BAD_ARGUMENT;
    }
    const uint32_t frame_bytes = 2u * s->desc->channels;
    if (bytes == 0 || bytes % frame_bytes != 0) {
        if (p->replay_close)
            p->replay_close(p->ctx);
        if (bytes == 0) {
            r->msg = name_message(a, "replay file ", name, name_len, " is empty");
        } else {
            char tail[64];
            strcpy(tail, ": size ");
            tm_agent_format_u32(tail + strlen(tail), bytes);
            strcat(tail, " is not a multiple of ");
            tm_agent_format_u32(tail + strlen(tail), frame_bytes);
            strcat(tail, " (2 x channels)");
            r->msg = name_message(a, "replay file ", name, name_len, tail);
        }
        return TM_ERR_BAD_ARGUMENT;
    }
    a->source.mode = SOURCE_REPLAY;
    a->source.sensor = pl[0];
    a->source.file_frames = bytes / frame_bytes;
    tm_put_u32(a->reply, a->source.file_frames);
    r->reply_len = 4;
    return TM_OK;
}

static tm_error_t handle_script(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const uint8_t *pl = r->req->payload;
    const size_t len = r->req->payload_len;
    tm_sensor_t *s;
    TM_REQUIRE(len >= 3, TM_ERR_BAD_LENGTH);
    tm_error_t e = tm_agent_sensor_of(r, pl[0], &s);
    if (e)
        return e;
    const uint16_t steps = tm_get_u16(pl + 1);
    if (steps > TM_SCRIPT_MAX_STEPS) {
        r->msg = "a script has at most 256 steps";
        return TM_ERR_BAD_ARGUMENT;
    }
    TM_REQUIRE(len == 3u + 5u * (size_t)steps, TM_ERR_BAD_LENGTH);
    if (recording(a)) {
        r->msg = "stop the stream or classification before changing the sensor's source";
        return TM_ERR_BUSY;
    }
    uint64_t total = 0;
    for (uint16_t i = 0; i < steps; ++i) {
        const uint8_t *st = pl + 3u + 5u * i;
        if (st[0] >= s->desc->scenario_count) {
            char *m = a->err_msg;
            strcpy(m, "script step ");
            tm_agent_format_u32(m + strlen(m), i);
            strcat(m, ": scenario index ");
            tm_agent_format_u32(m + strlen(m), st[0]);
            strcat(m, " is past the sensor's list");
            r->msg = m;
            return TM_ERR_NO_SCENARIO;
        }
        total += (uint64_t)tm_get_u32(st + 1) * s->desc->default_rate_hz / 1000u;
    }
    if (total >= UINT32_MAX) {
        r->msg = "script longer than 2^32 frames";
        return TM_ERR_BAD_ARGUMENT;
    }
    if (steps == 0) {
        if (a->source.mode == SOURCE_SCRIPT && a->source.sensor == pl[0])
            tm_source_reset(a);
    } else {
        tm_source_reset(a);
        a->source.mode = SOURCE_SCRIPT;
        a->source.sensor = pl[0];
        a->source.steps = steps;
        for (uint16_t i = 0; i < steps; ++i) {
            a->source.step_scenario[i] = pl[3u + 5u * i];
            a->source.step_ms[i] = tm_get_u32(pl + 4u + 5u * i);
        }
    }
    tm_put_u32(a->reply, (uint32_t)total);
    r->reply_len = 4;
    return TM_OK;
}

tm_error_t tm_source_handle(tm_request_t *r)
{
    switch (r->req->op) {
    case TM_OP_SENSOR_REPLAY: return handle_replay(r);
    case TM_OP_SENSOR_SCRIPT: return handle_script(r);
    default: return TM_ERR_INTERNAL;
    }
}
