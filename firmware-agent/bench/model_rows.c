/*
 * model_rows.c — whole-model rows of kernel-bench for the packages the trainer produces
 * (model_rows.h).
 *
 * Per package: tm_model_load(), then reps x (copy the example input into the arena,
 * tm_model_invoke()) with the reference kernels and with the optimized ones; the same loop
 * with only the input copy is measured too and subtracted, so a row is tm_model_invoke()
 * alone. The "kernels alone" row replays the kernel calls that one invoke made, with the
 * same arguments, through the same loop: the difference is the interpreter (reading op
 * records and tensor entries, building the kernels' parameter structs, the dispatch). Ops
 * without a kernel (Relu, Reshape, Concat) are not replayed, so a package with one would
 * fail the replay check; the trainer's packages fuse ReLU and have none. Counting as in
 * kernel_bench.c: TIMER0 ticks once per 40 instructions under -icount shift=0. MACs are
 * those of the convolution, depthwise and fully connected ops, read from the package.
 */
#include "model_rows.h"

#include <string.h>

#include "bench_nn_dispatch.h"
#include "mps2.h"
#include "tm_frame.h"
#include "tm_model.h"

#define INSTRUCTIONS_PER_TICK 40u
#define MAX_MODELS 8
#define MAX_OUTPUT 256

/* Large enough for the benchmark packages' activations plus the larger of the two kernel
 * sets' scratch (DS-CNN: 15 360 + 10 240); a bigger package is refused with its numbers. */
static uint8_t arena[64 * 1024] __attribute__((aligned(16)));
static tm_bench_nn_trace_t trace;
static int8_t out_ref[MAX_OUTPUT], out_opt[MAX_OUTPUT], out_kref[MAX_OUTPUT], out_kopt[MAX_OUTPUT];

typedef struct {
    tm_bench_count_t invoke_ref, invoke_opt, kernels_ref, kernels_opt;
    int host_match, replay_match, ran;
} result_t;

static result_t results[MAX_MODELS];

enum { SYS_WRITE0 = 0x04 };

/* One output line, built without printf (newlib's pulls in malloc, which this image
 * does not have) and written over semihosting. */
typedef struct {
    char buf[240];
    int len;
} text_t;

static void add(text_t *t, const char *s)
{
    while (*s != '\0' && t->len < (int)sizeof t->buf - 2) {
        t->buf[t->len++] = *s++;
    }
}

static void add_num(text_t *t, uint64_t v)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (n > 0 && t->len < (int)sizeof t->buf - 2) {
        t->buf[t->len++] = d[--n];
    }
}

static const char *text_of(text_t *t)
{
    t->buf[t->len] = '\0';
    return t->buf;
}

static void print_line(text_t *t)
{
    t->buf[t->len++] = '\n';
    t->buf[t->len] = '\0';
    register int r0 __asm__("r0") = SYS_WRITE0;
    register const void *r1 __asm__("r1") = t->buf;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    t->len = 0;
}

static int64_t volume(const uint8_t *tensor)
{
    int64_t v = 1;
    for (uint32_t k = 0; k < tensor[1]; ++k) {
        v *= (int32_t)tm_get_u32(tensor + 4 + 4 * k);
    }
    return v;
}

/* Multiply-accumulates of one invoke, from a package tm_model_load() accepted (so every
 * offset below is in bounds). Op codes and record layout: deploy/MODEL_PACKAGE.md. */
static int64_t package_macs(const uint8_t *pkg)
{
    const uint8_t *tensors = pkg + tm_get_u32(pkg + 24);
    const uint32_t op_count = tm_get_u16(pkg + 30);
    const uint8_t *op = pkg + tm_get_u32(pkg + 32);
    int64_t macs = 0;
    for (uint32_t i = 0; i < op_count; ++i) {
        const uint16_t code = tm_get_u16(op), inputs = op[5];
        const uint8_t *w = tensors + 48u * tm_get_u16(op + 8 + 2 * 1);
        const uint8_t *y = tensors + 48u * tm_get_u16(op + 8 + 2 * inputs);
        if (code == 0) { /* Conv2D: every output x KH x KW x C_IN of [C_OUT, KH, KW, C_IN] */
            macs += volume(y) * (volume(w) / (int32_t)tm_get_u32(w + 4));
        } else if (code == 1) { /* DepthwiseConv2D: every output x KH x KW of [1, KH, KW, C] */
            macs += volume(y) * (int32_t)tm_get_u32(w + 8) * (int32_t)tm_get_u32(w + 12);
        } else if (code == 2) { /* FullyConnected: the weight count */
            macs += volume(w);
        }
        op += tm_get_u16(op + 2);
    }
    return macs;
}

enum { COPY_ONLY, INVOKE, REPLAY };

/* Instructions of reps x (input copy, then mode's work: nothing, tm_model_invoke or the
 * replay of the recorded kernel calls); *failed is set when a run does not return OK. */
static tm_bench_count_t run(const tm_model_t *m, const tm_bench_model_t *b, int32_t reps,
                            int optimized, int mode, int *failed)
{
    int8_t *in = tm_model_input(m, arena, NULL);
    tm_bench_count_t c = {0, {0, 0}, {TM_BENCH_NO_MARK, TM_BENCH_NO_MARK}, reps};
    tm_bench_nn_optimized = optimized;
    const uint32_t t0 = tm_bench_ticks(&c.mark[0]);
    for (int32_t r = 0; r < reps; ++r) {
        memcpy(in, b->input, b->input_bytes);
        if (mode == INVOKE) {
            *failed |= tm_model_invoke(m, arena, sizeof arena, NULL, NULL) != TM_MODEL_OK;
        } else if (mode == REPLAY) {
            *failed |= tm_bench_nn_replay(&trace, optimized) != TM_NN_OK;
        }
    }
    c.instr = (uint64_t)(uint32_t)(tm_bench_ticks(&c.mark[1]) - t0) * INSTRUCTIONS_PER_TICK;
    return c;
}

static void output_to(const tm_model_t *m, int8_t *dst)
{
    uint32_t n = 0;
    const int8_t *y = tm_model_output(m, arena, &n);
    memcpy(dst, y, n);
}

/* Runs one package; prints its two rows. Returns 0 on success. */
static int bench_one(const tm_bench_model_t *b, result_t *res, tm_bench_print_row_fn print_row,
                     int *all_same)
{
    text_t t = {{0}, 0};
    tm_model_t m;
    const tm_model_status_t s = tm_model_load(&m, b->package, b->package_bytes);
    if (s != TM_MODEL_OK) {
        add(&t, b->name);
        add(&t, ": tm_model_load refused the package: ");
        add(&t, tm_model_status_name(s));
        print_line(&t);
        return 1;
    }
    uint32_t in_bytes = 0, out_bytes = 0;
    tm_model_input(&m, arena, &in_bytes);
    tm_model_output(&m, arena, &out_bytes);
    if (tm_model_arena_bytes(&m) > sizeof arena || in_bytes != b->input_bytes ||
        out_bytes != b->expected_bytes || out_bytes > MAX_OUTPUT) {
        add(&t, b->name);
        add(&t, ": arena ");
        add_num(&t, tm_model_arena_bytes(&m));
        add(&t, " bytes (have ");
        add_num(&t, sizeof arena);
        add(&t, "), input ");
        add_num(&t, in_bytes);
        add(&t, " bytes (file ");
        add_num(&t, b->input_bytes);
        add(&t, "), output ");
        add_num(&t, out_bytes);
        add(&t, " bytes (file ");
        add_num(&t, b->expected_bytes);
        add(&t, ", at most ");
        add_num(&t, MAX_OUTPUT);
        add(&t, ")");
        print_line(&t);
        return 1;
    }

    int failed = 0;
    /* One recorded invoke gives the kernel calls to replay. */
    memset(&trace, 0, sizeof trace);
    tm_bench_nn_record = &trace;
    run(&m, b, 1, 0, INVOKE, &failed);
    tm_bench_nn_record = NULL;
    if (trace.overflow) {
        add(&t, b->name);
        add(&t, ": more kernel calls than TM_BENCH_NN_TRACE_MAX");
        print_line(&t);
        return 1;
    }

    const int64_t macs = package_macs(b->package);
    /* At least 4 runs: the interpreter's overhead is a difference of two counts. */
    const int32_t reps = (int32_t)(400000 / (macs > 0 ? macs : 1) + 4);
    const tm_bench_count_t copy_only = run(&m, b, reps, 1, COPY_ONLY, &failed);
    res->invoke_ref = tm_bench_per_run(run(&m, b, reps, 0, INVOKE, &failed), &copy_only);
    output_to(&m, out_ref);
    res->invoke_opt = tm_bench_per_run(run(&m, b, reps, 1, INVOKE, &failed), &copy_only);
    output_to(&m, out_opt);
    res->kernels_ref = tm_bench_per_run(run(&m, b, reps, 0, REPLAY, &failed), &copy_only);
    output_to(&m, out_kref);
    res->kernels_opt = tm_bench_per_run(run(&m, b, reps, 1, REPLAY, &failed), &copy_only);
    output_to(&m, out_kopt);

    const int same = memcmp(out_ref, out_opt, out_bytes) == 0;
    const int same_kernels = memcmp(out_kref, out_kopt, out_bytes) == 0;
    res->host_match = memcmp(out_ref, b->expected, out_bytes) == 0;
    res->replay_match = memcmp(out_kref, out_ref, out_bytes) == 0;
    res->ran = 1;
    *all_same &= same && same_kernels;

    text_t row = {{0}, 0};
    add(&row, "trainer ");
    add(&row, b->name);
    const int stem = row.len;
    add(&row, " (tm_model_invoke)");
    print_row(text_of(&row), macs, &res->invoke_ref, &res->invoke_opt, same);
    row.len = stem;
    add(&row, " (kernels alone)");
    print_row(text_of(&row), macs, &res->kernels_ref, &res->kernels_opt, same_kernels);
    if (failed) {
        add(&t, b->name);
        add(&t, ": tm_model_invoke or a replayed kernel failed");
        print_line(&t);
    }
    return failed || !res->host_match || !res->replay_match;
}

/* "+N instructions (P.PP %)" of the interpreter over the kernels alone. */
static void add_overhead(text_t *t, uint64_t invoke, uint64_t kernels)
{
    const int64_t d = (int64_t)invoke - (int64_t)kernels;
    const uint64_t mag = (uint64_t)(d < 0 ? -d : d);
    const uint64_t hundredths = kernels > 0 ? (mag * 10000u + kernels / 2u) / kernels : 0u;
    add(t, d < 0 ? "-" : "+");
    add_num(t, mag);
    add(t, d < 0 ? " instructions (-" : " instructions (+");
    add_num(t, hundredths / 100u);
    add(t, hundredths % 100u < 10u ? ".0" : ".");
    add_num(t, hundredths % 100u);
    add(t, " %)");
}

int tm_bench_model_rows(tm_bench_print_row_fn print_row, int *all_same)
{
    int status = 0;
    const int n = tm_bench_model_count < MAX_MODELS ? tm_bench_model_count : MAX_MODELS;
    for (int i = 0; i < n; ++i) {
        status |= bench_one(&tm_bench_models[i], &results[i], print_row, all_same);
    }
    text_t t = {{0}, 0};
    if (n < tm_bench_model_count) {
        add(&t, "more embedded packages than MAX_MODELS in model_rows.c: the rest did not run");
        print_line(&t);
        status = 1;
    }
    add(&t, "trainer packages (firmware-agent/bench/models), per invoke: tm_model_invoke over the "
            "same kernel calls alone; output against the host int8 reference");
    print_line(&t);
    for (int i = 0; i < n; ++i) {
        const result_t *r = &results[i];
        if (!r->ran) {
            continue;
        }
        add(&t, "  ");
        add(&t, tm_bench_models[i].name);
        add(&t, ": interpreter ref ");
        add_overhead(&t, r->invoke_ref.instr, r->kernels_ref.instr);
        add(&t, ", opt ");
        add_overhead(&t, r->invoke_opt.instr, r->kernels_opt.instr);
        add(&t, "; output = host reference: ");
        add(&t, r->host_match ? "yes" : "NO");
        add(&t, "; replay = invoke: ");
        add(&t, r->replay_match ? "yes" : "NO");
        print_line(&t);
    }
    return status;
}
