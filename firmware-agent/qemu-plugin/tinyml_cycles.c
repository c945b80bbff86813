/*
 * tinyml_cycles — a QEMU TCG plugin that turns the instructions a virtual Cortex-M board
 * executes into *estimated* Cortex-M4 (or, rougher, Cortex-M7) cycles.
 *
 *   qemu-system-arm -M mps2-an386 -icount shift=0,sleep=off ... \
 *       -plugin libtinyml_cycles.so,core=m4,ws=0,out=/tmp/cycles.txt
 *
 * At translation time every instruction of a block is decoded into a timing class
 * (tm_thumb_timing.c) and the block's cycles are summed; at run time an inline counter adds
 * them. A small callback per block compares the block's start with the previous block's
 * fall-through address: that tells whether a conditional branch was taken (refill cycles),
 * whether an exception was entered, and whether QEMU cut the previous block short (icount
 * re-executes an I/O instruction in a block of its own). Marker functions of the agent
 * (tm_cycle_mark.c), found by symbol name, append one line each to the side channel.
 * The side channel's format is in README.md next to this file.
 *
 * One vCPU (the MPS2 boards have one; -icount runs one thread): the counters are plain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"
#include "tm_thumb_timing.h"

TM_QEMU_PLUGIN_EXPORT int qemu_plugin_version = TM_QEMU_PLUGIN_API_VERSION;

/* Side-channel format version (README.md). */
#define TM_CYCLES_FORMAT 1

typedef enum { MARK_NONE = -1, MARK_INVOKE_BEGIN, MARK_INVOKE_END, MARK_LAYER_END,
               MARK_LAYER_RESUME, MARK_USER, MARK_COUNT } mark_kind_t;

static const struct {
    const char *symbol;
    const char *kind;
} marks[MARK_COUNT] = {
    {"tm_cycle_mark_invoke_begin", "invoke_begin"},
    {"tm_cycle_mark_invoke_end", "invoke_end"},
    {"tm_cycle_mark_layer_end", "layer_end"},
    {"tm_cycle_mark_layer_resume", "layer_resume"},
    {"tm_cycle_mark_user", "user"},
};

typedef struct {
    uint64_t vaddr;
    uint64_t fall;            /* address after the block's last instruction */
    uint64_t target;          /* the direct branch at the end: its target; else UINT64_MAX */
    uint32_t cycles;          /* the block's cycles, branch at the end not taken (+ fetch ws) */
    uint32_t n_insns;
    uint8_t end;              /* tm_block_end_t */
    uint8_t refill;           /* P of the taken branch at the end */
    uint8_t align_penalty;    /* +1 refill when a branch lands here (32-bit at halfword) */
    int8_t mark;              /* mark_kind_t */
    tm_insn_t *insns;         /* kept for the rare cut-short correction */
} block_t;

static struct {
    tm_core_t core;
    uint32_t ws;
    uint64_t flash_base, flash_size;
    int exact;                /* branches=exact (default) or static */
    FILE *out;
    const char *out_path;
} cfg = {TM_CORE_M4, 0, 0, 0x400000, 1, NULL, NULL};

/* Run-time counters (inline adds and the block callback). */
static uint64_t n_cycles, n_insns, n_slack_low, n_slack_high, n_unknown;
static uint64_t n_taken, n_exceptions, n_cut, n_marks, n_flash_loads;
/* The previous block, for the block callback. */
static const block_t *prev_block;
static uint64_t unknown_reported;

static void emit(const char *line)
{
    if (cfg.out) {
        fputs(line, cfg.out);
        fflush(cfg.out);
    } else {
        qemu_plugin_outs(line);
    }
}

static uint64_t insn_offset(const block_t *b, uint32_t k)
{
    uint64_t off = 0;
    for (uint32_t i = 0; i < k; ++i)
        off += b->insns[i].size;
    return off;
}

/* Cycles of the first k instructions of b: the table, plus ws wait states per 32-bit
 * instruction fetch (aligned words the k instructions touch; no prefetch buffer or cache). */
static void prefix_timing(const block_t *b, uint32_t k, tm_block_timing_t *t)
{
    tm_block_timing(cfg.core, b->insns, k, t);
    const uint64_t end = b->vaddr + insn_offset(b, k);
    const uint64_t first_word = b->vaddr & ~(uint64_t)3u, end_word = (end + 3u) & ~(uint64_t)3u;
    t->fetch_words = k == 0 ? 0u : (uint32_t)((end_word - first_word) / 4u);
    t->cycles += cfg.ws * t->fetch_words;
}

/* Called at the start of every block (branches=exact) with what ran before it. */
static void account_transition(const block_t *b)
{
    const block_t *p = prev_block;
    prev_block = b;
    if (p == NULL)
        return;
    if (b->vaddr > p->vaddr && b->vaddr < p->fall && b->vaddr != p->target) {
        /* QEMU left p early and resumed inside it (icount: an I/O access not at the end of
         * a block is re-executed in a block of its own, without instrumentation). p was
         * counted in full at its start: take back the instructions from here on, and its
         * end did not run. (A branch at p's end that targets the middle of p is excluded
         * above; an indirect branch into the middle of the block it ends is not expected.) */
        uint32_t k = 0;
        while (k < p->n_insns && p->vaddr + insn_offset(p, k) < b->vaddr)
            ++k;
        tm_block_timing_t whole, head;
        prefix_timing(p, p->n_insns, &whole);
        prefix_timing(p, k, &head);
        n_cycles -= whole.cycles - head.cycles;
        n_slack_low -= whole.slack_low - head.slack_low;
        n_slack_high -= whole.slack_high - head.slack_high;
        n_insns -= p->n_insns - k;
        ++n_cut;
        return;
    }
    if (p->end == TM_END_ALWAYS || (p->end == TM_END_COND && b->vaddr != p->fall)) {
        n_cycles += p->refill + b->align_penalty;
        ++n_taken;
    } else if (p->end == TM_END_NONE && b->vaddr != p->fall) {
        n_cycles += tm_exception_entry_cycles(cfg.core);
        ++n_exceptions;
    }
}

static void on_block(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    account_transition((const block_t *)udata);
}

static void on_mark(unsigned int vcpu, void *udata)
{
    const block_t *b = udata;
    (void)vcpu;
    if (cfg.exact)
        account_transition(b);
    char line[256];
    snprintf(line, sizeof line,
             "mark kind=%s seq=%" PRIu64 " cycles=%" PRIu64 " insns=%" PRIu64 " low=%" PRIu64
             " high=%" PRIu64 "\n",
             marks[b->mark].kind, n_marks, n_cycles, n_insns, n_cycles - n_slack_low,
             n_cycles + n_slack_high);
    ++n_marks;
    emit(line);
    /* The marker's own block is counted after its line: an interval runs from one marker's
     * entry to the next marker's entry. */
    n_cycles += b->cycles;
    n_insns += b->n_insns;
}

static void on_flash_load(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr,
                          void *udata)
{
    (void)vcpu;
    (void)info;
    (void)udata;
    if (vaddr - cfg.flash_base < cfg.flash_size) {
        n_cycles += cfg.ws;
        ++n_flash_loads;
    }
}

static int mark_of(const char *sym)
{
    if (sym == NULL)
        return MARK_NONE;
    for (int k = 0; k < MARK_COUNT; ++k)
        if (strcmp(sym, marks[k].symbol) == 0)
            return k;
    return MARK_NONE;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    if (n == 0)
        return;
    block_t *b = calloc(1, sizeof *b);
    tm_insn_t *insns = calloc(n, sizeof *insns);
    if (b == NULL || insns == NULL) {
        /* like QEMU's own allocations: counting on without this block would be wrong */
        fprintf(stderr, "tinyml_cycles: out of memory\n");
        abort();
    }
    b->vaddr = qemu_plugin_tb_vaddr(tb);
    b->insns = insns;
    b->n_insns = (uint32_t)n;
    uint64_t fall = b->vaddr;
    for (size_t i = 0; i < n; ++i) {
        struct qemu_plugin_insn *qi = qemu_plugin_tb_get_insn(tb, i);
        /* QEMU 7.2 may report more bytes than the instruction has: near the end of a
         * 1 KB page the Thumb translator peeks at the next halfword (does the next
         * instruction cross the page?) and that read is appended to this instruction's
         * data. The decoded size is the instruction's. */
        const size_t avail = qemu_plugin_insn_size(qi);
        const uint8_t *d = qemu_plugin_insn_data(qi);
        size_t size = tm_thumb_decode(d, avail, &insns[i]);
        if (size == 0) {
            size = avail;
            insns[i].size = (uint8_t)avail;
            insns[i].iclass = TM_IC_UNKNOWN;
        }
        if (insns[i].iclass == TM_IC_UNKNOWN && unknown_reported < 32) {
            char line[128];
            snprintf(line, sizeof line,
                     "unknown vaddr=0x%08" PRIx64 " size=%u hw1=%02x%02x hw2=%02x%02x\n",
                     qemu_plugin_insn_vaddr(qi), (unsigned)size, d[1], d[0],
                     size == 4 ? d[3] : 0, size == 4 ? d[2] : 0);
            emit(line);
            ++unknown_reported;
        }
        if (cfg.ws > 0 && (insns[i].iclass == TM_IC_LOAD || insns[i].iclass == TM_IC_LOAD_DUAL ||
                           insns[i].iclass == TM_IC_LOAD_MULTI ||
                           insns[i].iclass == TM_IC_VFP_LOAD ||
                           insns[i].iclass == TM_IC_VFP_LOAD_MULTI))
            /* QEMU_PLUGIN_MEM_RW: Debian's 7.2 never calls a callback registered for
             * QEMU_PLUGIN_MEM_R alone (measured); the instruction only reads anyway. */
            qemu_plugin_register_vcpu_mem_cb(qi, on_flash_load, QEMU_PLUGIN_CB_NO_REGS,
                                             QEMU_PLUGIN_MEM_RW, NULL);
        fall += size;
    }
    b->fall = fall;
    const tm_insn_t *last = &insns[n - 1];
    b->target = last->has_target ? fall - last->size + 4u + (uint64_t)(int64_t)last->branch_offset
                                 : UINT64_MAX;
    tm_block_timing_t t;
    prefix_timing(b, b->n_insns, &t);
    b->cycles = t.cycles;
    b->end = t.end;
    b->refill = t.refill;
    b->align_penalty = (uint8_t)tm_target_align_penalty(b->vaddr, insns[0].size);
    b->mark = (int8_t)mark_of(qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0)));

    if (b->mark != MARK_NONE) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark, QEMU_PLUGIN_CB_NO_REGS, b);
    } else {
        uint64_t cycles = b->cycles;
        if (!cfg.exact && b->end == TM_END_ALWAYS)
            cycles += b->refill;
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &n_cycles, cycles);
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &n_insns, n);
        if (cfg.exact)
            qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, b);
    }
    if (t.slack_low)
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &n_slack_low,
                                                 t.slack_low);
    if (t.slack_high)
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &n_slack_high,
                                                 t.slack_high);
    if (t.unknown)
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &n_unknown,
                                                 t.unknown);
}

static void on_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    char line[512];
    snprintf(line, sizeof line,
             "total cycles=%" PRIu64 " insns=%" PRIu64 " low=%" PRIu64 " high=%" PRIu64
             " marks=%" PRIu64 " taken=%" PRIu64 " exceptions=%" PRIu64 " cut=%" PRIu64
             " flash_loads=%" PRIu64 " unknown=%" PRIu64 "\n",
             n_cycles, n_insns, n_cycles - n_slack_low, n_cycles + n_slack_high, n_marks, n_taken,
             n_exceptions, n_cut, n_flash_loads, n_unknown);
    emit(line);
    if (cfg.out) {
        fclose(cfg.out);
        cfg.out = NULL;
    }
}

static int parse_u64(const char *key, const char *val, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    const unsigned long long v = strtoull(val, &end, 0);
    if (errno != 0 || end == val || *end != '\0' || v > max || val[0] == '-') {
        fprintf(stderr, "tinyml_cycles: argument %s=%s: expected an integer 0..%" PRIu64 "\n",
                key, val, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_arg(const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL) {
        fprintf(stderr, "tinyml_cycles: argument '%s': expected key=value\n", arg);
        return -1;
    }
    const size_t klen = (size_t)(eq - arg);
    const char *val = eq + 1;
    uint64_t v = 0;
#define KEY_IS(k) (klen == sizeof(k) - 1 && strncmp(arg, k, klen) == 0)
    if (KEY_IS("core")) {
        if (strcmp(val, "m4") == 0 || strcmp(val, "cortex-m4") == 0) {
            cfg.core = TM_CORE_M4;
        } else if (strcmp(val, "m7") == 0 || strcmp(val, "cortex-m7") == 0) {
            cfg.core = TM_CORE_M7;
        } else {
            fprintf(stderr, "tinyml_cycles: argument core=%s: expected m4 or m7\n", val);
            return -1;
        }
    } else if (KEY_IS("ws")) {
        if (parse_u64("ws", val, 15, &v))
            return -1;
        cfg.ws = (uint32_t)v;
    } else if (KEY_IS("flash_base")) {
        if (parse_u64("flash_base", val, UINT32_MAX, &cfg.flash_base))
            return -1;
    } else if (KEY_IS("flash_size")) {
        if (parse_u64("flash_size", val, 1ull << 32, &cfg.flash_size))
            return -1;
    } else if (KEY_IS("out")) {
        cfg.out_path = val;
    } else if (KEY_IS("branches")) {
        if (strcmp(val, "exact") == 0) {
            cfg.exact = 1;
        } else if (strcmp(val, "static") == 0) {
            cfg.exact = 0;
        } else {
            fprintf(stderr, "tinyml_cycles: argument branches=%s: expected exact or static\n", val);
            return -1;
        }
    } else {
        fprintf(stderr, "tinyml_cycles: unknown argument '%.*s' (core, ws, out, branches, "
                        "flash_base, flash_size)\n", (int)klen, arg);
        return -1;
    }
#undef KEY_IS
    return 0;
}

TM_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                              int argc, char **argv)
{
    if (info == NULL || info->target_name == NULL || strcmp(info->target_name, "arm") != 0) {
        fprintf(stderr, "tinyml_cycles: needs qemu-system-arm (target '%s')\n",
                info && info->target_name ? info->target_name : "?");
        return -1;
    }
    for (int i = 0; i < argc; ++i)
        if (parse_arg(argv[i]))
            return -1;
    if (cfg.out_path) {
        cfg.out = fopen(cfg.out_path, "w");
        if (cfg.out == NULL) {
            fprintf(stderr, "tinyml_cycles: out=%s: %s\n", cfg.out_path, strerror(errno));
            return -1;
        }
    }
    char line[256];
    snprintf(line, sizeof line,
             "tinyml-cycles format=%d core=%s model=%s ws=%u branches=%s flash=0x%08" PRIx64
             "+0x%" PRIx64 "\n",
             TM_CYCLES_FORMAT, cfg.core == TM_CORE_M7 ? "m7" : "m4", tm_core_model_name(cfg.core),
             (unsigned)cfg.ws, cfg.exact ? "exact" : "static", cfg.flash_base, cfg.flash_size);
    emit(line);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
