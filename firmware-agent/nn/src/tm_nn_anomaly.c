/*
 * tm_nn_anomaly.c — anomaly scores in integers only (tm_nn.h, "Anomaly scores").
 *
 * Integer arithmetic instead of the FPU so that the host (model::Int8Executor links this
 * file) and every device produce the same bits whatever the compiler, the FPU or its
 * rounding mode: no float is touched at inference. Accumulators are int64 and saturate at
 * the limit L of the final requantization, so no sum can overflow and a saturated score
 * still gives the clamped int8 output the exact score would.
 */
#include "tm_nn_internal.h"

/* |table entry| bounds (tm_nn.h): with them one term is < 2^62 and adding it to an
 * accumulator that is <= L < 2^31 cannot leave int64. */
#define TM_NN_SCORE_MAX_CENTER (1L << 20)
#define TM_NN_SCORE_MAX_WEIGHT (1L << 20)

static int score_params_valid(const tm_nn_score_params_t *p)
{
    return p != NULL && tm_nn_zero_point_valid(p->output_zero_point) && p->multiplier >= 0 &&
           p->shift >= -31 && p->shift <= 31;
}

int64_t tm_nn_score_limit(const tm_nn_score_params_t *params)
{
    const int32_t left = params->shift > 0 ? params->shift : 0;
    return (int64_t)(INT32_MAX >> left);
}

int8_t tm_nn_score_requantize_s8(int64_t score, const tm_nn_score_params_t *params)
{
    const int64_t limit = tm_nn_score_limit(params);
    if (score > limit) {
        score = limit;
    } else if (score < -limit) {
        score = -limit;
    }
    const int64_t y = (int64_t)params->output_zero_point +
                      tm_nn_multiply_by_quantized_multiplier((int32_t)score, params->multiplier,
                                                             params->shift);
    return (int8_t)(y < -128 ? -128 : (y > 127 ? 127 : y));
}

/* min over components of clamp(offset_k + sum_d (x_d - c_kd)^2 * w_kd, -L, L);
 * weights == NULL means w = 1, offsets == NULL means 0. */
static tm_nn_status_t nearest(const tm_nn_score_params_t *p, const int8_t *input, int32_t depth,
                              const int32_t *centers, const int32_t *weights,
                              const int32_t *offsets, int32_t components, int8_t *output)
{
    TM_NN_PRECONDITION(score_params_valid(p) && input != NULL && centers != NULL && output != NULL);
    TM_NN_PRECONDITION(depth >= 1 && components >= 1 &&
                       (int64_t)depth * components <= TM_NN_MAX_ELEMENTS);
    const int64_t limit = tm_nn_score_limit(p);
    int64_t best = limit;
    for (int32_t k = 0; k < components; ++k) {
        const int32_t *c = centers + (size_t)k * (size_t)depth;
        const int32_t *w = weights != NULL ? weights + (size_t)k * (size_t)depth : NULL;
        int64_t acc = offsets != NULL ? offsets[k] : 0;
        for (int32_t d = 0; d < depth; ++d) {
            TM_NN_PRECONDITION(c[d] >= -TM_NN_SCORE_MAX_CENTER && c[d] <= TM_NN_SCORE_MAX_CENTER);
            const int64_t diff = (int64_t)input[d] - c[d];
            int64_t term = diff * diff;
            if (w != NULL) {
                TM_NN_PRECONDITION(w[d] >= 0 && w[d] <= TM_NN_SCORE_MAX_WEIGHT);
                term *= w[d];
            }
            acc += term;
            /* every term is >= 0: once above L this component's score saturates at L */
            if (acc > limit) {
                break;
            }
        }
        if (acc < -limit) {
            acc = -limit;
        }
        if (acc < best) {
            best = acc;
        }
    }
    *output = tm_nn_score_requantize_s8(best, p);
    return TM_NN_OK;
}

tm_nn_status_t tm_nn_kmeans_score_s8(const tm_nn_score_params_t *params, const int8_t *input,
                                     int32_t depth, const int32_t *centroids, int32_t clusters,
                                     int8_t *output)
{
    return nearest(params, input, depth, centroids, NULL, NULL, clusters, output);
}

tm_nn_status_t tm_nn_gmm_score_s8(const tm_nn_score_params_t *params, const int8_t *input,
                                  int32_t depth, const int32_t *means, const int32_t *inv_vars,
                                  const int32_t *offsets, int32_t components, int8_t *output)
{
    TM_NN_PRECONDITION(inv_vars != NULL && offsets != NULL);
    return nearest(params, input, depth, means, inv_vars, offsets, components, output);
}

tm_nn_status_t tm_nn_squared_error_s8(const tm_nn_score_params_t *params, const int8_t *a,
                                      const int8_t *b, int32_t size, int8_t *output)
{
    TM_NN_PRECONDITION(score_params_valid(params) && a != NULL && b != NULL && output != NULL);
    TM_NN_PRECONDITION(size >= 1 && size <= TM_NN_MAX_ELEMENTS);
    const int64_t limit = tm_nn_score_limit(params);
    int64_t acc = 0;
    for (int32_t i = 0; i < size && acc <= limit; ++i) {
        const int32_t diff = (int32_t)a[i] - (int32_t)b[i];
        acc += diff * diff;
    }
    *output = tm_nn_score_requantize_s8(acc, params);
    return TM_NN_OK;
}
