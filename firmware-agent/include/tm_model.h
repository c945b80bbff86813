/*
 * tm_model.h — device-side reader and interpreter of the model package (TMPK versions 1 and
 * 2, deploy/MODEL_PACKAGE.md).
 *
 * tm_model_load() validates a package exactly as the host's deploy::ModelPackageReader does
 * (same checks, same order, 64-bit offset arithmetic, nothing read before it is bounds
 * checked) plus the shape checks the kernels need, and fills a small tm_model_t that points
 * into the package: the package is run in place (flash or RAM) and must stay unchanged and
 * 4-byte aligned (16 recommended) while the model is used. tm_model_invoke() runs every op
 * with the tm_nn int8 kernels exactly as the host reference model::Int8Executor calls them,
 * so device and host produce the same output bytes.
 *
 * Nothing allocates: all activations live in one caller-owned arena of
 * tm_model_arena_bytes() bytes (4-byte aligned; 16 recommended). The input and output
 * tensors are regions of that arena (tm_model_input() / tm_model_output()). The arena is
 * shared between tensors, so the input region is overwritten by the run: write the input
 * before every invoke.
 *
 * A version-2 package carries an impulse section after the data section: tm_model_load()
 * checks that it is there and sized right (flags HAS_IMPULSE, "TMIP", section_size) and
 * records where it is (tm_model_t.impulse); tm_impulse_load() (impulse/include/tm_impulse.h)
 * validates its contents. A version-1 package loads exactly as before, impulse NULL.
 *
 * Assumes a little-endian target (int32 weights, biases and multipliers are read in place).
 *
 * Usage:
 *     static tm_model_t model;
 *     static uint8_t arena[64 * 1024] __attribute__((aligned(16)));
 *     if (tm_model_load(&model, pkg, pkg_size) != TM_MODEL_OK) { ... }
 *     if (tm_model_arena_bytes(&model) > sizeof arena) { ... }
 *     uint32_t in_bytes;
 *     memcpy(tm_model_input(&model, arena, &in_bytes), sample, in_bytes);
 *     if (tm_model_invoke(&model, arena, sizeof arena, NULL, NULL) != TM_MODEL_OK) { ... }
 *     const int8_t *scores = tm_model_output(&model, arena, &out_bytes);
 */
#ifndef TM_MODEL_H
#define TM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Result of tm_model_load() and tm_model_invoke(): one value per failed check, named after
 *  the package field (MODEL_PACKAGE.md) the host reader's message names. Append-only: the
 *  agent reports these values in error messages. */
typedef enum {
    TM_MODEL_OK = 0,
    TM_MODEL_ERR_ARGUMENT = 1,            /**< null pointer, or package not 4-byte aligned */
    TM_MODEL_ERR_TRUNCATED = 2,           /**< shorter than the 64-byte header */
    TM_MODEL_ERR_MAGIC = 3,
    TM_MODEL_ERR_VERSION = 4,
    TM_MODEL_ERR_HEADER_SIZE = 5,
    TM_MODEL_ERR_TOTAL_SIZE = 6,          /**< header.total_size != the byte count */
    TM_MODEL_ERR_CRC = 7,
    TM_MODEL_ERR_FLAGS = 8,
    TM_MODEL_ERR_RESERVED = 9,
    TM_MODEL_ERR_ARENA_ALIGNMENT = 10,    /**< arena_size not a multiple of 4 */
    TM_MODEL_ERR_TENSOR_TABLE_OFFSET = 11,
    TM_MODEL_ERR_TENSOR_COUNT = 12,
    TM_MODEL_ERR_OP_TABLE_OFFSET = 13,
    TM_MODEL_ERR_OP_COUNT = 14,
    TM_MODEL_ERR_OP_TABLE_SIZE = 15,
    TM_MODEL_ERR_LABELS_OFFSET = 16,
    TM_MODEL_ERR_LABELS_SIZE = 17,
    TM_MODEL_ERR_DATA_OFFSET = 18,
    TM_MODEL_ERR_DATA_SIZE = 19,
    TM_MODEL_ERR_DATA_PADDING = 20,       /**< padding before the data section not zero */
    TM_MODEL_ERR_LABEL = 21,              /**< label_count / a label's length */
    TM_MODEL_ERR_LABEL_PADDING = 22,
    TM_MODEL_ERR_TENSOR_DTYPE = 23,
    TM_MODEL_ERR_TENSOR_RANK = 24,
    TM_MODEL_ERR_TENSOR_FLAGS = 25,
    TM_MODEL_ERR_TENSOR_DIMS = 26,
    TM_MODEL_ERR_TENSOR_BYTES = 27,
    TM_MODEL_ERR_TENSOR_OFFSET = 28,
    TM_MODEL_ERR_TENSOR_SCALE = 29,
    TM_MODEL_ERR_TENSOR_ZERO_POINT = 30,
    TM_MODEL_ERR_CHANNEL_SCALES = 31,
    TM_MODEL_ERR_ARENA_SIZE = 32,         /**< arena_size beyond the activations' end */
    TM_MODEL_ERR_INPUT_TENSOR = 33,
    TM_MODEL_ERR_OUTPUT_TENSOR = 34,
    TM_MODEL_ERR_OP_RECORD_SIZE = 35,
    TM_MODEL_ERR_OP_CODE = 36,
    TM_MODEL_ERR_OP_ACTIVATION = 37,
    TM_MODEL_ERR_OP_INPUT_COUNT = 38,
    TM_MODEL_ERR_OP_OUTPUT_COUNT = 39,
    TM_MODEL_ERR_OP_TENSOR = 40,          /**< tensor index out of range / constant output */
    TM_MODEL_ERR_OP_CHANNELS = 41,
    TM_MODEL_ERR_OP_MULTIPLIERS = 42,
    TM_MODEL_ERR_OP_TABLE_TRAILING = 43,  /**< bytes after the last op record */
    /* device-only checks (the host reader leaves these to Int8Executor::prepare) */
    TM_MODEL_ERR_OP_SHAPE = 44,           /**< tensor shapes/dtypes/params don't fit the kernel */
    /* tm_model_invoke() */
    TM_MODEL_ERR_NOT_LOADED = 45,
    TM_MODEL_ERR_ARENA = 46,              /**< arena null, misaligned or too small */
    TM_MODEL_ERR_KERNEL = 47,             /**< a kernel refused its arguments */
    /* version 2 (tm_model_load) */
    TM_MODEL_ERR_IMPULSE_SECTION = 48,    /**< no "TMIP" at data end, or its section_size
                                               != total_size - (data_offset + data_size) */
    TM_MODEL_ERR_COUNT_ = 49              /**< number of values; not a status */
} tm_model_status_t;

/** A loaded package: pointers into the package bytes, no copies. Fields are internal. */
typedef struct {
    const uint8_t *pkg;
    uint32_t size;
    const uint8_t *tensors;        /**< tensor table */
    const uint8_t *ops;            /**< op table */
    const uint8_t *data;           /**< data section */
    uint32_t data_size;
    uint32_t op_table_size;
    uint32_t arena_size;           /**< header.arena_size */
    uint32_t scratch_bytes;        /**< largest kernel scratch, placed after the activations */
    uint16_t tensor_count;
    uint16_t op_count;
    uint16_t input_tensor;
    uint16_t output_tensor;
    uint16_t label_count;
    uint8_t loaded;
    /* appended for version 2 */
    uint8_t reserved_;
    uint16_t version;              /**< header.version: 1 or 2 */
    const uint8_t *impulse;        /**< impulse section ("TMIP"...), NULL in version 1 */
    uint32_t impulse_size;         /**< its section_size, 0 in version 1 */
} tm_model_t;

/** Called after every op of tm_model_invoke() (e.g. to read a per-layer counter).
 *  op_index counts from 0; op_code is the package op code (model::OpType). */
typedef void (*tm_model_layer_cb)(void *user, uint32_t op_index, uint32_t op_code);

/** Package versions tm_model_load() reads (1 and 2). */
#define TM_MODEL_FORMAT_VERSION_MAX 2u
/** header.flags bit 0 (version 2): the package has an impulse section. */
#define TM_MODEL_FLAG_HAS_IMPULSE 0x1u

/** Validate pkg[0..size) and fill m. On failure m is cleared (not loaded) and the status
 *  names the first failed check, in MODEL_PACKAGE.md's validation order. */
tm_model_status_t tm_model_load(tm_model_t *m, const uint8_t *pkg, uint32_t size);

/** Arena bytes tm_model_invoke() needs: header.arena_size rounded up to 16 plus the kernels'
 *  scratch. 0 when m is not loaded. */
uint32_t tm_model_arena_bytes(const tm_model_t *m);

/** Run every op in package order. arena: tm_model_arena_bytes() bytes or more, 4-byte
 *  aligned, holding the input (tm_model_input()). cb may be NULL. */
tm_model_status_t tm_model_invoke(const tm_model_t *m, uint8_t *arena, uint32_t arena_size,
                                  tm_model_layer_cb cb, void *user);

/** The input tensor inside arena (int8, graph shape, NHWC); *bytes receives its size.
 *  NULL when m is not loaded or arena is NULL. */
int8_t *tm_model_input(const tm_model_t *m, uint8_t *arena, uint32_t *bytes);

/** The output tensor inside arena (int8), valid after tm_model_invoke(). */
int8_t *tm_model_output(const tm_model_t *m, uint8_t *arena, uint32_t *bytes);

/** Scale and zero point of the output tensor (for dequantising results). */
void tm_model_output_quant(const tm_model_t *m, float *scale, int32_t *zero_point);

/** Nonzero when tm_model_load() accepts and tm_model_invoke() runs op code `code` (a package
 *  op code, model::OpType). This is the one list of the interpreter's ops: INFO MODEL_FORMAT
 *  reports it, and the host refuses to flash a package using any other code. All supported
 *  codes are below 256 (INFO carries them as u8). */
int tm_model_op_supported(uint32_t code);

/** Short constant name of a status ("crc", "tensor.dims", ...). */
const char *tm_model_status_name(tm_model_status_t s);

#ifdef __cplusplus
}
#endif

#endif /* TM_MODEL_H */
