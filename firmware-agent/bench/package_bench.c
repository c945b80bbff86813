/*
 * package_bench.c — one model package through the device interpreter with the reference and
 * with the optimized int8 kernels, on the virtual board (package-bench.elf).
 *
 * Why a separate image: the agent images link nn/src/tm_nn_select.c, which binds one kernel
 * set at build time, and kernel-bench embeds its packages at build time (model_rows.cmake), so
 * neither can run an arbitrary package (the MLPerf Tiny reference models, which must stay out
 * of the repository) through the reference kernels. This image links bench_nn_dispatch.c (one
 * image, both kernel sets, chosen per run) and reads its three files over Arm semihosting,
 * named on the QEMU command line:
 *
 *   qemu-system-arm -M mps2-an386 -nographic -monitor none -icount shift=0,sleep=off
 *     -semihosting-config enable=on,target=native,arg=package-bench,arg=M.tmpk,arg=M.in,arg=M.out
 *     -kernel package-bench.elf
 *
 * M.tmpk is the package (deploy/MODEL_PACKAGE.md), M.in its int8 input, M.out the host int8
 * reference's output on it (`tinyml export --c-library` ships all three). The image runs
 * tm_model_invoke() reps times with each set (reference first), subtracts the same loop with
 * only the input copy, and prints over semihosting, one fact per line (tests/bench/device/
 * bench_mlperf_models.py reads them):
 *
 *   package-bench package <bytes> arena <bytes> ops <n> macs <n> reps <n>
 *   layer <index> op <code> macs <n> ref <instr> opt <instr>
 *   invoke ref <instr> opt <instr>
 *   outputs ref=opt <yes|no> ref=host <yes|no> opt=host <yes|no>
 *   package-bench status <0|-1>
 *
 * Counts are QEMU instruction counts (-icount shift=0: TIMER0 on the 25 MHz clock ticks once
 * per 40 instructions), per invoke. Per-layer counts come from tm_model_invoke()'s layer
 * callback, summed over the reps, so each includes one callback and one timer read.
 */
#include <stdint.h>
#include <string.h>

#include "bench_nn_dispatch.h"
#include "mps2.h"
#include "tm_frame.h"
#include "tm_model.h"

#define INSTRUCTIONS_PER_TICK 40u
#define PACKAGE_MAX (1536u * 1024u)
#define ARENA_MAX (1536u * 1024u)
#define IO_MAX (64u * 1024u)
#define MAX_OPS 256

static uint8_t package[PACKAGE_MAX] __attribute__((aligned(16)));
static uint8_t arena[ARENA_MAX] __attribute__((aligned(16)));
static uint8_t input[IO_MAX], expected[IO_MAX];
static int8_t out_ref[IO_MAX], out_opt[IO_MAX];
static uint64_t layer_ticks[2][MAX_OPS];
static uint32_t layer_code[MAX_OPS];

/* ---- semihosting ------------------------------------------------------------------------ */

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_READ = 0x06,
    SYS_FLEN = 0x0C,
    SYS_GET_CMDLINE = 0x15,
    SYS_EXIT = 0x18
};
enum { ADP_STOPPED_APPLICATION_EXIT = 0x20026, ADP_STOPPED_RUN_TIME_ERROR = 0x20023 };

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static char line[256];
static int pos;

static void put(const char *s)
{
    while (*s != '\0' && pos < (int)sizeof line - 2) {
        line[pos++] = *s++;
    }
}

static void put_num(uint64_t v)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (n > 0 && pos < (int)sizeof line - 2) {
        line[pos++] = d[--n];
    }
}

static void flush(void)
{
    line[pos++] = '\n';
    line[pos] = '\0';
    semihost(SYS_WRITE0, line);
    pos = 0;
}

static void finish(int ok)
{
    put(ok ? "package-bench status 0" : "package-bench status -1");
    flush();
    semihost(SYS_EXIT, (const void *)(uintptr_t)(ok ? ADP_STOPPED_APPLICATION_EXIT
                                                    : ADP_STOPPED_RUN_TIME_ERROR));
    for (;;) {
    }
}

static void fail(const char *what, const char *name)
{
    put("package-bench: ");
    put(what);
    if (name != NULL) {
        put(": ");
        put(name);
    }
    flush();
    finish(0);
}

/* Reads the whole file `name` into buf (at most cap bytes); returns its size. */
static uint32_t read_file(const char *name, uint8_t *buf, uint32_t cap)
{
    const uint32_t open_args[3] = {(uint32_t)(uintptr_t)name, 1u /* "rb" */,
                                   (uint32_t)strlen(name)};
    const int h = semihost(SYS_OPEN, open_args);
    if (h < 0) {
        fail("cannot open", name);
    }
    const uint32_t h_arg[1] = {(uint32_t)h};
    const int len = semihost(SYS_FLEN, h_arg);
    if (len <= 0 || (uint32_t)len > cap) {
        put("package-bench: ");
        put(name);
        put(": ");
        put_num(len < 0 ? 0u : (uint32_t)len);
        put(" bytes, this image takes 1 to ");
        put_num(cap);
        flush();
        finish(0);
    }
    const uint32_t read_args[3] = {(uint32_t)h, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    const int left = semihost(SYS_READ, read_args);
    semihost(SYS_CLOSE, h_arg);
    if (left != 0) {
        fail("short read", name);
    }
    return (uint32_t)len;
}

/* ---- measuring -------------------------------------------------------------------------- */

static uint32_t ticks(void)
{
    return 0xFFFFFFFFu - MPS2_TIMER0->VALUE;
}

static uint32_t last_tick;
static int current_set;

static void on_layer(void *user, uint32_t op_index, uint32_t op_code)
{
    (void)user;
    const uint32_t now = ticks();
    if (op_index < MAX_OPS) {
        layer_ticks[current_set][op_index] += (uint32_t)(now - last_tick);
        layer_code[op_index] = op_code;
    }
    last_tick = ticks();
}

static int64_t volume(const uint8_t *tensor)
{
    int64_t v = 1;
    for (uint32_t k = 0; k < tensor[1]; ++k) {
        v *= (int32_t)tm_get_u32(tensor + 4 + 4 * k);
    }
    return v;
}

/* Multiply-accumulates of op `op` of a package tm_model_load() accepted (record layout and op
 * codes: deploy/MODEL_PACKAGE.md; the same rule as model_rows.c). */
static int64_t op_macs(const uint8_t *pkg, const uint8_t *op)
{
    const uint8_t *tensors = pkg + tm_get_u32(pkg + 24);
    const uint16_t code = tm_get_u16(op), inputs = op[5];
    const uint8_t *w = tensors + 48u * tm_get_u16(op + 8 + 2 * 1);
    const uint8_t *y = tensors + 48u * tm_get_u16(op + 8 + 2 * inputs);
    if (code == 0) { /* Conv2D: every output x KH x KW x C_IN of [C_OUT, KH, KW, C_IN] */
        return volume(y) * (volume(w) / (int32_t)tm_get_u32(w + 4));
    }
    if (code == 1) { /* DepthwiseConv2D: every output x KH x KW of [1, KH, KW, C] */
        return volume(y) * (int32_t)tm_get_u32(w + 8) * (int32_t)tm_get_u32(w + 12);
    }
    if (code == 2) { /* FullyConnected: the weight count */
        return volume(w);
    }
    return 0;
}

enum { COPY_ONLY, INVOKE };

/* Ticks of reps x (input copy, then tm_model_invoke when mode is INVOKE). */
static uint32_t run(const tm_model_t *m, uint32_t in_bytes, int32_t reps, int set, int mode,
                    int *failed)
{
    int8_t *in = tm_model_input(m, arena, NULL);
    tm_bench_nn_optimized = set;
    current_set = set;
    const uint32_t t0 = ticks();
    for (int32_t r = 0; r < reps; ++r) {
        memcpy(in, input, in_bytes);
        if (mode == INVOKE) {
            last_tick = ticks();
            *failed |= tm_model_invoke(m, arena, sizeof arena, on_layer, NULL) != TM_MODEL_OK;
        }
    }
    return ticks() - t0;
}

static uint64_t per_run(uint32_t t, uint32_t base, int32_t reps)
{
    const uint64_t d = t > base ? (uint64_t)(t - base) * INSTRUCTIONS_PER_TICK : 0u;
    return (d + (uint64_t)reps / 2u) / (uint64_t)reps;
}

int main(void)
{
    MPS2_TIMER0->CTRL = 0;
    MPS2_TIMER0->RELOAD = 0xFFFFFFFFu;
    MPS2_TIMER0->VALUE = 0xFFFFFFFFu;
    MPS2_TIMER0->CTRL = TIMER_CTRL_EN;

    /* "package-bench PKG IN OUT": arg= values joined by single spaces. */
    static char cmdline[1024];
    uint32_t cmd_args[2] = {(uint32_t)(uintptr_t)cmdline, sizeof cmdline};
    if (semihost(SYS_GET_CMDLINE, cmd_args) != 0) {
        fail("no command line (start QEMU with -semihosting-config ...,arg=...)", NULL);
    }
    char *argv[4] = {NULL, NULL, NULL, NULL};
    int argc = 0;
    for (char *p = cmdline; *p != '\0' && argc < 4;) {
        while (*p == ' ') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        argv[argc++] = p;
        while (*p != '\0' && *p != ' ') {
            ++p;
        }
    }
    if (argc != 4) {
        fail("usage: package-bench PACKAGE.tmpk INPUT.bin EXPECTED.bin (semihosting arg=)", NULL);
    }
    const uint32_t pkg_bytes = read_file(argv[1], package, sizeof package);
    const uint32_t in_file = read_file(argv[2], input, sizeof input);
    const uint32_t exp_file = read_file(argv[3], expected, sizeof expected);

    tm_model_t m;
    const tm_model_status_t s = tm_model_load(&m, package, pkg_bytes);
    if (s != TM_MODEL_OK) {
        fail("tm_model_load refused the package", tm_model_status_name(s));
    }
    uint32_t in_bytes = 0, out_bytes = 0;
    tm_model_input(&m, arena, &in_bytes);
    tm_model_output(&m, arena, &out_bytes);
    if (tm_model_arena_bytes(&m) > sizeof arena || in_bytes != in_file || out_bytes != exp_file ||
        m.op_count > MAX_OPS) {
        put("package-bench: arena ");
        put_num(tm_model_arena_bytes(&m));
        put(" (have ");
        put_num(sizeof arena);
        put("), input ");
        put_num(in_bytes);
        put(" (file ");
        put_num(in_file);
        put("), output ");
        put_num(out_bytes);
        put(" (file ");
        put_num(exp_file);
        put("), ops ");
        put_num(m.op_count);
        put(" (at most ");
        put_num(MAX_OPS);
        put(")");
        flush();
        finish(0);
    }

    int64_t macs[MAX_OPS];
    int64_t total_macs = 0;
    const uint8_t *op = m.ops;
    for (uint32_t i = 0; i < m.op_count; ++i) {
        macs[i] = op_macs(package, op);
        total_macs += macs[i];
        op += tm_get_u16(op + 2);
    }
    /* The optimized loop spans >= ~2 M instructions at ~1 instruction per MAC or more. */
    const int32_t reps = (int32_t)(2000000 / (total_macs > 0 ? total_macs : 1) + 1);

    int failed = 0;
    const uint32_t copy = run(&m, in_bytes, reps, 1, COPY_ONLY, &failed);
    memset(layer_ticks, 0, sizeof layer_ticks);
    const uint32_t ref = run(&m, in_bytes, reps, 0, INVOKE, &failed);
    memcpy(out_ref, tm_model_output(&m, arena, NULL), out_bytes);
    const uint32_t opt = run(&m, in_bytes, reps, 1, INVOKE, &failed);
    memcpy(out_opt, tm_model_output(&m, arena, NULL), out_bytes);

    put("package-bench package ");
    put_num(pkg_bytes);
    put(" arena ");
    put_num(tm_model_arena_bytes(&m));
    put(" ops ");
    put_num(m.op_count);
    put(" macs ");
    put_num((uint64_t)total_macs);
    put(" reps ");
    put_num((uint64_t)reps);
    flush();
    for (uint32_t i = 0; i < m.op_count; ++i) {
        put("layer ");
        put_num(i);
        put(" op ");
        put_num(layer_code[i]);
        put(" macs ");
        put_num((uint64_t)macs[i]);
        put(" ref ");
        put_num((layer_ticks[0][i] * INSTRUCTIONS_PER_TICK + (uint64_t)reps / 2u) / (uint64_t)reps);
        put(" opt ");
        put_num((layer_ticks[1][i] * INSTRUCTIONS_PER_TICK + (uint64_t)reps / 2u) / (uint64_t)reps);
        flush();
    }
    put("invoke ref ");
    put_num(per_run(ref, copy, reps));
    put(" opt ");
    put_num(per_run(opt, copy, reps));
    flush();
    const int same = memcmp(out_ref, out_opt, out_bytes) == 0;
    const int ref_host = memcmp(out_ref, expected, out_bytes) == 0;
    const int opt_host = memcmp(out_opt, expected, out_bytes) == 0;
    put("outputs ref=opt ");
    put(same ? "yes" : "no");
    put(" ref=host ");
    put(ref_host ? "yes" : "no");
    put(" opt=host ");
    put(opt_host ? "yes" : "no");
    flush();
    if (failed) {
        fail("tm_model_invoke did not return TM_MODEL_OK", NULL);
    }
    finish(same && ref_host && opt_host);
    return 0;
}
