/* Device-side model package reader and interpreter (tm_model.h).
 *
 * The checks mirror deploy/ModelPackageReader.cpp one for one and in the same order; every
 * offset sum is computed in 64 bits before it is compared or read. A second pass (prepare)
 * checks what the kernels need from the tensor shapes (the host leaves this to
 * Int8Executor::prepare), so tm_model_invoke() only ever hands the kernels shapes that
 * match the bytes behind their pointers. The op dispatch follows Int8Executor::runNode. */
#include <string.h>

#include "tm_frame.h"
#include "tm_model.h"
#include "tm_nn.h"

/* Format constants (deploy/ModelPackageFormat.h). */
enum {
    PK_HEADER = 64,
    PK_TENSOR_RECORD = 48,
    PK_OP_HEADER = 8,
    PK_MAX_RANK = 4,
    PK_MAX_LABEL = 255,
    PK_DTYPE_INT8 = 3,
    PK_DTYPE_INT32 = 4,
    PK_CONSTANT = 1,
    PK_OP_COUNT = 17
};

enum {
    OP_CONV = 0, OP_DW = 1, OP_FC = 2, OP_MAXPOOL = 3, OP_AVGPOOL = 4, OP_GAP = 5, OP_ADD = 6,
    OP_RELU = 7, OP_RELU6 = 8, OP_RESHAPE = 9, OP_SOFTMAX = 10, OP_BATCHNORM = 11,
    OP_CONCAT = 12, OP_CLIP = 13, OP_KMEANS = 14, OP_GMM = 15, OP_SQUARED_ERROR = 16
};

/* int32 parameters per op code; -2 Concat (1 + 4 * inputs); -1 not run by this interpreter
 * (BatchNorm is float-only and never reaches a package). This table is what
 * tm_model_op_supported() answers from: an op gets an entry here together with its cases in
 * prepare_op() and run_op() (tests/firmware-agent checks all three agree). */
static const int8_t k_param_count[PK_OP_COUNT] = {13, 13, 9, 9, 9, 9, 12, 2, 2, 0, 2, -1, -2, 2,
                                                  3, 3, 3};

int tm_model_op_supported(uint32_t code) { return code < PK_OP_COUNT && k_param_count[code] != -1; }

#define CHECK(cond, status)                                                                  \
    do {                                                                                     \
        if (!(cond))                                                                         \
            return (status);                                                                 \
    } while (0)

static int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }
static int32_t get_i32(const uint8_t *p) { return (int32_t)tm_get_u32(p); }

/* "finite and > 0" on the bit pattern: no sign bit, exponent not all ones, not +0. */
static int scale_bits_ok(uint32_t bits)
{
    return (bits & 0x80000000u) == 0 && (bits & 0x7F800000u) != 0x7F800000u && bits != 0;
}

static float float_of(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---- tensor records ---------------------------------------------------------------- */

typedef struct {
    uint8_t dtype;
    uint8_t rank;
    uint8_t constant;
    int32_t dims[PK_MAX_RANK];
    uint32_t offset;
    uint32_t bytes;
    int32_t zero_point;
} tensor_t;

static void tensor_at(const tm_model_t *m, uint32_t t, tensor_t *out)
{
    const uint8_t *r = m->tensors + (size_t)t * PK_TENSOR_RECORD;
    out->dtype = r[0];
    out->rank = r[1];
    out->constant = (uint8_t)(r[2] & PK_CONSTANT);
    for (int i = 0; i < PK_MAX_RANK; ++i)
        out->dims[i] = get_i32(r + 4 + 4 * i);
    out->offset = tm_get_u32(r + 20);
    out->bytes = tm_get_u32(r + 24);
    out->zero_point = get_i32(r + 32);
}

static int32_t last_dim(const tensor_t *t) { return t->dims[t->rank - 1]; }

/* Int8Executor's nhwc(): rank 4 as is, anything else flattened to [1, 1, 1, n]. */
static tm_nn_dims_t nhwc(const tensor_t *t)
{
    tm_nn_dims_t d;
    if (t->rank == 4) {
        d.n = t->dims[0];
        d.h = t->dims[1];
        d.w = t->dims[2];
        d.c = t->dims[3];
    } else {
        d.n = d.h = d.w = 1;
        d.c = (int32_t)t->bytes; /* int8: bytes = elements */
    }
    return d;
}

/* ---- op records ---------------------------------------------------------------------- */

typedef struct {
    uint16_t code;
    uint16_t record_size;
    uint8_t inputs;
    const uint8_t *tensors; /* u16[inputs + 1] */
    const uint8_t *params;  /* i32[...] */
} op_t;

static void op_at(const uint8_t *r, op_t *op)
{
    op->code = tm_get_u16(r);
    op->record_size = tm_get_u16(r + 2);
    op->inputs = r[5];
    op->tensors = r + PK_OP_HEADER;
    op->params = r + PK_OP_HEADER + align_up(2 * ((int64_t)op->inputs + 1), 4);
}

static uint16_t op_tensor(const op_t *op, uint32_t k) { return tm_get_u16(op->tensors + 2 * k); }
static int32_t op_param(const op_t *op, uint32_t k) { return get_i32(op->params + 4 * k); }

/* ---- load ------------------------------------------------------------------------------ */

static tm_model_status_t check_header_and_sections(tm_model_t *m, const uint8_t *b, uint32_t size)
{
    CHECK(size >= PK_HEADER, TM_MODEL_ERR_TRUNCATED);
    CHECK(memcmp(b, "TMPK", 4) == 0, TM_MODEL_ERR_MAGIC);
    const uint32_t version = tm_get_u16(b + 4);
    CHECK(version == 1 || version == 2, TM_MODEL_ERR_VERSION);
    CHECK(tm_get_u16(b + 6) == PK_HEADER, TM_MODEL_ERR_HEADER_SIZE);
    CHECK(tm_get_u32(b + 8) == size, TM_MODEL_ERR_TOTAL_SIZE);
    CHECK(tm_get_u32(b + 12) == tm_crc32(0, b + PK_HEADER, size - PK_HEADER), TM_MODEL_ERR_CRC);
    /* HAS_IMPULSE is required in version 2 and forbidden in version 1; no other flag. */
    CHECK(tm_get_u32(b + 16) == (version == 2 ? TM_MODEL_FLAG_HAS_IMPULSE : 0u),
          TM_MODEL_ERR_FLAGS);
    CHECK(tm_get_u16(b + 62) == 0, TM_MODEL_ERR_RESERVED);
    const uint32_t arena = tm_get_u32(b + 20);
    CHECK(arena % 4u == 0, TM_MODEL_ERR_ARENA_ALIGNMENT);

    const int64_t tensors_at = tm_get_u32(b + 24);
    const int64_t tensor_count = tm_get_u16(b + 28);
    const int64_t op_count = tm_get_u16(b + 30);
    const int64_t ops_at = tm_get_u32(b + 32);
    const int64_t ops_size = tm_get_u32(b + 36);
    const int64_t labels_at = tm_get_u32(b + 40);
    const int64_t labels_size = tm_get_u32(b + 44);
    const int64_t data_at = tm_get_u32(b + 48);
    const int64_t data_size = tm_get_u32(b + 52);
    CHECK(tensors_at == PK_HEADER, TM_MODEL_ERR_TENSOR_TABLE_OFFSET);
    CHECK(tensor_count != 0 && tensors_at + tensor_count * PK_TENSOR_RECORD <= size,
          TM_MODEL_ERR_TENSOR_COUNT);
    CHECK(ops_at == tensors_at + tensor_count * PK_TENSOR_RECORD, TM_MODEL_ERR_OP_TABLE_OFFSET);
    CHECK(op_count != 0 && op_count * PK_OP_HEADER <= ops_size, TM_MODEL_ERR_OP_COUNT);
    CHECK(ops_size % 4 == 0 && ops_at + ops_size <= size, TM_MODEL_ERR_OP_TABLE_SIZE);
    CHECK(labels_at == ops_at + ops_size, TM_MODEL_ERR_LABELS_OFFSET);
    CHECK(labels_size % 4 == 0 && labels_at + labels_size <= size, TM_MODEL_ERR_LABELS_SIZE);
    CHECK(data_at == align_up(labels_at + labels_size, 16), TM_MODEL_ERR_DATA_OFFSET);
    /* Version 2: the impulse section fills [data end, size) exactly; at least its 8-byte
     * head (magic, section_size) must fit before anything of it is read. */
    const int64_t data_end = data_at + data_size;
    if (version == 1) {
        CHECK(data_size % 4 == 0 && data_end == size, TM_MODEL_ERR_DATA_SIZE);
    } else {
        CHECK(data_size % 4 == 0 && data_end + 8 <= size, TM_MODEL_ERR_DATA_SIZE);
        CHECK(memcmp(b + data_end, "TMIP", 4) == 0 &&
                  (int64_t)tm_get_u32(b + data_end + 4) == size - data_end,
              TM_MODEL_ERR_IMPULSE_SECTION);
    }
    for (int64_t i = labels_at + labels_size; i < data_at; ++i)
        CHECK(b[i] == 0, TM_MODEL_ERR_DATA_PADDING);

    /* labels */
    const int64_t labels_end = labels_at + labels_size;
    const uint32_t label_count = tm_get_u16(b + 60);
    int64_t at = labels_at;
    for (uint32_t i = 0; i < label_count; ++i) {
        CHECK(at + 2 <= labels_end, TM_MODEL_ERR_LABEL);
        const uint32_t len = tm_get_u16(b + at);
        CHECK(len != 0 && len <= PK_MAX_LABEL && at + 2 + len <= labels_end, TM_MODEL_ERR_LABEL);
        at += 2 + len;
    }
    CHECK(labels_end - at < 4, TM_MODEL_ERR_LABEL);
    for (; at < labels_end; ++at)
        CHECK(b[at] == 0, TM_MODEL_ERR_LABEL_PADDING);

    m->tensors = b + tensors_at;
    m->ops = b + ops_at;
    m->data = b + data_at;
    m->data_size = (uint32_t)data_size;
    m->op_table_size = (uint32_t)ops_size;
    m->arena_size = arena;
    m->tensor_count = (uint16_t)tensor_count;
    m->op_count = (uint16_t)op_count;
    m->label_count = (uint16_t)label_count;
    m->version = (uint16_t)version;
    if (version == 2) {
        m->impulse = b + data_end;
        m->impulse_size = (uint32_t)(size - data_end);
    }
    return TM_MODEL_OK;
}

static tm_model_status_t check_tensors(tm_model_t *m, const uint8_t *b)
{
    int64_t arena_end = 0;
    for (uint32_t t = 0; t < m->tensor_count; ++t) {
        const uint8_t *r = m->tensors + (size_t)t * PK_TENSOR_RECORD;
        const uint8_t dtype = r[0], rank = r[1], flags = r[2];
        CHECK(dtype == PK_DTYPE_INT8 || dtype == PK_DTYPE_INT32, TM_MODEL_ERR_TENSOR_DTYPE);
        CHECK(rank >= 1 && rank <= PK_MAX_RANK, TM_MODEL_ERR_TENSOR_RANK);
        CHECK((flags & ~PK_CONSTANT) == 0 && r[3] == 0 && tm_get_u32(r + 44) == 0,
              TM_MODEL_ERR_TENSOR_FLAGS);
        const int constant = flags & PK_CONSTANT;
        int64_t elements = 1;
        for (int i = 0; i < PK_MAX_RANK; ++i) {
            const int32_t dim = get_i32(r + 4 + 4 * i);
            if (i < rank) {
                CHECK(dim >= 1, TM_MODEL_ERR_TENSOR_DIMS);
                elements *= dim;
                CHECK(elements <= (int64_t)0xFFFFFFFFu, TM_MODEL_ERR_TENSOR_DIMS);
            } else {
                CHECK(dim == 0, TM_MODEL_ERR_TENSOR_DIMS);
            }
        }
        const uint32_t location = tm_get_u32(r + 20);
        const uint32_t bytes = tm_get_u32(r + 24);
        CHECK((int64_t)bytes == elements * (dtype == PK_DTYPE_INT8 ? 1 : 4),
              TM_MODEL_ERR_TENSOR_BYTES);
        CHECK(location % 4u == 0, TM_MODEL_ERR_TENSOR_OFFSET);
        const int64_t limit = constant ? (int64_t)m->data_size : (int64_t)m->arena_size;
        CHECK((int64_t)location + bytes <= limit, TM_MODEL_ERR_TENSOR_OFFSET);
        CHECK(constant || dtype == PK_DTYPE_INT8, TM_MODEL_ERR_TENSOR_DTYPE);
        CHECK(scale_bits_ok(tm_get_u32(r + 28)), TM_MODEL_ERR_TENSOR_SCALE);
        const int32_t zp = get_i32(r + 32);
        CHECK(dtype != PK_DTYPE_INT8 || (zp >= -128 && zp <= 127), TM_MODEL_ERR_TENSOR_ZERO_POINT);
        const uint32_t channels = tm_get_u32(r + 36), scales_at = tm_get_u32(r + 40);
        if (channels != 0) {
            CHECK((int64_t)channels <= elements && scales_at % 4u == 0 &&
                      (int64_t)scales_at + (int64_t)channels * 4 <= (int64_t)m->data_size,
                  TM_MODEL_ERR_CHANNEL_SCALES);
            for (uint32_t c = 0; c < channels; ++c)
                CHECK(scale_bits_ok(tm_get_u32(m->data + scales_at + 4u * c)),
                      TM_MODEL_ERR_CHANNEL_SCALES);
        }
        if (!constant && (int64_t)location + bytes > arena_end)
            arena_end = (int64_t)location + bytes;
    }
    CHECK((int64_t)m->arena_size <= align_up(arena_end, 16), TM_MODEL_ERR_ARENA_SIZE);
    m->input_tensor = tm_get_u16(b + 56);
    m->output_tensor = tm_get_u16(b + 58);
    CHECK(m->input_tensor < m->tensor_count &&
              !(m->tensors[(size_t)m->input_tensor * PK_TENSOR_RECORD + 2] & PK_CONSTANT),
          TM_MODEL_ERR_INPUT_TENSOR);
    CHECK(m->output_tensor < m->tensor_count &&
              !(m->tensors[(size_t)m->output_tensor * PK_TENSOR_RECORD + 2] & PK_CONSTANT),
          TM_MODEL_ERR_OUTPUT_TENSOR);
    return TM_MODEL_OK;
}

static tm_model_status_t check_ops(tm_model_t *m)
{
    const uint8_t *b = m->ops;
    const int64_t end = m->op_table_size;
    int64_t at = 0;
    int input_written = 0, first_reads_input = 0, last_writes_output = 0;
    for (uint32_t i = 0; i < m->op_count; ++i) {
        CHECK(at + PK_OP_HEADER <= end, TM_MODEL_ERR_OP_RECORD_SIZE);
        const uint32_t code = tm_get_u16(b + at);
        const uint32_t record_size = tm_get_u16(b + at + 2);
        CHECK(tm_model_op_supported(code), TM_MODEL_ERR_OP_CODE);
        CHECK(b[at + 4] <= 2, TM_MODEL_ERR_OP_ACTIVATION);
        const uint32_t inputs = b[at + 5], outputs = b[at + 6];
        uint32_t min_in = 1, max_in = 1;
        if (code == OP_CONV || code == OP_DW || code == OP_FC) {
            min_in = 2;
            max_in = 3;
        } else if (code == OP_ADD || code == OP_KMEANS || code == OP_SQUARED_ERROR) {
            min_in = max_in = 2;
        } else if (code == OP_GMM) {
            min_in = max_in = 4;
        } else if (code == OP_CONCAT) {
            max_in = 255;
        }
        CHECK(inputs >= min_in && inputs <= max_in, TM_MODEL_ERR_OP_INPUT_COUNT);
        CHECK(outputs == 1 && b[at + 7] == 0, TM_MODEL_ERR_OP_OUTPUT_COUNT);
        const int64_t params = code == OP_CONCAT ? 1 + 4 * (int64_t)inputs : k_param_count[code];
        const int64_t indices_end = PK_OP_HEADER + align_up(2 * ((int64_t)inputs + outputs), 4);
        CHECK((int64_t)record_size == indices_end + 4 * params && at + record_size <= end,
              TM_MODEL_ERR_OP_RECORD_SIZE);
        op_t op;
        op_at(b + at, &op);
        for (uint32_t k = 0; k < inputs + outputs; ++k) {
            const uint16_t t = op_tensor(&op, k);
            CHECK(t < m->tensor_count, TM_MODEL_ERR_OP_TENSOR);
            if (k >= inputs)
                CHECK(!(m->tensors[(size_t)t * PK_TENSOR_RECORD + 2] & PK_CONSTANT),
                      TM_MODEL_ERR_OP_TENSOR);
        }
        if (code == OP_CONV || code == OP_DW || code == OP_FC) {
            const int fc = code == OP_FC;
            const int32_t channels = op_param(&op, fc ? 4 : 9);
            const uint32_t mult_at = (uint32_t)op_param(&op, fc ? 6 : 10);
            const uint32_t shift_at = (uint32_t)op_param(&op, fc ? 7 : 11);
            tensor_t y;
            tensor_at(m, op_tensor(&op, inputs), &y);
            CHECK(channels == last_dim(&y), TM_MODEL_ERR_OP_CHANNELS);
            CHECK(mult_at % 4u == 0 &&
                      (int64_t)mult_at + 4 * (int64_t)channels <= (int64_t)m->data_size,
                  TM_MODEL_ERR_OP_MULTIPLIERS);
            CHECK(shift_at % 4u == 0 &&
                      (int64_t)shift_at + 4 * (int64_t)channels <= (int64_t)m->data_size,
                  TM_MODEL_ERR_OP_MULTIPLIERS);
        }
        if (op_tensor(&op, inputs) == m->input_tensor)
            input_written = 1;
        if (i == 0)
            for (uint32_t k = 0; k < inputs; ++k)
                if (op_tensor(&op, k) == m->input_tensor)
                    first_reads_input = 1;
        if (i + 1u == m->op_count)
            last_writes_output = op_tensor(&op, inputs) == m->output_tensor;
        at += record_size;
    }
    CHECK(at == end, TM_MODEL_ERR_OP_TABLE_TRAILING);
    CHECK(!input_written, TM_MODEL_ERR_INPUT_TENSOR);
    CHECK(first_reads_input, TM_MODEL_ERR_INPUT_TENSOR);
    CHECK(last_writes_output, TM_MODEL_ERR_OUTPUT_TENSOR);
    return TM_MODEL_OK;
}

static int clamp_ok(int32_t lo, int32_t hi) { return lo >= -128 && lo <= hi && hi <= 127; }

/* Device-only shape checks of one op (Int8Executor::prepareNode's view of the graph):
 * every kernel gets dims whose element counts equal the bytes behind its pointers.
 * *scratch receives the kernel's scratch bytes. */
static tm_model_status_t prepare_op(const tm_model_t *m, const op_t *op, int32_t *scratch)
{
    tensor_t x, y, w;
    tensor_at(m, op_tensor(op, 0), &x);
    tensor_at(m, op_tensor(op, op->inputs), &y);
    const tm_model_status_t bad = TM_MODEL_ERR_OP_SHAPE;
    *scratch = 0;
    CHECK(x.dtype == PK_DTYPE_INT8, bad);
    switch (op->code) {
    case OP_CONV:
    case OP_DW:
    case OP_FC: {
        tensor_at(m, op_tensor(op, 1), &w);
        const int32_t cout = last_dim(&y);
        /* run_op reads weights and bias from the package's data section: both are constants */
        CHECK(w.dtype == PK_DTYPE_INT8 && w.constant, bad);
        if (op->inputs > 2) {
            tensor_t bias;
            tensor_at(m, op_tensor(op, 2), &bias);
            CHECK(bias.dtype == PK_DTYPE_INT32 && bias.constant && bias.bytes == 4u * (uint32_t)cout, bad);
        }
        const int32_t *shift = (const int32_t *)(const void *)(m->data +
                                   (uint32_t)op_param(op, op->code == OP_FC ? 7 : 11));
        for (int32_t c = 0; c < cout; ++c)
            CHECK(shift[c] >= -31 && shift[c] <= 31, bad);
        if (op->code == OP_FC) {
            CHECK(op_param(op, 5) == (int32_t)x.bytes, bad);
            CHECK((uint64_t)w.bytes == (uint64_t)(uint32_t)cout * x.bytes && y.bytes == (uint32_t)cout,
                  bad);
            const tm_nn_dims_t f = {cout, 1, 1, (int32_t)x.bytes};
            *scratch = tm_nn_fully_connected_s8_get_buffer_size(&f);
        } else {
            CHECK(x.rank == 4 && y.rank == 4 && w.rank == 4, bad);
            CHECK(y.dims[0] == x.dims[0], bad);
            if (op->code == OP_CONV)
                CHECK(w.dims[0] == cout && w.dims[3] == x.dims[3] && op_param(op, 6) == 1, bad);
            else
                CHECK(w.dims[0] == 1 && w.dims[3] == cout &&
                          (int64_t)x.dims[3] * op_param(op, 6) == cout,
                      bad);
            const tm_nn_dims_t in = nhwc(&x), f = nhwc(&w);
            *scratch = op->code == OP_CONV ? tm_nn_conv2d_s8_get_buffer_size(&in, &f)
                                           : tm_nn_depthwise_conv2d_s8_get_buffer_size(&in, &f);
        }
        break;
    }
    case OP_MAXPOOL:
    case OP_AVGPOOL: {
        const tm_nn_dims_t in = nhwc(&x), out = nhwc(&y);
        CHECK(in.n == out.n && in.c == out.c, bad);
        if (op->code == OP_AVGPOOL)
            *scratch = tm_nn_avg_pool_s8_get_buffer_size(&out);
        break;
    }
    case OP_GAP: {
        CHECK(x.rank == 4 && y.bytes == (uint32_t)x.dims[3], bad);
        const tm_nn_dims_t out = {1, 1, 1, x.dims[3]};
        *scratch = tm_nn_avg_pool_s8_get_buffer_size(&out);
        break;
    }
    case OP_ADD: {
        tensor_t x2;
        tensor_at(m, op_tensor(op, 1), &x2);
        CHECK(x2.dtype == PK_DTYPE_INT8 && x2.bytes == y.bytes && x.bytes == y.bytes, bad);
        break;
    }
    case OP_RELU:
    case OP_RELU6:
    case OP_CLIP:
        CHECK(x.bytes == y.bytes && clamp_ok(op_param(op, 0), op_param(op, 1)), bad);
        break;
    case OP_RESHAPE:
        CHECK(x.bytes == y.bytes, bad);
        break;
    case OP_SOFTMAX:
        CHECK(x.bytes == y.bytes, bad);
        break;
    case OP_CONCAT: {
        const int64_t out_last = last_dim(&y);
        const int64_t outer = y.bytes / out_last;
        int64_t sum = 0;
        CHECK(op_param(op, 0) >= -128 && op_param(op, 0) <= 127, bad);
        for (uint32_t i = 0; i < op->inputs; ++i) {
            tensor_t xi;
            tensor_at(m, op_tensor(op, i), &xi);
            const int64_t last = last_dim(&xi);
            CHECK(xi.dtype == PK_DTYPE_INT8 && (int64_t)xi.bytes == outer * last, bad);
            const int32_t zp = op_param(op, 1 + 4 * i), requantize = op_param(op, 2 + 4 * i);
            const int32_t shift = op_param(op, 4 + 4 * i);
            CHECK(zp >= -128 && zp <= 127 && (requantize == 0 || requantize == 1), bad);
            CHECK(!requantize || (shift >= -31 && shift <= 31), bad);
            sum += last;
        }
        CHECK(sum == out_last, bad);
        break;
    }
    case OP_KMEANS:
    case OP_GMM: {
        /* tables: int32 constants [K, D] (and [K] offsets), D = the input's element count */
        tensor_t c;
        tensor_at(m, op_tensor(op, 1), &c);
        CHECK(c.dtype == PK_DTYPE_INT32 && c.constant && c.rank == 2 && c.dims[1] == (int32_t)x.bytes, bad);
        if (op->code == OP_GMM) {
            tensor_t iv, off;
            tensor_at(m, op_tensor(op, 2), &iv);
            tensor_at(m, op_tensor(op, 3), &off);
            CHECK(iv.dtype == PK_DTYPE_INT32 && iv.constant && iv.bytes == c.bytes, bad);
            CHECK(off.dtype == PK_DTYPE_INT32 && off.constant && off.bytes == 4u * (uint32_t)c.dims[0], bad);
        }
        CHECK(y.bytes == 1 && op_param(op, 0) >= -128 && op_param(op, 0) <= 127, bad);
        CHECK(op_param(op, 1) >= 0 && op_param(op, 2) >= -31 && op_param(op, 2) <= 31, bad);
        break;
    }
    case OP_SQUARED_ERROR: {
        tensor_t b;
        tensor_at(m, op_tensor(op, 1), &b);
        CHECK(b.dtype == PK_DTYPE_INT8 && b.bytes == x.bytes && y.bytes == 1, bad);
        CHECK(op_param(op, 0) >= -128 && op_param(op, 0) <= 127, bad);
        CHECK(op_param(op, 1) >= 0 && op_param(op, 2) >= -31 && op_param(op, 2) <= 31, bad);
        break;
    }
    default:
        return TM_MODEL_ERR_OP_CODE;
    }
    CHECK(*scratch >= 0, bad);
    return TM_MODEL_OK;
}

tm_model_status_t tm_model_load(tm_model_t *m, const uint8_t *pkg, uint32_t size)
{
    if (m == NULL)
        return TM_MODEL_ERR_ARGUMENT;
    memset(m, 0, sizeof *m);
    CHECK(pkg != NULL && ((uintptr_t)pkg & 3u) == 0, TM_MODEL_ERR_ARGUMENT);
    tm_model_t t;
    memset(&t, 0, sizeof t);
    tm_model_status_t s = check_header_and_sections(&t, pkg, size);
    if (s == TM_MODEL_OK)
        s = check_tensors(&t, pkg);
    if (s == TM_MODEL_OK)
        s = check_ops(&t);
    uint32_t at = 0, scratch = 0;
    for (uint32_t i = 0; s == TM_MODEL_OK && i < t.op_count; ++i) {
        op_t op;
        int32_t need = 0;
        op_at(t.ops + at, &op);
        s = prepare_op(&t, &op, &need);
        if ((uint32_t)need > scratch)
            scratch = (uint32_t)need;
        at += op.record_size;
    }
    if (s != TM_MODEL_OK)
        return s;
    t.pkg = pkg;
    t.size = size;
    t.scratch_bytes = (scratch + 3u) & ~3u;
    t.loaded = 1;
    *m = t;
    return TM_MODEL_OK;
}

uint32_t tm_model_arena_bytes(const tm_model_t *m)
{
    if (m == NULL || !m->loaded)
        return 0;
    return ((m->arena_size + 15u) & ~15u) + m->scratch_bytes;
}

/* ---- invoke ---------------------------------------------------------------------------- */

static const int8_t *tensor_ptr(const tm_model_t *m, const tensor_t *t, uint8_t *arena)
{
    return (const int8_t *)(t->constant ? m->data + t->offset : arena + t->offset);
}

static tm_model_status_t run_op(const tm_model_t *m, const op_t *op, uint8_t *arena,
                                const tm_nn_context_t *ctx)
{
    tensor_t xt, yt;
    tensor_at(m, op_tensor(op, 0), &xt);
    tensor_at(m, op_tensor(op, op->inputs), &yt);
    const int8_t *x = tensor_ptr(m, &xt, arena);
    int8_t *y = (int8_t *)(arena + yt.offset);
    tm_nn_status_t s = TM_NN_OK;

    switch (op->code) {
    case OP_CONV:
    case OP_DW:
    case OP_FC: {
        tensor_t wt, bt;
        tensor_at(m, op_tensor(op, 1), &wt);
        const int8_t *w = (const int8_t *)(m->data + wt.offset);
        const int32_t *bias = NULL;
        /* Int8Executor passes zeros when there is no bias; NULL means the same */
        if (op->inputs > 2) {
            tensor_at(m, op_tensor(op, 2), &bt);
            bias = (const int32_t *)(const void *)(m->data + bt.offset);
        }
        const int fc = op->code == OP_FC;
        tm_nn_per_channel_quant_t q;
        q.multiplier = (const int32_t *)(const void *)(m->data + (uint32_t)op_param(op, fc ? 6 : 10));
        q.shift = (const int32_t *)(const void *)(m->data + (uint32_t)op_param(op, fc ? 7 : 11));
        const int32_t cout = last_dim(&yt);
        if (fc) {
            tm_nn_fc_params_t p;
            p.input_zero_point = op_param(op, 0);
            p.output_zero_point = op_param(op, 1);
            p.activation.min = op_param(op, 2);
            p.activation.max = op_param(op, 3);
            const tm_nn_dims_t in = {1, 1, 1, (int32_t)xt.bytes};
            const tm_nn_dims_t f = {cout, 1, 1, (int32_t)xt.bytes};
            const tm_nn_dims_t out = {1, 1, 1, cout};
            s = tm_nn_fully_connected_s8(ctx, &p, &q, &in, x, &f, w, bias, &out, y);
        } else {
            tm_nn_conv_params_t p;
            p.input_zero_point = op_param(op, 0);
            p.output_zero_point = op_param(op, 1);
            p.stride.h = op_param(op, 2);
            p.stride.w = op_param(op, 3);
            p.padding.h = op_param(op, 4);
            p.padding.w = op_param(op, 5);
            p.dilation.h = p.dilation.w = 1;
            p.depth_multiplier = op_param(op, 6);
            p.activation.min = op_param(op, 7);
            p.activation.max = op_param(op, 8);
            const tm_nn_dims_t in = nhwc(&xt), f = nhwc(&wt), out = nhwc(&yt);
            s = op->code == OP_CONV
                    ? tm_nn_conv2d_s8(ctx, &p, &q, &in, x, &f, w, bias, &out, y)
                    : tm_nn_depthwise_conv2d_s8(ctx, &p, &q, &in, x, &f, w, bias, &out, y);
        }
        break;
    }
    case OP_MAXPOOL:
    case OP_AVGPOOL:
    case OP_GAP: {
        tm_nn_pool_params_t p;
        p.stride.h = op_param(op, 0);
        p.stride.w = op_param(op, 1);
        p.padding.h = op_param(op, 2);
        p.padding.w = op_param(op, 3);
        p.filter.h = op_param(op, 4);
        p.filter.w = op_param(op, 5);
        p.activation.min = op_param(op, 6);
        p.activation.max = op_param(op, 7);
        const tm_nn_dims_t in = nhwc(&xt);
        tm_nn_dims_t out = nhwc(&yt);
        if (op->code == OP_GAP) {
            out.n = out.h = out.w = 1;
            out.c = xt.dims[3];
        }
        s = op->code == OP_MAXPOOL ? tm_nn_max_pool_s8(&p, &in, x, &out, y)
                                   : tm_nn_avg_pool_s8(ctx, &p, &in, x, &out, y);
        break;
    }
    case OP_ADD: {
        tensor_t x2t;
        tensor_at(m, op_tensor(op, 1), &x2t);
        tm_nn_add_params_t p;
        p.input1_zero_point = op_param(op, 0);
        p.input2_zero_point = op_param(op, 1);
        p.output_zero_point = op_param(op, 2);
        p.left_shift = op_param(op, 3);
        p.input1_multiplier = op_param(op, 4);
        p.input1_shift = op_param(op, 5);
        p.input2_multiplier = op_param(op, 6);
        p.input2_shift = op_param(op, 7);
        p.output_multiplier = op_param(op, 8);
        p.output_shift = op_param(op, 9);
        p.activation.min = op_param(op, 10);
        p.activation.max = op_param(op, 11);
        s = tm_nn_add_s8(&p, x, tensor_ptr(m, &x2t, arena), y, (int32_t)yt.bytes);
        break;
    }
    case OP_RELU:
    case OP_RELU6:
    case OP_CLIP: {
        /* in place is safe: element k is read before it is written */
        const int32_t lo = op_param(op, 0), hi = op_param(op, 1);
        for (uint32_t k = 0; k < yt.bytes; ++k) {
            const int32_t v = x[k];
            y[k] = (int8_t)(v < lo ? lo : (hi < v ? hi : v));
        }
        break;
    }
    case OP_RESHAPE:
        if ((const int8_t *)y != x)
            memmove(y, x, yt.bytes);
        break;
    case OP_SOFTMAX: {
        tm_nn_softmax_params_t p;
        p.input_scale = float_of((uint32_t)op_param(op, 0));
        p.beta = float_of((uint32_t)op_param(op, 1));
        const int32_t row = last_dim(&xt);
        s = tm_nn_softmax_s8(&p, x, (int32_t)(xt.bytes / (uint32_t)row), row, y);
        break;
    }
    case OP_CONCAT: {
        const uint32_t out_last = (uint32_t)last_dim(&yt);
        const uint32_t outer = yt.bytes / out_last;
        const int32_t zp_out = op_param(op, 0);
        uint32_t offset = 0;
        for (uint32_t i = 0; i < op->inputs; ++i) {
            tensor_t it;
            tensor_at(m, op_tensor(op, i), &it);
            const int8_t *v = tensor_ptr(m, &it, arena);
            const uint32_t last = (uint32_t)last_dim(&it);
            const int32_t zp = op_param(op, 1 + 4 * i), requantize = op_param(op, 2 + 4 * i);
            const int32_t mult = op_param(op, 3 + 4 * i), shift = op_param(op, 4 + 4 * i);
            for (uint32_t o = 0; o < outer; ++o) {
                const int8_t *src = v + (size_t)o * last;
                int8_t *dst = y + (size_t)o * out_last + offset;
                if (!requantize) {
                    memcpy(dst, src, last);
                    continue;
                }
                for (uint32_t k = 0; k < last; ++k) {
                    const int64_t r = (int64_t)zp_out +
                        tm_nn_multiply_by_quantized_multiplier((int32_t)src[k] - zp, mult, shift);
                    dst[k] = (int8_t)(r < -128 ? -128 : (r > 127 ? 127 : r));
                }
            }
            offset += last;
        }
        break;
    }
    case OP_KMEANS:
    case OP_GMM:
    case OP_SQUARED_ERROR: {
        tm_nn_score_params_t p;
        p.output_zero_point = op_param(op, 0);
        p.multiplier = op_param(op, 1);
        p.shift = op_param(op, 2);
        tensor_t t1;
        tensor_at(m, op_tensor(op, 1), &t1);
        if (op->code == OP_SQUARED_ERROR) {
            s = tm_nn_squared_error_s8(&p, x, tensor_ptr(m, &t1, arena), (int32_t)xt.bytes, y);
            break;
        }
        const int32_t *c = (const int32_t *)(const void *)(m->data + t1.offset);
        if (op->code == OP_KMEANS) {
            s = tm_nn_kmeans_score_s8(&p, x, (int32_t)xt.bytes, c, t1.dims[0], y);
        } else {
            tensor_t iv, off;
            tensor_at(m, op_tensor(op, 2), &iv);
            tensor_at(m, op_tensor(op, 3), &off);
            s = tm_nn_gmm_score_s8(&p, x, (int32_t)xt.bytes, c,
                                   (const int32_t *)(const void *)(m->data + iv.offset),
                                   (const int32_t *)(const void *)(m->data + off.offset), t1.dims[0], y);
        }
        break;
    }
    default:
        return TM_MODEL_ERR_NOT_LOADED;
    }
    return s == TM_NN_OK ? TM_MODEL_OK : TM_MODEL_ERR_KERNEL;
}

tm_model_status_t tm_model_invoke(const tm_model_t *m, uint8_t *arena, uint32_t arena_size,
                                  tm_model_layer_cb cb, void *user)
{
    CHECK(m != NULL && m->loaded, TM_MODEL_ERR_NOT_LOADED);
    CHECK(arena != NULL && ((uintptr_t)arena & 3u) == 0 && arena_size >= tm_model_arena_bytes(m),
          TM_MODEL_ERR_ARENA);
    tm_nn_context_t ctx;
    ctx.buf = m->scratch_bytes ? arena + ((m->arena_size + 15u) & ~15u) : NULL;
    ctx.size = (int32_t)m->scratch_bytes;
    uint32_t at = 0;
    for (uint32_t i = 0; i < m->op_count; ++i) {
        op_t op;
        op_at(m->ops + at, &op);
        const tm_model_status_t s = run_op(m, &op, arena, &ctx);
        if (s != TM_MODEL_OK)
            return s;
        if (cb)
            cb(user, i, op.code);
        at += op.record_size;
    }
    return TM_MODEL_OK;
}

static int8_t *tensor_in_arena(const tm_model_t *m, uint16_t index, uint8_t *arena,
                               uint32_t *bytes)
{
    if (bytes)
        *bytes = 0;
    if (m == NULL || !m->loaded || arena == NULL)
        return NULL;
    tensor_t t;
    tensor_at(m, index, &t);
    if (bytes)
        *bytes = t.bytes;
    return (int8_t *)(arena + t.offset);
}

int8_t *tm_model_input(const tm_model_t *m, uint8_t *arena, uint32_t *bytes)
{
    return tensor_in_arena(m, m ? m->input_tensor : 0, arena, bytes);
}

int8_t *tm_model_output(const tm_model_t *m, uint8_t *arena, uint32_t *bytes)
{
    return tensor_in_arena(m, m ? m->output_tensor : 0, arena, bytes);
}

void tm_model_output_quant(const tm_model_t *m, float *scale, int32_t *zero_point)
{
    float s = 1.0f;
    int32_t zp = 0;
    if (m != NULL && m->loaded) {
        const uint8_t *r = m->tensors + (size_t)m->output_tensor * PK_TENSOR_RECORD;
        s = float_of(tm_get_u32(r + 28));
        zp = get_i32(r + 32);
    }
    if (scale)
        *scale = s;
    if (zero_point)
        *zero_point = zp;
}

const char *tm_model_status_name(tm_model_status_t s)
{
    static const char *const names[TM_MODEL_ERR_COUNT_] = {
        "ok", "argument", "truncated", "header.magic", "header.version",
        "header.header_size", "header.total_size", "header.crc32", "header.flags",
        "header.reserved", "header.arena_size alignment", "header.tensor_table_offset",
        "header.tensor_count", "header.op_table_offset", "header.op_count",
        "header.op_table_size", "header.labels_offset", "header.labels_size",
        "header.data_offset", "header.data_size", "data padding", "labels", "labels padding",
        "tensor.dtype", "tensor.rank", "tensor.flags", "tensor.dims", "tensor.bytes",
        "tensor.offset", "tensor.scale", "tensor.zero_point", "tensor.channel_scales",
        "header.arena_size", "header.input_tensor", "header.output_tensor", "op.record_size",
        "op.op", "op.activation", "op.input_count", "op.output_count", "op.tensors",
        "op.channels", "op.multipliers", "op table trailing bytes", "op shapes",
        "not loaded", "arena", "kernel", "impulse section"};
    return (unsigned)s < TM_MODEL_ERR_COUNT_ ? names[s] : "unknown";
}
