#include "KernelScratch.h"

#include "ModelPackageReader.h"
#include "model/Graph.h"

#include "tm_nn_variants.h"

#include <algorithm>

namespace tinyml::deploy {

namespace {

tm_nn_dims_t nhwcOf(const PackageTensor &t)
{
    if (t.shape.size() == 4)
        return {t.shape[0], t.shape[1], t.shape[2], t.shape[3]};
    return {1, 1, 1, qint32(t.bytes)};
}

} // namespace

std::optional<qint64> deviceArenaBytes(const QByteArray &package, QString *error)
{
    auto pkg = ModelPackageReader::read(package, error);
    if (!pkg)
        return std::nullopt;
    qint64 need = 0;
    for (const PackageOp &op : pkg->ops) {
        if (op.inputs.isEmpty() || op.outputs.isEmpty())
            continue;
        const PackageTensor &x = pkg->tensors[op.inputs[0]];
        const PackageTensor &y = pkg->tensors[op.outputs[0]];
        qint64 ref = 0, opt = 0;
        switch (op.op) {
        case model::OpType::Conv2D:
        case model::OpType::DepthwiseConv2D: {
            const tm_nn_dims_t in = nhwcOf(x), f = nhwcOf(pkg->tensors[op.inputs[1]]);
            const bool dw = op.op == model::OpType::DepthwiseConv2D;
            ref = dw ? tm_nn_ref_depthwise_conv2d_s8_get_buffer_size(&in, &f)
                     : tm_nn_ref_conv2d_s8_get_buffer_size(&in, &f);
            opt = dw ? tm_nn_opt_depthwise_conv2d_s8_get_buffer_size(&in, &f)
                     : tm_nn_opt_conv2d_s8_get_buffer_size(&in, &f);
            break;
        }
        case model::OpType::FullyConnected: {
            const tm_nn_dims_t f = {y.shape.isEmpty() ? 0 : y.shape.last(), 1, 1, qint32(x.bytes)};
            ref = tm_nn_ref_fully_connected_s8_get_buffer_size(&f);
            opt = tm_nn_opt_fully_connected_s8_get_buffer_size(&f);
            break;
        }
        case model::OpType::AvgPool2D:
        case model::OpType::GlobalAvgPool: {
            const tm_nn_dims_t out =
                op.op == model::OpType::AvgPool2D
                    ? nhwcOf(y)
                    : tm_nn_dims_t{1, 1, 1, x.shape.size() == 4 ? x.shape[3] : 0};
            ref = tm_nn_ref_avg_pool_s8_get_buffer_size(&out);
            opt = tm_nn_opt_avg_pool_s8_get_buffer_size(&out);
            break;
        }
        default:
            break;
        }
        need = std::max({need, ref, opt});
    }
    return (need + 3) / 4 * 4 + (qint64(pkg->arenaBytes) + 15) / 16 * 16;
}

} // namespace tinyml::deploy
