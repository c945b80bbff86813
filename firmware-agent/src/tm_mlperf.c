/* MLPerf Tiny / EEMBC DUT text commands on the same byte stream as the binary frames.
 *
 * A command is the printable text received since the last 0x00 or '%'. It is taken as a
 * command only if no non-text byte arrived since the last 0x00 and at least two bytes
 * precede the '%': a request frame always carries its op byte (0x01..0x1A, not text)
 * at one of its first three bytes, so a '%' in a frame's first two bytes (COBS code, seq)
 * can never cut a binary frame short. */
#include <string.h>

#include "tm_agent_internal.h"

static int is_text(uint8_t b)
{
    return (b >= 0x20u && b <= 0x7Eu) || b == '\r' || b == '\n' || b == '\t';
}

static int is_space(char c)
{
    return c == ' ' || c == '\r' || c == '\n' || c == '\t';
}

static void reply_line(tm_agent_t *a, const char *s)
{
    tm_agent_write_text(a, s);
    tm_agent_write_text(a, "\r\n");
}

/* prefix + decimal n + suffix (both short literals) */
static void reply_count(tm_agent_t *a, const char *prefix, uint32_t n, const char *suffix)
{
    char line[48];
    size_t k = strlen(prefix);
    memcpy(line, prefix, k);
    k += tm_agent_format_u32(line + k, n);
    strcpy(line + k, suffix);
    reply_line(a, line);
}

/* "e-[" + text + "]" */
static void reply_error(tm_agent_t *a, const char *what, const char *arg, size_t arg_len)
{
    char line[128];
    size_t n = 0;
    const size_t cap = sizeof line - 2u; /* room for "]" and NUL */
    line[n++] = 'e';
    line[n++] = '-';
    line[n++] = '[';
    for (const char *p = what; *p && n < cap; ++p)
        line[n++] = *p;
    for (size_t i = 0; arg && i < arg_len && n < cap; ++i)
        line[n++] = arg[i];
    line[n++] = ']';
    line[n] = '\0';
    reply_line(a, line);
}

/* Parse a decimal u32 at *p; advances *p. Returns 0 on failure. */
static int parse_u32(const char **p, const char *end, uint32_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (s >= end || *s < '0' || *s > '9')
        return 0;
    while (s < end && *s >= '0' && *s <= '9') {
        v = v * 10u + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return 0;
        ++s;
    }
    *p = s;
    *out = (uint32_t)v;
    return 1;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static void cmd_db(tm_agent_t *a, const char *s, const char *end)
{
    /* s points after "db " */
    if (end - s >= 5 && memcmp(s, "load ", 5) == 0) {
        const char *p = s + 5;
        uint32_t n;
        if (!parse_u32(&p, end, &n) || p != end || n == 0) {
            reply_error(a, "db load needs a byte count", NULL, 0);
            return;
        }
        if (n > sizeof a->input) {
            char num[12];
            tm_agent_format_u32(num, (uint32_t)sizeof a->input);
            reply_error(a, "db load too large; input buffer bytes: ", num, strlen(num));
            a->db_expected = 0;
            return;
        }
        a->db_expected = n;
        a->db_received = 0;
        /* as the reference DUT firmware answers */
        reply_count(a, "m-[Expecting ", n, " bytes]");
        return;
    }
    size_t digits = (size_t)(end - s);
    if (digits == 0 || digits % 2u) {
        reply_error(a, "db expects an even number of hex digits", NULL, 0);
        return;
    }
    for (const char *p = s; p < end; ++p) {
        if (hex_val(*p) < 0) {
            reply_error(a, "db expects hex digits", NULL, 0);
            return;
        }
    }
    if (a->db_expected == 0) {
        reply_error(a, "db load N must come first", NULL, 0);
        return;
    }
    if (digits / 2u > a->db_expected - a->db_received) {
        reply_error(a, "db data exceeds the size given to db load", NULL, 0);
        return;
    }
    for (const char *p = s; p < end; p += 2)
        a->input[a->db_received++] = (uint8_t)(hex_val(p[0]) << 4 | hex_val(p[1]));
    if (a->db_received == a->db_expected)
        reply_line(a, "m-load-done");
}

/* Decimal u64 into out (at least 21 bytes); returns the length. */
static size_t format_u64(char *out, uint64_t v)
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    for (size_t i = 0; i < n; ++i)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* Counter ticks as the microseconds `tinyml profile` reports. Cycle and instruction counters
 * are converted at the board's nominal clock (clock_hz): on the QEMU boards one instruction
 * is one cycle of the 25 MHz part the board describes, not one nanosecond of QEMU's virtual
 * time, so laps and profiles agree. Microsecond counters are taken as they are. */
static uint64_t ticks_to_us(const tm_agent_t *a, uint64_t t)
{
    const tm_board_info_t *b = &a->port->board;
    const uint64_t res = b->counter_resolution ? b->counter_resolution : 1u;
    uint64_t units = t * res;
    uint64_t hz;
    if (b->counter_kind == TM_COUNTER_MICROSECONDS)
        return units;
    if (b->clock_hz) {
        hz = b->clock_hz;
    } else { /* no nominal clock: the counter's own rate */
        hz = b->counter_hz ? b->counter_hz : 1000000u;
        units = t;
    }
    return units / hz * 1000000u + units % hz * 1000000u / hz;
}

static void reply_lap(tm_agent_t *a, uint64_t ticks)
{
    char line[40] = "m-lap-us-";
    format_u64(line + strlen(line), ticks_to_us(a, ticks));
    reply_line(a, line);
}

static void reply_results(tm_agent_t *a);

/* "infer N W": W warm-up runs, then N timed runs between two laps. */
static void cmd_infer(tm_agent_t *a, const char *s, const char *end)
{
    const char *msg = NULL;
    if (tm_model_check_ready(a, &msg) != TM_OK) {
        reply_error(a, msg ? msg : "no model loaded", NULL, 0);
        return;
    }
    const char *p = s;
    uint32_t runs = 0, warmups = 0;
    while (p < end && *p == ' ')
        ++p;
    if (!parse_u32(&p, end, &runs) || runs == 0) {
        reply_error(a, "infer needs a run count and a warm-up count", NULL, 0);
        return;
    }
    while (p < end && *p == ' ')
        ++p;
    if (p < end && !parse_u32(&p, end, &warmups))
        p = s; /* forces the error below */
    if (p != end) {
        reply_error(a, "infer needs a run count and a warm-up count", NULL, 0);
        return;
    }
    uint64_t ticks;
    /* the reference DUT firmware's sequence, which the official runner parses */
    reply_count(a, "m-warmup-start-", warmups, "");
    for (uint32_t i = 0; i < warmups; ++i) {
        if (tm_model_run(a, &ticks) != TM_OK) {
            reply_error(a, "a kernel refused its arguments", NULL, 0);
            return;
        }
    }
    reply_line(a, "m-warmup-done");
    reply_count(a, "m-infer-start-", runs, "");
    const tm_port_t *port = a->port;
    const uint64_t t0 = port->now(port->ctx);
    for (uint32_t i = 0; i < runs; ++i) {
        if (tm_model_run(a, &ticks) != TM_OK) {
            reply_error(a, "a kernel refused its arguments", NULL, 0);
            return;
        }
    }
    const uint64_t t1 = port->now(port->ctx);
    reply_lap(a, t0);
    reply_lap(a, t1);
    reply_line(a, "m-infer-done");
    reply_results(a);
}

/* "m-results-[...]": the output tensor dequantised, 6 decimals, comma-separated. */
static void reply_results(tm_agent_t *a)
{
    uint32_t n = 0;
    const int8_t *out = tm_model_output(&a->model, a->port->arena, &n);
    float scale;
    int32_t zp;
    tm_model_output_quant(&a->model, &scale, &zp);
    tm_agent_write_text(a, "m-results-[");
    for (uint32_t i = 0; i < n; ++i) {
        char num[40];
        size_t k = 0;
        const float v = (float)(out[i] - zp) * scale;
        const float mag = v < 0.0f ? -v : v;
        /* |v| <= 255 * scale; scales beyond 1e12 are not models */
        const uint64_t micro = mag < 1.0e12f ? (uint64_t)(mag * 1.0e6f + 0.5f) : 0u;
        if (i)
            num[k++] = ',';
        if (v < 0.0f && micro)
            num[k++] = '-';
        k += format_u64(num + k, micro / 1000000u);
        num[k++] = '.';
        uint32_t frac = (uint32_t)(micro % 1000000u);
        for (int d = 5; d >= 0; --d) {
            num[k + (size_t)d] = (char)('0' + frac % 10u);
            frac /= 10u;
        }
        k += 6;
        num[k] = '\0';
        tm_agent_write_text(a, num);
    }
    reply_line(a, "]");
}

static void cmd_results(tm_agent_t *a)
{
    const char *msg = NULL;
    if (tm_model_check_ready(a, &msg) != TM_OK) {
        reply_error(a, msg ? msg : "no model loaded", NULL, 0);
        return;
    }
    reply_results(a);
}

static void run_command(tm_agent_t *a, const char *s, size_t n)
{
    const char *end = s + n;
    if (n == 4 && memcmp(s, "name", 4) == 0) {
        char line[96] = "m-name-dut-[";
        strncat(line, a->port->board.board_id, 64);
        strcat(line, "]");
        reply_line(a, line);
    } else if (n == 7 && memcmp(s, "profile", 7) == 0) {
        reply_line(a, "m-profile-[" TM_AGENT_NAME "-" TM_AGENT_VERSION "]");
        if (tm_model_loaded(a)) {
            const char *id = a->slots.slot[a->slots.active].benchmark_id;
            char line[48] = "m-model-[";
            size_t k = strlen(line);
            if (id[0]) {
                /* the MLPerf Tiny benchmark id given at MODEL_COMMIT: the runner picks its
                 * test and data set from it */
                for (size_t i = 0; id[i] && i < TM_BENCHMARK_ID_MAX; ++i)
                    line[k++] = id[i];
            } else {
                static const char hex[] = "0123456789abcdef";
                const uint32_t crc = a->slots.slot[a->slots.active].crc;
                memcpy(line + k, "package-", 8);
                k += 8;
                for (int i = 7; i >= 0; --i)
                    line[k++] = hex[(crc >> (4 * i)) & 0xFu];
            }
            line[k++] = ']';
            line[k] = '\0';
            reply_line(a, line);
        } else {
            reply_line(a, "m-model-[none]");
        }
    } else if (starts_with(s, n, "db ")) {
        cmd_db(a, s + 3, end);
    } else if (starts_with(s, n, "infer") && (n == 5 || s[5] == ' ')) {
        cmd_infer(a, s + 5, end);
    } else if (n == 7 && memcmp(s, "results", 7) == 0) {
        cmd_results(a);
    } else {
        reply_error(a, "unknown command ", s, n);
    }
    reply_line(a, "m-ready");
}

void tm_mlperf_byte(tm_agent_t *a, uint8_t b)
{
    if (b == 0) {
        a->text_len = 0;
        a->text_binary = 0;
        a->text_overlong = 0;
        return;
    }
    if (b == '%') {
        if (!a->text_binary && a->text_len >= 2) {
            const char *s = a->text;
            size_t n = a->text_len;
            while (n && is_space(*s)) {
                ++s;
                --n;
            }
            while (n && is_space(s[n - 1]))
                --n;
            if (a->text_overlong) {
                reply_error(a, "command too long", NULL, 0);
                reply_line(a, "m-ready");
            } else if (n) {
                run_command(a, s, n);
            }
            /* the text was not a frame: keep the frame decoder from piling it up */
            a->dec.len = 0;
            a->dec.overflowed = 0;
        }
        a->text_len = 0;
        a->text_overlong = 0;
        return;
    }
    if (!is_text(b)) {
        a->text_binary = 1;
        return;
    }
    if (a->text_binary)
        return;
    if (a->text_len < sizeof a->text)
        a->text[a->text_len++] = (char)b;
    else
        a->text_overlong = 1;
}
